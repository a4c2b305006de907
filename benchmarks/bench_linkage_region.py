"""Linkage on the synthetic region (all partners, link and dedupe) beside plain Splink.

For each size: generate the region (seed 42), ingest every extract, then link it with
sectorlink and with the plain set-up in the same run, scoring both against the region's
truth (all pairs and cross-source pairs). Link time is measured in a child process so
its peak memory is its own. Figures go to docs/benchmarks.md, section "linkage_region".

    .venv/bin/python benchmarks/bench_linkage_region.py                  # 20k and 200k
    .venv/bin/python benchmarks/bench_linkage_region.py --people 20000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import update_section

SEED = 42


@dataclass
class Row:
    people: int
    records: int
    setup: str
    precision: float
    recall: float
    f1: float
    f1_cross: float
    seconds: float
    peak_gib: float


def build_region(people: int, workdir: Path) -> tuple[Path, Path]:
    from sectorlink.demo import ingest_region
    from sectorlink.synth import generate_region

    region = workdir / f"region-{people}"
    generate_region(region, people=people, seed=SEED, progress=False)
    warehouse = workdir / f"hub-{people}.duckdb"
    ingest_region(region, warehouse)
    return warehouse, region / "truth" / "person_records.csv"


def _child(job: str, warehouse: str, out: str) -> None:
    """Run one set-up in this (child) process and write its clusters and timings."""
    from sectorlink.linkage import link
    from sectorlink.linkage.baseline import run_baseline

    start = time.perf_counter()
    if job == "sectorlink":
        result = link(warehouse)
        seconds = time.perf_counter() - start
        con = duckdb.connect(warehouse, read_only=True)
        con.execute(
            "COPY (SELECT source, record_id, person_key FROM person_index) "
            f"TO '{out}' (FORMAT parquet)"
        )
        extra = {"timings": result.timings}
    else:
        con = duckdb.connect(warehouse, read_only=True)
        baseline = run_baseline(con)
        seconds = baseline.seconds
        con.register("clusters", baseline.clusters)
        con.execute(
            f"COPY (SELECT source, record_id, cluster_id AS person_key FROM clusters) "
            f"TO '{out}' (FORMAT parquet)"
        )
        extra = {}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    Path(out + ".json").write_text(json.dumps({"seconds": seconds, "peak_gib": peak, **extra}))


def run_setup(job: str, warehouse: Path, out: Path) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=_child, args=(job, str(warehouse), str(out)))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"{job} failed with exit code {proc.exitcode}")
    stats: dict[str, float] = json.loads(Path(str(out) + ".json").read_text())
    return stats


def score(clusters: Path, truth: Path) -> tuple[int, float, float, float, float]:
    from sectorlink.linkage.evaluate import pair_scores

    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE scored AS SELECT c.source, c.person_key, t.person_id
            FROM read_parquet('{clusters}') c
            JOIN read_csv('{truth}', all_varchar = true) t USING (source, record_id)"""
    )
    overall, cross = pair_scores(con, "scored")
    records = int(con.execute("SELECT count(*) FROM scored").fetchall()[0][0])
    return records, overall.precision, overall.recall, overall.f1, cross.f1


def bench(people: int, workdir: Path) -> list[Row]:
    warehouse, truth = build_region(people, workdir)
    rows = []
    for job in ("plain Splink", "sectorlink"):
        out = workdir / f"{job.replace(' ', '_')}-{people}.parquet"
        stats = run_setup(job, warehouse, out)
        records, p, r, f, fx = score(out, truth)
        rows.append(Row(people, records, job, p, r, f, fx, stats["seconds"], stats["peak_gib"]))
        print(asdict(rows[-1]), stats.get("timings", ""), flush=True)
    return rows


def markdown(rows: list[Row]) -> str:
    lines = [
        "Run: `.venv/bin/python benchmarks/bench_linkage_region.py [--people N ...]`. The "
        f"synthetic region (`sectorlink.synth.generate_region`, seed {SEED}) with every "
        "partner's extract ingested; both set-ups link all person records (link and "
        "dedupe) and are scored against `truth/person_records.csv`. Seconds: the whole "
        "linkage (sectorlink: standardise, plan, train, score, cluster, keys, publish); "
        "peak: the linking process's peak resident memory.",
        "",
        "| people | records | set-up | precision | recall | F1 | F1 cross-source "
        "| seconds | time ratio | peak GiB |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    plain = {r.people: r.seconds for r in rows if r.setup == "plain Splink"}
    for r in rows:
        ratio = f"{r.seconds / plain[r.people]:.2f}" if r.people in plain else ""
        lines.append(
            f"| {r.people:,} | {r.records:,} | {r.setup} | {r.precision:.4f} | {r.recall:.4f} "
            f"| **{r.f1:.4f}** | {r.f1_cross:.4f} | {r.seconds:.1f} | {ratio} | {r.peak_gib:.2f} |"
        )
    lines += [
        "",
        "Time ratio: sectorlink's time over the plain set-up's for the same region "
        "(targets: F1 >= 0.985 overall and >= 0.98 cross-source at 20,000 people; "
        "F1 >= 0.98 within twice the plain time at 200,000).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--workdir", type=Path, default=None, help="keep the regions here")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-region-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for people in args.people:
            rows += bench(people, workdir)
    text = markdown(rows)
    update_section(
        "linkage_region", "Linkage: the synthetic region against a plain Splink set-up", text
    )
    print(text)


if __name__ == "__main__":
    main()
