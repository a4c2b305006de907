"""Care-coordination alerts scored against the synthetic region's homelessness truth.

For each size: generate the region (`--seed`, default 42), ingest, link in the clear,
register it and the care-coordination agreements, raise the alerts (`raise_alerts`), and
score the A&E alerts against `truth/homeless_ae.csv` (an alert should fire for every
attendance with `known_to_hmis` true; precision and recall over the attendance id). Then
privacy-preserving mode through the partners' own route: each partner encodes its
extracts at home (`encode_extracts`, what `sectorlink encode` runs: keyed encodings and,
beside them, its rows without identifiers, the NHS no-fixed-abode pseudo-postcode the one
value of an identifier column that travels), the hub loads the packages
(`load_encoded`) into a warehouse of its own, links the encodings with the bloom engine
and raises the alerts from that. *PPRL, marker withheld* is the same hub with the
hospital's no-fixed-abode marker blanked: what is lost if a hospital does not send it.
Also scored: the housing status (homeless on the day or not) against the truth's
attendances while homeless, and the share the hospital did not record as no fixed abode.
Figures go to docs/benchmarks.md, section "homelessness" (seed 42) or
"homelessness-seed-S".

    .venv/bin/python benchmarks/bench_homelessness.py                     # 20,000 people
    .venv/bin/python benchmarks/bench_homelessness.py --people 20000 200000 --seed 7
    .venv/bin/python benchmarks/bench_homelessness.py --no-pprl --no-doc
    .venv/bin/python benchmarks/bench_homelessness.py --keep /tmp/hl  # build once, rescore
    .venv/bin/python benchmarks/bench_homelessness.py --seed 7 --explain  # why each miss

`--explain` scores every miss again with a perfect person index (each record keyed by its
true person): a miss that index alerts is a linkage split, a false alert it does not raise
a false merge, the rest are the status rules'; it lists the split pairs (the truth's mess
labels of both records) and each rule miss's evidence, and adds a misses table to the
section. A run of some sizes keeps the section's rows for the others (a 20,000-people
rerun keeps the 200,000 rows, saying when they were measured).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import update_section

SEED = 42
SECRET = b"benchmark key: 32 bytes of it..."
RERUN = ".venv/bin/python benchmarks/bench_homelessness.py --people 20000 200000"


@dataclass
class Row:
    people: int
    mode: str
    truth: int
    alerts_ae: int
    alerts_ambulance: int
    true_positives: int
    recall: float
    precision: float
    status_recall: float
    status_precision: float
    share_not_recorded: float
    share_not_recorded_truth: float
    alert_seconds: float
    rerun_new: int
    horizon: str
    misses: Misses | None = None


@dataclass
class Misses:
    """Why alerts were missed or false (`--explain`): each false negative and false
    positive scored again with a perfect person index (every record keyed by its true
    person). A miss the perfect index alerts is the linkage's (a split: the A&E record
    and the HMIS client in different clusters); a false alert it does not raise is a
    false merge; the rest are the status rules' (the evidence the data hold)."""

    fn_split: int
    fn_rules: int
    fp_merge: int
    fp_rules: int
    perfect_recall: float
    perfect_precision: float
    lines: list[str]


def build(people: int, workdir: Path) -> tuple[Path, Path, str]:
    """The region, its clear warehouse (ingested, linked) and registry; reused when
    `workdir` already holds them (`clear.done`)."""
    region = workdir / "region"
    warehouse = workdir / "clear.duckdb"
    url = f"sqlite:///{workdir / 'registry.db'}"
    if (workdir / "clear.done").is_file():
        return region, warehouse, url
    from sectorlink.demo import ingest_region
    from sectorlink.linkage import link
    from sectorlink.registry import open_registry, register_region
    from sectorlink.synth import generate_region

    generate_region(region, people=people, seed=SEED, progress=False, force=True)
    registry = open_registry(url)
    try:
        register_region(registry, region / "manifest.json")
    finally:
        registry.close()
    ingest_region(region, warehouse)
    link(warehouse)
    (workdir / "clear.done").write_text("built\n")
    return region, warehouse, url


def package_hub(region: Path, workdir: Path) -> Path:
    """The hub in privacy-preserving mode, built as partners and hub build it: each
    partner encodes its own extracts into a package (encodings, rows without
    identifiers, manifest); the hub loads the packages and links the encodings (bloom).
    Reused when `workdir` already holds it (`pprl.done`)."""
    hub = workdir / "pprl.duckdb"
    if (workdir / "pprl.done").is_file():
        return hub
    from sectorlink.demo import extracts_in_load_order
    from sectorlink.pprl.encode import encode_extracts
    from sectorlink.pprl.hub import link_encoded
    from sectorlink.pprl.keys import LinkageKey
    from sectorlink.pprl.load import load_encoded

    key = LinkageKey.from_bytes(SECRET)  # the partners' key; the hub never holds it
    packages = workdir / "packages"
    shutil.rmtree(packages, ignore_errors=True)
    packages.mkdir()
    by_source: dict[str, list[tuple[Path, Path]]] = {}
    for extract in extracts_in_load_order(region):
        by_source.setdefault(extract["source"], []).append(
            (region / extract["spec"], region / extract["file"])
        )
    files = []
    for source, pairs in by_source.items():
        out = packages / f"{source}.enc.parquet"
        encode_extracts(pairs, key=key, out=out)
        files.append(out)
    hub.unlink(missing_ok=True)
    load_encoded(files, warehouse=hub)
    link_encoded(hub)
    (workdir / "pprl.done").write_text("built\n")
    return hub


def without_marker(hub: Path, workdir: Path) -> Path:
    """A copy of the package hub with the hospital's no-fixed-abode marker blanked."""
    bare = workdir / "pprl-no-marker.duckdb"
    shutil.copy(hub, bare)
    con = duckdb.connect(str(bare))
    try:
        con.execute("UPDATE person_record SET postcode = NULL")
    finally:
        con.close()
    return bare


def score(
    people: int, mode: str, warehouse: Path, region: Path, url: str, why: bool = False
) -> Row:
    from sectorlink.governance import Grant, get_profile
    from sectorlink.insights.context import build_context
    from sectorlink.insights.homelessness.agreements import register_care_coordination
    from sectorlink.insights.homelessness.alerts import ALERT_JOB, raise_alerts
    from sectorlink.insights.homelessness.status import attendance_status
    from sectorlink.registry import open_registry

    con = duckdb.connect(str(warehouse))
    try:  # a rescore of a kept warehouse starts with no alerts
        con.execute("DROP TABLE IF EXISTS alert")
    finally:
        con.close()
    registry = open_registry(url)
    try:
        register_care_coordination(registry, warehouse)
        start = time.perf_counter()
        first = raise_alerts(warehouse, registry, actor="benchmark")
        seconds = time.perf_counter() - start
        again = raise_alerts(warehouse, registry, actor="benchmark")
    finally:
        registry.close()
    truth = region / "truth" / "homeless_ae.csv"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(f"CREATE TEMP TABLE t AS SELECT * FROM read_csv('{truth}', all_varchar=true)")
        n_truth, alerts_ae, alerts_amb, tp = con.execute(
            """SELECT (SELECT count(*) FROM t WHERE known_to_hmis = 'true'),
                      count(*) FILTER (WHERE kind = 'ae'),
                      count(*) FILTER (WHERE kind = 'ambulance'),
                      count(*) FILTER (WHERE kind = 'ae' AND event_id IN
                          (SELECT ae_record_id FROM t WHERE known_to_hmis = 'true'))
            FROM alert WHERE withdrawn_at IS NULL"""
        ).fetchone() or (0, 0, 0, 0)
        truth_share = con.execute(
            "SELECT avg(CASE WHEN recorded_no_fixed_abode = 'true' THEN 0.0 ELSE 1.0 END) FROM t"
        ).fetchone()
        alerted = [
            str(r[0])
            for r in con.execute(
                "SELECT DISTINCT event_id FROM alert WHERE kind = 'ae' AND withdrawn_at IS NULL"
            ).fetchall()
        ]
    finally:
        con.close()
    # the housing status, computed as the analysis does, against the truth's attendances
    grant = Grant("benchmark", "care-coordination", "read", ("ae_northgate", "ambulance_westmoor",
                  "hmis_northshire"), {}, 0, "")  # fmt: skip
    ctx = build_context(warehouse, ALERT_JOB, grant, profile=get_profile("suppress-1-7-round-5"))
    try:
        attendance_status(ctx.con)
        ctx.con.execute(
            f"CREATE TEMP TABLE t AS SELECT * FROM read_csv('{truth}', all_varchar=true)"
        )
        found, hits, homeless, share = ctx.con.execute(
            """WITH s AS (SELECT event_id, coalesce(hospital_nfa, false) AS nfa,
                                 status IN ('in a homelessness project', 'literally homeless') AS h
                          FROM hc_status WHERE kind = 'ae')
            SELECT count(*) FILTER (WHERE h),
                   count(*) FILTER (WHERE h AND event_id IN (SELECT ae_record_id FROM t)),
                   (SELECT count(*) FROM t),
                   avg(CASE WHEN nfa THEN 0.0 ELSE 1.0 END) FILTER (WHERE h)
            FROM s"""
        ).fetchone() or (0, 0, 0, 0.0)
        misses = explain(ctx.con, region, alerted) if why else None
    finally:
        ctx.con.close()
    return Row(
        people=people,
        mode=mode,
        truth=int(n_truth),
        alerts_ae=int(alerts_ae),
        alerts_ambulance=int(alerts_amb),
        true_positives=int(tp),
        recall=tp / n_truth if n_truth else float("nan"),
        precision=tp / alerts_ae if alerts_ae else float("nan"),
        status_recall=hits / homeless if homeless else float("nan"),
        status_precision=hits / found if found else float("nan"),
        share_not_recorded=float(share or 0.0),
        share_not_recorded_truth=float(truth_share[0]) if truth_share else float("nan"),
        alert_seconds=seconds,
        rerun_new=again.raised,
        horizon=f"{first.horizon_days} ({first.horizon_source})",
        misses=misses,
    )


def explain(con: duckdb.DuckDBPyConnection, region: Path, alerts: list[str]) -> Misses:
    """Classify the misses on an insights context `con` where `attendance_status` has run
    (the run's person index; `t` holds the truth) against a perfect person index."""
    from sectorlink.insights.homelessness.status import attendance_status

    records = region / "truth" / "person_records.csv"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pr AS SELECT source, record_id, person_id, mess "
        f"FROM read_csv('{records}', all_varchar=true)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE scored(event_id VARCHAR)")
    con.executemany("INSERT INTO scored VALUES (?)", [[a] for a in alerts])
    con.execute("CREATE OR REPLACE TEMP TABLE run_index AS SELECT * FROM person_index")
    con.execute(
        "UPDATE person_index SET person_key = pr.person_id FROM pr "
        "WHERE pr.source = person_index.source AND pr.record_id = person_index.record_id"
    )
    attendance_status(con)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE perfect AS SELECT DISTINCT k.event_id FROM hc_known k
        JOIN hc_attendance a USING (source, event_id) WHERE a.kind = 'ae'"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE miss AS
        SELECT ae_record_id AS event_id, 'fn' AS kind,
               ae_record_id IN (SELECT event_id FROM perfect) AS perfect_alerts
        FROM t WHERE known_to_hmis = 'true' AND ae_record_id NOT IN (SELECT * FROM scored)
        UNION ALL
        SELECT event_id, 'fp', event_id IN (SELECT event_id FROM perfect) FROM scored
        WHERE event_id NOT IN (SELECT ae_record_id FROM t WHERE known_to_hmis = 'true')"""
    )
    counts = dict(
        con.execute(
            "SELECT kind || perfect_alerts::VARCHAR, count(*) FROM miss GROUP BY 1"
        ).fetchall()
    )
    n_truth, tp, n_perfect = con.execute(
        """SELECT (SELECT count(*) FROM t WHERE known_to_hmis = 'true'),
                  count(*) FILTER (WHERE event_id IN
                      (SELECT ae_record_id FROM t WHERE known_to_hmis = 'true')),
                  count(*) FROM perfect"""
    ).fetchone() or (0, 0, 0)
    # For the linkage: each split pair by the truth's mess labels (what differs between
    # the two records) and the size of each cluster in the data sets read here.
    lines = [
        f"split {ae} ({ae_mess or 'clean'}; its cluster: {ae_n} records) / HMIS {h} "
        f"({h_mess or 'clean'}; {h_n} records)"
        for ae, ae_mess, ae_n, h, h_mess, h_n in con.execute(
            """WITH size AS (SELECT person_key, count(*) AS n FROM run_index GROUP BY 1)
            SELECT m.event_id, a.mess, coalesce(sa.n, 0), h.record_id, h.mess, coalesce(sh.n, 0)
            FROM miss m JOIN pr a ON a.source = 'ae_northgate' AND a.record_id = m.event_id
            JOIN pr h ON h.person_id = a.person_id AND h.source = 'hmis_northshire'
            LEFT JOIN run_index ia ON ia.source = a.source AND ia.record_id = a.record_id
            LEFT JOIN run_index ih ON ih.source = h.source AND ih.record_id = h.record_id
            LEFT JOIN size sa ON sa.person_key = ia.person_key
            LEFT JOIN size sh ON sh.person_key = ih.person_key
            WHERE m.kind = 'fn' AND m.perfect_alerts
              AND ia.person_key IS DISTINCT FROM ih.person_key
            ORDER BY 1, 4"""
        ).fetchall()
    ]
    # ... and each rule miss by its evidence (perfect linkage): the last exit before the
    # attendance, how long ago, the last contact and the hospital's NFA markers before it.
    lines += [
        f"rule {kind} {event}: last exit {dest or '-'} {days_exit} days before, last contact "
        f"{days_contact if days_contact is not None else '-'} days, NFA markers before: "
        f"{n_nfa} (last {days_nfa if days_nfa is not None else '-'} days before)"
        for kind, event, dest, days_exit, days_contact, n_nfa, days_nfa in con.execute(
            """SELECT m.kind, m.event_id,
                      (SELECT arg_max(n.destination, n.exit) FROM hc_enrolment n
                       WHERE n.person_key = a.person_key AND n.exit < a.day),
                      a.day - (SELECT max(n.exit) FROM hc_enrolment n
                               WHERE n.person_key = a.person_key AND n.exit < a.day),
                      a.day - (SELECT max(c.day) FROM hc_contact c
                               WHERE c.person_key = a.person_key AND c.day <= a.day),
                      (SELECT count(*) FROM hc_attendance b WHERE b.person_key = a.person_key
                       AND b.hospital_nfa AND b.arrival < a.arrival),
                      a.day - (SELECT max(b.day) FROM hc_attendance b
                               WHERE b.person_key = a.person_key AND b.hospital_nfa
                                 AND b.arrival < a.arrival)
            FROM miss m JOIN hc_attendance a ON a.event_id = m.event_id AND a.kind = 'ae'
            WHERE m.perfect_alerts = (m.kind = 'fp') ORDER BY 1, 2"""
        ).fetchall()
    ]
    return Misses(
        fn_split=int(counts.get("fntrue", 0)),
        fn_rules=int(counts.get("fnfalse", 0)),
        fp_merge=int(counts.get("fpfalse", 0)),
        fp_rules=int(counts.get("fptrue", 0)),
        perfect_recall=tp / n_truth if n_truth else float("nan"),
        perfect_precision=tp / n_perfect if n_perfect else float("nan"),
        lines=lines,
    )


SHOWN = 30
"""Misses listed per row by --explain (marker withheld has dozens)."""
MAIN_CELLS = 14
MISS_CELLS = 7


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def earlier_rows(
    section: str, measured: list[int], doc: Path | None = None
) -> tuple[list[str], str]:
    """The table rows of `section` in `doc` (docs/benchmarks.md) for sizes this run did
    not measure (a 20,000-people rerun keeps the 200,000 rows), and when they were."""
    from _report import DOC

    doc = doc or DOC
    text = doc.read_text() if doc.exists() else ""
    found = re.search(
        rf"<!-- BEGIN {re.escape(section)} -->(.*?)<!-- END {re.escape(section)} -->",
        text,
        re.DOTALL,
    )
    if not found:
        return [], ""
    kept, when, carried = [], "", ""
    for line in found.group(1).splitlines():
        if line.startswith("_Measured "):
            when = line.strip("_").removeprefix("Measured ").split(" on ")[0]
        if line.startswith("Rows for ") and line.endswith(", kept."):
            carried = line.split(": measured ", 1)[1].removesuffix(", kept.")
        if not line.startswith("| "):
            continue
        cells = _cells(line)
        try:
            people = int(cells[0].replace(",", ""))
        except ValueError:
            continue
        if people not in measured and len(cells) in (MAIN_CELLS, MISS_CELLS):
            kept.append(line)
    # rows kept once already were measured when that section said, not when it was written
    return kept, carried or when


def markdown(rows: list[Row], kept: list[str] = (), kept_when: str = "") -> str:  # type: ignore[assignment]
    lines = [
        "`benchmarks/bench_homelessness.py`: care-coordination alerts (`sectorlink alerts "
        "run`, `sectorlink.insights.homelessness.raise_alerts`) on the synthetic region "
        "(seed 42), scored against `truth/homeless_ae.csv`: an alert should fire for every "
        "A&E attendance by a person homeless on the day and known to HMIS (an enrolment on "
        "or before it). *clear*: linked in the clear; *PPRL*: the partners' own route "
        "(`sectorlink encode` packages: encodings and rows without identifiers, the "
        "hospital's no-fixed-abode pseudo-postcode the one identifier value that travels; "
        "`load-encoded`; the bloom engine), the hub holding no identifier; *PPRL, marker "
        "withheld*: that hub with the marker blanked (a hospital that does not send it). "
        "Ambulance alerts (conveyances) are raised too but the truth does not list them. "
        "Status: attendances the analysis calls homeless (in a project or literally "
        "homeless) against the truth's attendances while homeless. Not recorded: share of "
        "those the hospital did not mark NFA (truth: the truth's own share). Horizon: how "
        "long an exit to a homeless situation keeps a client known, estimated by the run "
        "from the HMIS (Kaplan-Meier median spell length).",
        "",
        "| people | mode | truth | A&E alerts | true | **recall** | **precision** | "
        "ambulance alerts | status recall | status precision | not recorded (truth) | "
        "horizon (days) | raise s | new on rerun |",
        "|" + " ---: | --- |" + " ---: |" * 8 + " --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.people:,} | {r.mode} | {r.truth:,} | {r.alerts_ae:,} | {r.true_positives:,} "
            f"| **{r.recall:.3f}** | **{r.precision:.3f}** | {r.alerts_ambulance:,} | "
            f"{r.status_recall:.3f} | {r.status_precision:.3f} | "
            f"{r.share_not_recorded:.3f} ({r.share_not_recorded_truth:.3f}) | "
            f"{r.horizon} | {r.alert_seconds:.1f} | {r.rerun_new} |"
        )
    lines += [k for k in kept if len(_cells(k)) == MAIN_CELLS]
    misses = [k for k in kept if len(_cells(k)) == MISS_CELLS]
    explained = [r for r in rows if r.misses is not None]
    if explained or misses:
        lines += [
            "",
            "Misses (`--explain`): each false negative and false alert scored again with a "
            "perfect person index (every record keyed by its true person). *Linkage split*: "
            "the perfect index alerts, the run's does not (the A&E record and the HMIS client "
            "in different clusters); *false merge*: a false alert the perfect index does not "
            "raise; *rules*: the rest (the status rules on what the data hold).",
            "",
            "| people | mode | missed: linkage split | missed: rules | false: merge | "
            "false: rules | recall / precision, perfect index |",
            "| ---: | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in explained:
            m = r.misses
            assert m is not None
            lines.append(
                f"| {r.people:,} | {r.mode} | {m.fn_split} | {m.fn_rules} | {m.fp_merge} | "
                f"{m.fp_rules} | {m.perfect_recall:.3f} / {m.perfect_precision:.3f} |"
            )
        lines += misses
    if kept:
        sizes = sorted({_cells(k)[0] for k in kept})
        lines += ["", f"Rows for {', '.join(sizes)} people: measured {kept_when}, kept."]
    lines += [
        "",
        "Targets (issue 19): alert recall and precision >= 0.95 at 20,000 and 200,000 "
        "people, in the clear and in privacy-preserving mode. Rules: an open enrolment "
        "(not prevention), a contact in the last 90 days (unless housed since), the "
        "hospital's no-fixed-abode marker at the attendance of a former client, or an exit "
        "to a homeless situation within the horizon (longer while the hospital recorded no "
        "fixed abode since the exit, within the horizon). "
        f"Re-run: `{RERUN}`.",
    ]
    return "\n".join(lines)


def main() -> None:
    global SEED
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[20_000])
    parser.add_argument("--no-pprl", action="store_true", help="skip privacy-preserving mode")
    parser.add_argument("--no-doc", action="store_true", help="print, do not write the doc")
    parser.add_argument("--workdir", type=Path, default=None, help="for the temporary folders")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="build each region under KEEP/seed-S-people-N and reuse it on the next run",
    )
    parser.add_argument("--seed", type=int, default=42, help="the region's seed")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="classify every miss against a perfect person index (linkage or rules) and "
        "list the split pairs and the rule misses' evidence",
    )
    args = parser.parse_args()
    SEED = args.seed
    rows: list[Row] = []
    for people in args.people:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            workdir = Path(tmp)
            if args.keep is not None:
                workdir = args.keep / f"seed-{SEED}-people-{people}"
                workdir.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            region, clear, url = build(people, workdir)
            print(f"{people:,}: region built in {time.perf_counter() - started:.0f} s", flush=True)
            rows.append(score(people, "clear", clear, region, url, args.explain))
            _show(rows[-1])
            if not args.no_pprl:
                started = time.perf_counter()
                hub = package_hub(region, workdir)
                print(f"{people:,}: packages encoded, loaded and linked in "
                      f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
                rows.append(score(people, "PPRL (partner packages)", hub, region, url,
                                  args.explain))  # fmt: skip
                _show(rows[-1])
                bare = without_marker(hub, workdir)
                rows.append(score(people, "PPRL, marker withheld", bare, region, url,
                                  args.explain))  # fmt: skip
                _show(rows[-1])
                bare.unlink()
    section = "homelessness" if args.seed == 42 else f"homelessness-seed-{args.seed}"
    kept, when = ([], "") if args.no_doc else earlier_rows(section, args.people)
    text = markdown(rows, kept, when)
    print(text)
    if not args.no_doc and args.seed == 42:
        update_section(section, "Care-coordination alerts (homelessness)", text)
    elif not args.no_doc:  # a region the defaults were not tuned on: its own section
        update_section(
            section,
            f"Care-coordination alerts on an unseen region (seed {args.seed})",
            text.replace("(seed 42)", f"(seed {args.seed})"),
        )


def _show(row: Row) -> None:
    print({k: v for k, v in row.__dict__.items() if k != "misses"}, flush=True)
    if row.misses is not None:
        m = row.misses
        print(f"  misses: {m.fn_split} linkage splits, {m.fn_rules} by the rules; false "
              f"alerts: {m.fp_merge} false merges, {m.fp_rules} by the rules; perfect index "
              f"{m.perfect_recall:.3f} / {m.perfect_precision:.3f}", flush=True)  # fmt: skip
        for line in m.lines[:SHOWN]:
            print("   ", line, flush=True)
        if len(m.lines) > SHOWN:
            print(f"    ... and {len(m.lines) - SHOWN} more", flush=True)


if __name__ == "__main__":
    main()
