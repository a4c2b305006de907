"""Linkage accuracy and speed on the public benchmarks, beside a plain Splink set-up.

Each data set is loaded into its own warehouse, linked by sectorlink (default settings,
and `--lenient`: every contradiction trained, no coherence check) and by the plain
set-up of `sectorlink.linkage.baseline`, in the same run on the same machine. Figures
go to docs/benchmarks.md, section "linkage".

    .venv/bin/python benchmarks/bench_linkage.py            # FEBRL4, FEBRL3, historical_50k
    .venv/bin/python benchmarks/bench_linkage.py febrl4     # one data set
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import update_section

from sectorlink.linkage import evaluate, link
from sectorlink.linkage.baseline import run_baseline
from sectorlink.linkage.benchmarks import load_benchmark
from sectorlink.warehouse import connect

DATASETS = ("febrl4", "febrl3", "historical_50k")


@dataclass
class Row:
    dataset: str
    setup: str
    records: int
    precision: float
    recall: float
    f1: float
    f1_cross: float | None
    seconds: float


def score_clusters(
    con: duckdb.DuckDBPyConnection, clusters: str, truth: str
) -> tuple[float, float, float]:
    """Pairwise P, R, F1 of a (source, record_id, cluster_id) table against the truth."""
    row = con.execute(
        f"""WITH j AS (SELECT c.cluster_id, t.person_id FROM {clusters} c JOIN {truth} t
                       USING (source, record_id)),
            pp AS (SELECT sum(n * (n - 1) / 2) v FROM
                   (SELECT count(*) n FROM j GROUP BY cluster_id)),
            tp AS (SELECT sum(n * (n - 1) / 2) v FROM
                   (SELECT count(*) n FROM j GROUP BY person_id)),
            ok AS (SELECT sum(n * (n - 1) / 2) v FROM
                   (SELECT count(*) n FROM j GROUP BY cluster_id, person_id))
            SELECT ok.v / pp.v, ok.v / tp.v, 2 * ok.v / (pp.v + tp.v) FROM pp, tp, ok"""
    ).fetchall()[0]
    return float(row[0]), float(row[1]), float(row[2])


def bench(dataset: str, workdir: Path) -> list[Row]:
    rows: list[Row] = []
    for setup, strict in (("sectorlink", True), ("sectorlink --lenient", False)):
        path = workdir / f"{dataset}-{int(strict)}.duckdb"
        con = connect(path)
        truth_csv = workdir / f"{dataset}-truth.csv"
        load_benchmark(dataset, con).to_csv(str(truth_csv))
        con.close()
        start = time.perf_counter()
        result = link(path, strict_contradictions=strict)
        seconds = time.perf_counter() - start
        con = connect(path)
        ev = evaluate(con, truth_csv, with_errors=False)
        cross = ev.cross_source.f1 if ev.cross_source.true_pairs else None
        rows.append(
            Row(
                dataset,
                setup,
                result.records,
                ev.overall.precision,
                ev.overall.recall,
                ev.overall.f1,
                cross,
                seconds,
            )
        )
        if strict:
            baseline = run_baseline(con)
            con.register("baseline_clusters", baseline.clusters)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE sl_truth_b AS "
                f"SELECT * FROM read_csv('{truth_csv}', all_varchar = true)"
            )
            p, r, f = score_clusters(con, "baseline_clusters", "sl_truth_b")
            rows.append(
                Row(dataset, "plain Splink", result.records, p, r, f, None, baseline.seconds)
            )
        con.close()
        print(rows[-1], flush=True)
    return rows


def markdown(rows: list[Row]) -> str:
    lines = [
        "Run: `.venv/bin/python benchmarks/bench_linkage.py`. Pairwise precision, recall and "
        "F1 over all within-cluster pairs (cross-source pairs only where there are two "
        "sources); seconds are the whole run (standardise, train, score, cluster, publish) "
        "for sectorlink, and input, train, score and cluster for the plain set-up.",
        "",
        "| data set | set-up | records | precision | recall | F1 | F1 cross-source | seconds |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        cross = f"{r.f1_cross:.4f}" if r.f1_cross is not None else ""
        lines.append(
            f"| {r.dataset} | {r.setup} | {r.records:,} | {r.precision:.4f} | {r.recall:.4f} "
            f"| **{r.f1:.4f}** | {cross} | {r.seconds:.1f} |"
        )
    lines += [
        "",
        "The plain set-up: names and dates lower-cased, Splink's default comparisons "
        "(`NameComparison`, `DateOfBirthComparison`, `PostcodeComparison`, Jaro-Winkler "
        "on the address, exact matches otherwise), blocking on name, birth date, family "
        "name + postcode and identifiers, the standard training recipe, connected "
        "components at 0.9 (`sectorlink/linkage/baseline.py`).",
        "",
        "FEBRL's duplicates are made by replacing whole values at random: 6.5% of FEBRL4's "
        "true pairs have the same birth date and first names that share no initial (the "
        "pattern of twins), 3% birth years 15+ apart. sectorlink measures how often "
        "matches show each pattern, and the household signature (clearly different first "
        "names, same family name and address), on pairs sharing an identifier "
        "(`sectorlink/linkage/learned.py`): rarely on the hub's data, so there they stay "
        "strong contradictions; often on FEBRL, so there they are trained. historical_50k "
        "has no identifier, so the shares come from likely matches sharing no place, the "
        "contradictions stay strong and the household level cancels shared surnames and "
        "addresses: its F1 fell from 0.8503 to 0.8249 with that change (issue 16). The "
        "run's messages give the shares. FEBRL's "
        "`soc_sec_id` (no valid SSN) is loaded as the records' own person identifier "
        "(`local_person_id`), which sectorlink compares (exact, one keystroke apart) and "
        "blocks on; the plain set-up does not use it. `--lenient` trains every "
        "contradiction, national numbers included, and skips the coherence check.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("datasets", nargs="*", help=f"any of {', '.join(DATASETS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.datasets) - set(DATASETS)
    if unknown:
        parser.error(f"unknown data set(s): {', '.join(sorted(unknown))}")
    args.datasets = args.datasets or list(DATASETS)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-linkage-") as tmp:
        for dataset in args.datasets:
            rows += bench(dataset, Path(tmp))
    update_section(
        "linkage", "Linkage: public benchmarks against a plain Splink set-up", markdown(rows)
    )
    print(markdown(rows))


if __name__ == "__main__":
    main()
