"""Linkage at scale: the synthetic region at 1,000,000 people, end to end.

Generates the region (seed 42) and ingests it (not timed), then links it in a child
process and reports the time of each step (standardise, plan, train, score, cluster,
keys, publish), the end-to-end time, the linking process's peak resident memory, and
F1 against the truth. Targets: <= 5 minutes and <= 8 GiB on the 2-core machine.
Figures go to docs/benchmarks.md, section "linkage_scale".

    .venv/bin/python benchmarks/bench_linkage_scale.py [--people 1000000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import update_section
from bench_linkage_region import build_region, run_setup, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep the region here, and reuse it"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        warehouse, truth = build_region(
            args.people, "default", workdir, reuse=args.workdir is not None
        )
        prepared = time.perf_counter() - start
        out = workdir / f"sectorlink-{args.people}.parquet"
        stats = run_setup("sectorlink duckdb", warehouse, out)
        records, precision, recall, f1, f1_cross = score(out, truth)
    timings = stats.get("timings", {})
    assert isinstance(timings, dict)
    steps = " · ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    seconds = float(stats["seconds"])
    peak = float(stats["peak_gib"])
    text = "\n".join(
        [
            "Run: `.venv/bin/python benchmarks/bench_linkage_scale.py`. The synthetic region "
            f"at {args.people:,} people ({records:,} person records from every partner), "
            f"generated and ingested first ({prepared:.0f} s, not counted), then linked "
            "by `sectorlink.linkage.link` on DuckDB in a process of its own.",
            "",
            "| people | records | end to end | peak memory | F1 | F1 cross-source "
            "| precision | recall |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {args.people:,} | {records:,} | **{seconds / 60:.1f} min** ({seconds:.0f} s) "
            f"| **{peak:.1f} GiB** | {f1:.4f} | {f1_cross:.4f} | {precision:.4f} | {recall:.4f} |",
            "",
            f"Steps: {steps}.",
            "",
            "Targets: end to end (standardise, train, predict, cluster) <= 5 minutes and <= 8 GiB.",
        ]
    )
    update_section("linkage_scale", "Linkage at scale: 1,000,000 people end to end", text)
    print(text)


if __name__ == "__main__":
    main()
