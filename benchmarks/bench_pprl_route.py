"""The privacy-preserving partner route end to end: `sectorlink demo --pprl` per stage,
and what leaves each partner.

The demo generates a region, each partner encodes its extracts at home (encodings, its
rows without identifiers, a manifest), the hub loads the packages, links the encodings
with the bloom engine and runs every analysis. Baselines measured in the same run: plain
ingest of the same extracts into a clear warehouse (what the encode and load stages
replace), and the partners' raw extract files (what leaves a partner in the clear).

    .venv/bin/python benchmarks/bench_pprl_route.py --people 20000 --seed 42
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import stamp, update_section

from sectorlink.demo import ingest_region, run_demo
from sectorlink.insights import InsightRun
from sectorlink.pprl.load import load_encoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-pprl-route-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        result = run_demo(root / "demo", people=args.people, seed=args.seed, pprl=True)
        total = time.perf_counter() - started
        region = result.region_dir
        packages = sorted((root / "demo" / "encoded").glob("*.enc.manifest.json"))

        start = time.perf_counter()  # baseline: the same extracts ingested in the clear
        ingest_region(region, root / "clear.duckdb")
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()  # the hub's load alone, into a fresh warehouse
        load_encoded(packages, warehouse=root / "reload.duckdb")
        load_s = time.perf_counter() - start

        manifest = json.loads((region / "manifest.json").read_text())
        raw: dict[str, int] = {}
        for e in manifest["extracts"]:
            raw[e["source"]] = raw.get(e["source"], 0) + (region / e["file"]).stat().st_size
        rows = []
        for path in packages:
            m = json.loads(path.read_text())
            enc = int(m["encodings"]["bytes"])
            tables = sum(int(t["bytes"]) for t in m["tables"].values())
            records = int(m["encodings"]["rows"])
            table_rows = sum(int(t["rows"]) for t in m["tables"].values())
            rows.append(
                (
                    m["source"],
                    records,
                    table_rows,
                    enc,
                    tables,
                    path.stat().st_size,
                    raw[m["source"]],
                )
            )
    ran = [r.analysis.name for r in result.insights if isinstance(r, InsightRun)]
    not_ran = [str(r) for r in result.insights if not isinstance(r, InsightRun)]
    s = result.seconds
    encode_s = s.get("encode", 0.0)
    stages = " | ".join(f"{k} {v:,.1f} s" for k, v in s.items())
    lines = [
        stamp(),
        "",
        f"`sectorlink demo --pprl` on a region of {args.people:,} people (seed {args.seed}), "
        f"{total:,.0f} s end to end: {stages}. The `link` stage holds the hub's load of "
        "every package and the bloom linkage; the load alone, into a fresh warehouse, took "
        f"{load_s:,.1f} s. Baseline in the same run: plain ingest of the same extracts "
        f"{ingest_s:,.1f} s, so the partners' encoding (one after another here; each partner "
        f"runs its own) is {encode_s / ingest_s:.2f}x that ingest and the hub's load "
        f"{load_s / ingest_s:.2f}x.",
        "",
        f"Analyses run on the hub: {', '.join(ran)} ({len(ran)} of {len(result.insights)})"
        + (f"; nothing published: {'; '.join(not_ran)}" if not_ran else "")
        + ".",
        "",
        "What leaves each partner (bytes; rows = its model rows without identifiers, all "
        "tables) beside its raw extract files:",
        "",
        "| partner source | records | rows | encodings | rows files | manifest | package total "
        "| raw extracts | package / raw |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for source, records, table_rows, enc, tables, man, raw_bytes in rows:
        package = enc + tables + man
        lines.append(
            f"| {source} | {records:,} | {table_rows:,} | {enc:,} | {tables:,} | {man:,} | "
            f"{package:,} | {raw_bytes:,} | {package / raw_bytes:.2f} |"
        )
    totals = [sum(r[i] for r in rows) for i in range(1, 7)]
    lines.append(
        f"| all | {totals[0]:,} | {totals[1]:,} | {totals[2]:,} | {totals[3]:,} | {totals[4]:,} "
        f"| {totals[2] + totals[3] + totals[4]:,} | {totals[5]:,} | "
        f"{(totals[2] + totals[3] + totals[4]) / totals[5]:.2f} |"
    )
    lines += [
        "",
        "Re-run: `.venv/bin/python benchmarks/bench_pprl_route.py --people 20000 --seed 42`.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_doc:
        update_section("pprl-route", "Privacy-preserving partner route end to end", body)


if __name__ == "__main__":
    main()
