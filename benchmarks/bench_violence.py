"""Violence hotspots against the synthetic region's truth, and what a run costs.

For each size: generate the region (seed 42), register, ingest, link and load its
geography (not timed), then run `violence-hotspots` and, as the baseline in the same
run, `service-overlap`, each in a process of its own (wall time and peak resident memory).
Scored against `truth/violence_hotspots.csv` and `truth/assaults.csv`:

* hotspot recall (each planted hotspot's small area flagged) and false hotspot areas, for
  the analysis' hotspot test and for Gi* alone (hot clusters);
* peak hours found: the hotspot's published 4-hour peak window has at least 3 of its
  hours inside the planted window;
* incident pairwise F1: pairs of events (A&E, ambulance, police incident) put in one
  incident, against pairs sharing an `assault_id`;
* the share of A&E assaults unknown to the police, overall and per hotspot (the area's
  estimate against the hotspot's `share_ae_not_reported`).

Run: `.venv/bin/python benchmarks/bench_violence.py [--people 20000 200000]`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = Path("/tmp/violence-bench")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def build(folder: Path, people: int, seed: int = 42, preset: str = "default") -> None:
    """Generate, register, ingest, link and load the geography (as the tests' hub does)."""
    from sectorlink.demo import ingest_region, link_region
    from sectorlink.insights import load_geography
    from sectorlink.registry import open_registry, register_region
    from sectorlink.synth import generate_region
    from sectorlink.warehouse import connect

    if (folder / "ready").exists():
        return
    region = folder / "region"
    generate_region(region, people=people, seed=seed, preset=preset, force=True, progress=False)
    registry = open_registry(f"sqlite:///{folder}/registry.db")
    try:
        register_region(registry, region / "manifest.json")
        ingest_region(region, folder / "warehouse.duckdb", registry=registry)
        link_region(folder / "warehouse.duckdb", region, registry, folder / "linkage")
    finally:
        registry.close()
    con = connect(folder / "warehouse.duckdb")
    try:
        geography = region / "geography"
        load_geography(con, geography / "postcodes.csv", geography / "small_areas.geojson")
    finally:
        con.close()
    (folder / "ready").touch()


def analyse(folder: Path, name: str, out: Path) -> dict[str, Any]:
    """Run one analysis in a child process; its wall time and peak memory."""
    code = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "from sectorlink.insights import run_analysis\n"
        "from sectorlink.registry import HUB_NAME, open_registry\n"
        "folder = Path(sys.argv[1])\n"
        "registry = open_registry(f'sqlite:///{folder}/registry.db')\n"
        "started = time.perf_counter()\n"
        "run = run_analysis(sys.argv[2], warehouse=folder / 'warehouse.duckdb',\n"
        "    registry=registry, organisation=HUB_NAME, out_dir=Path(sys.argv[3]))\n"
        "seconds = time.perf_counter() - started\n"
        "import resource\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'seconds': seconds, 'peak_kib': peak,\n"
        "    'key_figures': run.summary['key_figures']}))\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder), name, str(out)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = wall
    # The child's own peak resident memory (Linux: KiB), read by the child at its end.
    result["peak_gib"] = result.pop("peak_kib") / 2**20
    return result


def _pairs(frame: pd.DataFrame, key: str) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for _, group in frame.groupby(key):
        ids = sorted(group["source"] + ":" + group["event_id"])
        out.update(itertools.combinations(ids, 2))
    return out


def incident_f1(folder: Path) -> dict[str, float]:
    truth = pd.read_csv(folder / "region" / "truth" / "assaults.csv", dtype=str)
    parts = []
    for column, source in (
        ("ae_record_id", "ae_source"),
        ("police_incident_id", "police_source"),
        ("ambulance_incident_id", "ambulance_source"),
    ):
        part = truth[truth[column].notna()][["assault_id", source, column]]
        parts.append(part.set_axis(["assault_id", "source", "event_id"], axis=1))
    events = pd.concat(parts, ignore_index=True)
    con = duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
    try:
        ours = con.execute("SELECT * FROM violence_incident_event").df()
    finally:
        con.close()
    known = set(events["source"] + ":" + events["event_id"])
    true_pairs = _pairs(events, "assault_id")
    found = {p for p in _pairs(ours, "incident_id") if p[0] in known or p[1] in known}
    hit = len(true_pairs & found)
    precision = hit / len(found) if found else 0.0
    recall = hit / len(true_pairs) if true_pairs else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hit else 0.0
    missing = len(known - set(ours["source"] + ":" + ours["event_id"]))
    return {"precision": precision, "recall": recall, "f1": f1, "events_missing": missing}


def _in_window(hour: int, start: int, end: int) -> bool:
    return (start <= hour < end) if start < end else (hour >= start or hour < end)


def score_hotspots(folder: Path, out: Path, figures: dict[str, Any]) -> dict[str, Any]:
    truth = pd.read_csv(folder / "region" / "truth" / "violence_hotspots.csv", dtype=str)
    planted = truth[truth["hotspot_id"].str.startswith("H")]
    table = pd.read_csv(out / "hotspots.csv", dtype=str).set_index("area")
    flagged = set(table.index[table["hotspot"] == "True"])
    clusters = set(table.index[table["hot_cluster"] == "True"])
    areas = set(planted["small_area"])
    rows = []
    for spot in planted.itertuples(index=False):
        found = spot.small_area in flagged
        peak = table.at[spot.small_area, "peak_hours"] if found else None
        hours_ok = False
        if isinstance(peak, str) and "-" in peak:
            first = int(peak.split(":")[0])
            inside = sum(
                _in_window((first + k) % 24, int(spot.peak_start_hour), int(spot.peak_end_hour))
                for k in range(4)
            )
            hours_ok = inside >= 3
        estimate = figures.get(f"share_ae_unknown_to_police_{spot.small_area}")
        rows.append(
            {
                "hotspot": spot.hotspot_id,
                "area": spot.small_area,
                "found": found,
                "peak_found": hours_ok,
                "peak": peak,
                "planted": f"{spot.peak_days.replace('|', ' ')} "
                f"{int(spot.peak_start_hour):02d}:00-{int(spot.peak_end_hour):02d}:00",
                "share_truth": float(spot.share_ae_not_reported),
                "share_estimate": estimate,
            }
        )
    overall = float(truth.loc[truth["hotspot_id"] == "ALL", "share_ae_not_reported"].iloc[0])
    return {
        "per_hotspot": rows,
        "recall": sum(r["found"] for r in rows) / len(rows),
        "peak_recall": sum(r["peak_found"] for r in rows) / len(rows),
        "false_areas": sorted(flagged - areas),
        "gi_recall": len(areas & clusters) / len(areas),
        "gi_false_areas": sorted(clusters - areas),
        "share_truth": overall,
        "share_estimate": figures.get("share_ae_unknown_to_police"),
    }


def measure(people: int, seed: int = 42, preset: str = "default") -> dict[str, Any]:
    folder = WORK / f"region-{people}-{seed}-{preset}"
    started = time.perf_counter()
    build(folder, people, seed, preset)
    prepare = time.perf_counter() - started
    violence = analyse(folder, "violence-hotspots", folder / "out-violence")
    baseline = analyse(folder, "service-overlap", folder / "out-overlap")
    return {
        "people": people,
        "seed": seed,
        "preset": preset,
        "prepare_seconds": prepare,
        "violence": violence,
        "baseline": baseline,
        "incidents": incident_f1(folder),
        "hotspots": score_hotspots(folder, folder / "out-violence", violence["key_figures"]),
    }


def _gib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "Run: `.venv/bin/python benchmarks/bench_violence.py [--people 20000 200000] "
        f"[--seed S] [--preset hard]`. The synthetic region (seed {results[0]['seed']}, "
        f"preset {results[0]['preset']}) generated, ingested, linked and its geography loaded "
        "(not timed), then `violence-hotspots` run with its defaults (whole timeline, "
        "2020-2025; 9,999 Monte Carlo draws; FDR 0.05) in a process of its own; "
        "`service-overlap` on the same warehouse is the baseline. Scored against "
        "`truth/violence_hotspots.csv` and `truth/assaults.csv`.",
        "",
        "| people | incidents | hotspot recall | peak hours found | false hotspot areas "
        "| Gi* alone: recall / false areas | incident pairwise F1 (P / R) "
        "| unknown to police: estimate / truth | seconds | x service-overlap | peak GiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        h, inc, v, b = r["hotspots"], r["incidents"], r["violence"], r["baseline"]
        lines.append(
            f"| {r['people']:,} | {v['key_figures'].get('incidents', 0):,} "
            f"| **{h['recall']:.2f}** | **{h['peak_recall']:.2f}** "
            f"| **{len(h['false_areas'])}** {' '.join(h['false_areas'])} "
            f"| {h['gi_recall']:.2f} / {len(h['gi_false_areas'])} "
            f"| **{inc['f1']:.4f}** ({inc['precision']:.4f} / {inc['recall']:.4f}) "
            f"| {h['share_estimate']:.3f} / {h['share_truth']:.3f} "
            f"| {v['seconds']:.1f} | {v['seconds'] / b['seconds']:.2f} | {_gib(v['peak_gib'])} |"
        )
    lines += [
        "",
        "Per hotspot (share of A&E assaults unknown to the police: the hotspot area's "
        "estimate against the planted hotspot's):",
        "",
        "| people | hotspot | area | found | planted window | peak window found "
        "| share estimate | share truth | difference |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        for s in r["hotspots"]["per_hotspot"]:
            est = s["share_estimate"]
            diff = "" if est is None else f"{est - s['share_truth']:+.3f}"
            lines.append(
                f"| {r['people']:,} | {s['hotspot']} | {s['area']} | {s['found']} "
                f"| {s['planted']} | {s['peak'] or ''} ({'yes' if s['peak_found'] else 'no'}) "
                f"| {'' if est is None else f'{est:.3f}'} | {s['share_truth']:.3f} | {diff} |"
            )
    seconds = {r["people"]: r["violence"]["seconds"] for r in results}
    if 200_000 in seconds and 1_000_000 in seconds:
        ratio = f"{seconds[1_000_000] / seconds[200_000]:.2f}"
        measured = f"measured: **{ratio}**"
    else:
        measured = "1M not measured in this run"
    lines += [
        "",
        "Targets (issue 17): hotspot recall >= 0.9 with peak hours, at most one false "
        "hotspot area; incident pairwise F1 >= 0.95; unknown-to-police share within 0.03 of "
        f"the truth overall and per hotspot; the 1M/200k time ratio no worse than 6 ({measured}).",
    ]
    return "\n".join(lines)


def hub_copy(source: Path) -> Path:
    """A private copy of a hub (the run keeps its incident tables in the warehouse and
    audits into the registry; the source may be read-only)."""
    target = WORK / f"hub-{source.name}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in (
        "warehouse.duckdb",
        "registry.db",
        "registry.db.audit-head",
        "registry.db.audit-key",
    ):
        if (source / name).exists():
            shutil.copy2(source / name, target / name)
    return target


def people_of(folder: Path) -> int:
    manifest = json.loads((folder / "region" / "manifest.json").read_text())
    return int(manifest["people"])


def cost(hubs: list[Path]) -> list[dict[str, Any]]:
    """Time and peak memory of the analysis (and of the baseline) on each hub, in order."""
    rows = []
    for source in hubs:
        people = people_of(source)
        folder = hub_copy(source)
        violence = analyse(folder, "violence-hotspots", folder / "out-violence")
        baseline = analyse(folder, "service-overlap", folder / "out-overlap")
        row = {"hub": str(source), "people": people, "violence": violence, "baseline": baseline}
        print(json.dumps(row, default=str, indent=1), flush=True)
        rows.append(row)
        shutil.rmtree(folder)
    return rows


def cost_report(rows: list[dict[str, Any]]) -> str:
    lines = [
        "Run: `.venv/bin/python benchmarks/bench_violence.py --cost HUB [HUB ...]`. Each hub "
        "(generated, ingested, linked, geography loaded; copied first, since the run keeps "
        "its incident tables in the warehouse) runs `violence-hotspots` with its defaults "
        "(whole timeline; 9,999 Monte Carlo draws) and then `service-overlap`, the "
        "baseline, each in a process of its own: wall time of the run and the process' "
        "peak resident memory (`getrusage`, read by the child at its end).",
        "",
        "| hub | people | incidents | hotspot areas | seconds | peak GiB "
        "| service-overlap seconds | x service-overlap |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        v, b = r["violence"], r["baseline"]
        lines.append(
            f"| `{r['hub']}` | {r['people']:,} | {v['key_figures'].get('incidents', 0):,} "
            f"| {v['key_figures'].get('hotspot_areas', 0)} | {v['seconds']:.1f} "
            f"| {v['peak_gib']:.2f} | {b['seconds']:.1f} | {v['seconds'] / b['seconds']:.2f} |"
        )
    by_size = {r["people"]: r["violence"]["seconds"] for r in rows}
    lines.append("")
    if 200_000 in by_size and 1_000_000 in by_size:
        ratio = by_size[1_000_000] / by_size[200_000]
        lines.append(
            f"1M / 200k time ratio, measured in this run: **{ratio:.2f}** (target no worse "
            "than 6, issue 17)."
        )
    else:
        lines.append("1M / 200k time ratio: not measured in this run (needs both sizes).")
    return "\n".join(lines)


def main() -> None:
    from benchmarks._report import update_section

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--seed", type=int, default=42, help="the region's seed")
    parser.add_argument("--preset", default="default", help="the generator's preset (hard)")
    parser.add_argument("--no-write", action="store_true", help="print, do not update the doc")
    parser.add_argument(
        "--cost",
        type=Path,
        nargs="+",
        metavar="HUB",
        help="measure only time and memory on these hub folders (warehouse.duckdb, "
        "registry.db, region/manifest.json), e.g. a 200k and a 1M demo hub",
    )
    args = parser.parse_args()
    if args.cost:
        body = cost_report(cost(args.cost))
        print(body)
        if not args.no_write:
            update_section("violence-cost", "Violence hotspots: cost at 20k, 200k and 1M", body)
        return
    results = []
    for people in args.people:
        result = measure(people, args.seed, args.preset)
        print(json.dumps(result, default=str, indent=1), flush=True)
        results.append(result)
    body = report(results)
    print(body)
    if not args.no_write:
        if (args.seed, args.preset) == (42, "default"):
            update_section("violence", "Violence hotspots: accuracy and cost", body)
        else:  # a region the defaults were not tuned on: its own section beside
            update_section(
                f"violence-{args.seed}-{args.preset}",
                f"Violence hotspots on an unseen region (seed {args.seed}, preset {args.preset})",
                body,
            )


if __name__ == "__main__":
    main()
