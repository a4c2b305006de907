"""Synthetic region generation: wall time and peak memory at 20,000 and 1,000,000 people.

Each size runs in a fresh child process that generates the region into a temporary folder
and reports its own peak RSS (getrusage maxrss), so one run's memory never hides another's.
Results go to the `synth` section of docs/benchmarks.md.

    .venv/bin/python -m benchmarks.bench_synth [--sizes 20000 1000000] [--seed 42] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._report import update_section

CHILD = """
import json, resource, sys, time
from pathlib import Path
from sectorlink.synth import generate_region
from sectorlink.synth.config import CHUNK_PEOPLE
out, people, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
started = time.perf_counter()
manifest = generate_region(out, people=people, seed=seed, force=True, progress=False)
seconds = time.perf_counter() - started
files = [p for p in out.rglob("*") if p.is_file()]
print(json.dumps({
    "seconds": seconds,
    "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "extract_rows": sum(e.rows for e in manifest.extracts),
    "extract_files": len(manifest.extracts),
    "bytes": sum(p.stat().st_size for p in files),
    "chunk_people": CHUNK_PEOPLE,
}))
"""


def measure(people: int, seed: int, out: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), str(people), str(seed)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, default=None, help="Keep the regions under DIR.")
    args = parser.parse_args()
    rows = []
    chunk = 0
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        for people in args.sizes:
            out = base / f"region-{people}"
            figures = measure(people, args.seed, out)
            chunk = int(figures["chunk_people"])
            print(
                f"{people:,} people: {figures['seconds']:.1f} s, "
                f"{figures['peak_kib'] / 2**20:.2f} GiB peak",
                flush=True,
            )
            seconds, gib = figures["seconds"], figures["peak_kib"] / 2**20
            extract_rows = figures["extract_rows"]
            rows.append(
                f"| {people:,} | {seconds:.1f} s | {gib:.2f} GiB | {extract_rows:,.0f} "
                f"| {extract_rows / seconds:,.0f} | {figures['bytes'] / 2**20:,.0f} MiB |"
            )
            if args.keep is None:
                shutil.rmtree(out, ignore_errors=True)
    body = "\n".join(
        [
            "`sectorlink synth`: population, map, events, 16 extract files of 10 partners with "
            f"their specs, truth and geography, written a chunk of about {chunk:,} people at a "
            f"time (seed {args.seed}, default mess).",
            "",
            "| people | wall time | peak memory (RSS) | extract rows | extract rows/s "
            "| output on disk |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            "Re-run: `.venv/bin/python -m benchmarks.bench_synth` (each size in a fresh child "
            "process; peak memory is that process's `getrusage` maxrss). The machine is shared, so "
            "wall times are upper bounds.",
        ]
    )
    update_section("synth", "Synthetic region generation", body)


if __name__ == "__main__":
    main()
