"""mlp-measures and value-case on linked synthetic regions: the time of each run against
service-overlap's (the baseline, in the same run on the same hub), and the MLP measures
before the gate against truth/mlp.csv.

    .venv/bin/python -m benchmarks.bench_outcomes --hub /tmp/demo20k [--hub DIR ...]

A hub folder holds region/ (with truth/ and geography/), warehouse.duckdb and registry.db
made by `sectorlink demo` (read-only here: both are copied, and the geography is loaded
into the copy when the warehouse lacks it). Results go to the `outcomes` section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks._report import update_section
from sectorlink.governance import get_profile
from sectorlink.insights import build_context, get_analysis, load_geography, run_analysis
from sectorlink.insights.context import sources_read
from sectorlink.insights.mlp import DOMAINS, build_cases, measure_totals
from sectorlink.registry import HUB_NAME, open_registry
from sectorlink.warehouse import connect

ANALYSES = ("service-overlap", "mlp-measures", "value-case")


def _prepare(hub: Path, work: Path) -> tuple[Path, Path]:
    warehouse, registry = work / "warehouse.duckdb", work / "registry.db"
    shutil.copy(hub / "warehouse.duckdb", warehouse)
    shutil.copy(hub / "registry.db", registry)
    con = connect(warehouse)
    try:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if "geo_area" not in tables:
            geo = hub / "region" / "geography"
            load_geography(con, geo / "postcodes.csv", geo / "small_areas.geojson")
    finally:
        con.close()
    return warehouse, registry


def _truth_check(hub: Path, warehouse: Path) -> tuple[int, int]:
    """(measures that equal the truth, measures compared), before the gate."""
    from sectorlink.governance import Grant

    analysis = get_analysis("mlp-measures")
    probe = duckdb.connect(":memory:")
    probe.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
    sources = tuple(sources_read(probe, analysis))
    probe.close()
    grant = Grant(hub.name, analysis.purpose, "read", sources, {}, 0, "")
    ctx = build_context(warehouse, analysis, grant, profile=get_profile("suppress-1-7-round-5"))
    try:
        build_cases(ctx)
        got = measure_totals(ctx.con)
    finally:
        ctx.con.close()
    need = " OR ".join(DOMAINS)
    truth = (
        duckdb.sql(
            f"""SELECT count(*) AS screened, count(*) FILTER (WHERE {need}) AS with_need,
               count(*) FILTER (WHERE referred) AS referred,
               count(*) FILTER (WHERE legal_intake) AS legal_help,
               count(*) FILTER (WHERE outcome = 'need_addressed') AS resolved,
               round(coalesce(sum(financial_benefit), 0), 2) AS benefit_won
        FROM read_csv('{hub / "region" / "truth" / "mlp.csv"}', header=true)"""
        )
        .df()
        .iloc[0]
    )
    same = sum(round(got[k], 2) == round(float(truth[k]), 2) for k in truth.index)
    return same, len(truth.index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hub", action="append", type=Path, required=True)
    args = parser.parse_args()
    rows = []
    for hub in args.hub:
        with tempfile.TemporaryDirectory(prefix="bench-outcomes-") as tmp:
            warehouse, registry_path = _prepare(hub, Path(tmp))
            people = (
                duckdb.connect(str(warehouse), read_only=True)
                .execute("SELECT count(DISTINCT person_key) FROM person_index")
                .fetchall()[0][0]
            )
            times = {}
            registry = open_registry(f"sqlite:///{registry_path}")
            try:
                # warm-up (imports, the gate's solver): not timed, so the baseline is fair
                run_analysis(ANALYSES[0], warehouse=warehouse, registry=registry,
                             organisation=HUB_NAME)  # fmt: skip
                for name in ANALYSES:
                    start = time.perf_counter()
                    run_analysis(name, warehouse=warehouse, registry=registry,
                                 organisation=HUB_NAME)  # fmt: skip
                    times[name] = time.perf_counter() - start
            finally:
                registry.close()
            same, compared = _truth_check(hub, warehouse)
        base = times["service-overlap"]
        rows.append(
            f"| {hub} | {people:,} | {base:.1f} s | {times['mlp-measures']:.1f} s "
            f"({times['mlp-measures'] / base:.2f}x) | {times['value-case']:.1f} s "
            f"({times['value-case'] / base:.2f}x) | {same} of {compared} |"
        )
        print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    body = (
        "Each analysis run whole (`run_analysis`: one authorise call, the context, the gate, "
        "no release folder), on a copy of each hub, after one untimed warm-up run; "
        "service-overlap is the baseline measured in the same run. MLP truth: the NCMLP "
        "measures before the gate (screened, with a need, referred, legal help, resolved, "
        "benefit won) equal to truth/mlp.csv. "
        f"Load average when done: {load:.1f} (2 cores shared with other work).\n\n"
        "| hub | linked people | service-overlap | mlp-measures | value-case | MLP truth |\n"
        "| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows)
    )
    update_section("outcomes", "Outcomes: mlp-measures and value-case", body)


if __name__ == "__main__":
    main()
