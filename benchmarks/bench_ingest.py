"""Ingest throughput and peak memory on a synthetic region (default 1,000,000 people).

Targets (foundation issue): >= 300,000 source rows per second and <= 4 GiB peak memory on
the 2-core machine. The region is generated once (and reused if present); each run ingests
every extract into a fresh warehouse in a child process, whose peak RSS is measured.

    .venv/bin/python -m benchmarks.bench_ingest [--people 1000000] [--region DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._report import update_section

CHILD = """
import json, sys, time
from pathlib import Path
from sectorlink.demo import ingest_region
region, warehouse = Path(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
results = ingest_region(region, warehouse)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows": sum(r.rows_read for r in results),
                  "rejected": sum(r.rows_rejected for r in results), "files": len(results),
                  "bytes": sum(r.file.stat().st_size for r in results)}))
"""


def ensure_region(region: Path, people: int, seed: int) -> float:
    if (region / "manifest.json").exists():
        manifest = json.loads((region / "manifest.json").read_text())
        if manifest.get("people") == people:
            return float("nan")
    from sectorlink.synth import generate_region

    started = time.perf_counter()
    generate_region(region, people=people, seed=seed, force=True, progress=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--region", type=Path, default=None)
    args = parser.parse_args()
    region = args.region or Path(tempfile.gettempdir()) / f"sectorlink-bench-region-{args.people}"
    ensure_region(region, args.people, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "bench.duckdb"
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(region), str(warehouse)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        warehouse_mib = warehouse.stat().st_size / 2**20
    rate = figures["rows"] / figures["seconds"]
    body = "\n".join(
        [
            f"Region: {args.people:,} people (seed {args.seed}), {figures['files']} extract files, "
            f"{figures['bytes'] / 2**20:,.0f} MiB of source files.",
            "",
            "| measure | value | target |",
            "| --- | --- | --- |",
            f"| source rows ingested | {figures['rows']:,} | |",
            f"| rows rejected (kept in `rejects`) | {figures['rejected']:,} | |",
            f"| wall time | {figures['seconds']:.1f} s | |",
            f"| throughput | {rate:,.0f} rows/s | >= 300,000 rows/s |",
            f"| peak memory (RSS of the ingest process) | {peak_gib:.2f} GiB | <= 4 GiB |",
            f"| warehouse size | {warehouse_mib:,.0f} MiB | |",
            "",
            "Re-run: `.venv/bin/python -m benchmarks.bench_ingest --people 1000000`.",
        ]
    )
    update_section("ingest", "Ingest throughput and memory", body)
    print(body)


if __name__ == "__main__":
    main()
