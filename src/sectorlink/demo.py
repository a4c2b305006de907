"""The demo: a synthetic region, every partner's extract ingested, a report to open.

`sectorlink demo` is a thin wrapper over :func:`run_demo`. Later stages (linkage,
registry, analyses) add their steps here, so the demo always shows the whole flow.
"""

from __future__ import annotations

import contextlib
import json
import queue
import secrets
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sectorlink.governance import append_audit_entry, authorise
from sectorlink.insights import (
    InsightError,
    InsightRun,
    NothingToPublish,
    insight_section,
    load_geography,
    run_all,
)
from sectorlink.linkage import Evaluation, LinkResult, evaluate, link
from sectorlink.registry import HUB_NAME, Registry, open_registry, register_region
from sectorlink.reports import ReportSection, render_report
from sectorlink.reports.governance import governance_section
from sectorlink.reports.linkage import linkage_section
from sectorlink.reports.quality import quality_section
from sectorlink.sources import LoadResult, ingest, load_spec
from sectorlink.warehouse import connect

MARKER = ".sectorlink-demo"
DEFAULT_OUT = Path("demo-output")

StepHook = Callable[[str, int, int], None]
"""Called as hook(description, done, total) while the demo works (for progress bars)."""


class DemoError(Exception):
    """The demo cannot run as asked (e.g. its output folder holds someone else's files)."""


@dataclass
class DemoResult:
    out_dir: Path
    region_dir: Path
    warehouse: Path
    report: Path
    registry_url: str
    loads: list[LoadResult] = field(default_factory=list)
    insights: list[InsightRun | NothingToPublish] = field(default_factory=list)
    linkage: LinkResult | None = None
    evaluation: Evaluation | None = None
    partners: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    users: dict[str, DemoUser] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoUser:
    """A sign-in made for the demo's web app: one per role, each with a fresh password."""

    username: str
    password: str
    role: str
    organisation: str | None


# One user per role, and a caseworker at the homelessness partner (a partner role).
DEMO_ROLES: tuple[tuple[str, str, str | None], ...] = (
    ("admin", "admin", HUB_NAME),
    ("analyst", "analyst", HUB_NAME),
    ("partner", "partner", "Northgate Hospital NHS Trust"),
    ("caseworker", "partner", "Northshire Homelessness Partnership"),
    ("viewer", "viewer", None),
)


def create_demo_users(registry: Registry, out_dir: Path) -> dict[str, DemoUser]:
    """A user per role for the demo's web app, with random passwords (never a shipped
    default), written to `out_dir/demo-users.txt` readable by the owner only."""
    from sectorlink.registry.errors import NotFound
    from sectorlink.registry.users import create_user

    users: dict[str, DemoUser] = {}
    with registry.session() as session:
        for username, role, organisation in DEMO_ROLES:
            password = secrets.token_urlsafe(12)
            try:
                create_user(
                    session,
                    username=username,
                    password=password,
                    role=role,
                    organisation=organisation,
                )
            except NotFound:  # a region without that partner: no such user
                continue
            users[username] = DemoUser(username, password, role, organisation)
    sign_ins = out_dir / "demo-users.txt"
    sign_ins.write_text(
        "".join(
            f"{u.username}\t{u.password}\t{u.role}\t{u.organisation or '-'}\n"
            for u in users.values()
        )
    )
    sign_ins.chmod(0o600)
    return users


def prepare_out_dir(out_dir: Path) -> None:
    """Empty a folder the demo made before; refuse to touch a non-empty folder it did not make."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            raise DemoError(
                f"{out_dir} exists, is not empty and was not made by the demo; "
                "choose another --out folder"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).write_text(
        "made by `sectorlink demo`; the demo empties this folder on its next run\n"
    )


def extracts_in_load_order(region_dir: Path) -> list[dict[str, str]]:
    """The manifest's extracts, person-bearing specs first so events can find their people."""
    manifest = json.loads((region_dir / "manifest.json").read_text())
    extracts: list[dict[str, str]] = manifest["extracts"]

    def needs_people_first(extract: dict[str, str]) -> int:
        spec = load_spec(region_dir / extract["spec"])
        return 0 if spec.person is not None or not spec.events else 1

    return sorted(extracts, key=needs_people_first)


def ingest_region(
    region_dir: Path,
    warehouse: Path,
    hook: StepHook | None = None,
    *,
    registry: Registry | None = None,
    workers: int = 2,
) -> list[LoadResult]:
    """Ingest every extract of a region (as listed in its manifest) into `warehouse`.

    Partners' files load side by side (`workers` at a time, each load its own transaction
    on its own cursor); one partner's files load one after another, in manifest order with
    person-bearing files first, since an events file is checked against its partner's person
    records. Results come back in that load order. With a registry, each load is recorded
    in its audit log as the hub receiving the data, as it finishes.

    If a load fails, the partners' loads already running finish (each is whole or absent),
    no new one starts, and the error is raised.
    """
    extracts = extracts_in_load_order(region_dir)
    chains: dict[str, list[int]] = {}
    for index, extract in enumerate(extracts):
        chains.setdefault(extract["source"], []).append(index)
    # Biggest partner first, so the last one to finish is a small one.
    order = sorted(
        chains.values(),
        key=lambda chain: -sum(_load_size(region_dir / extracts[i]["file"]) for i in chain),
    )
    finished: queue.Queue[tuple[int, LoadResult]] = queue.Queue()
    stop = threading.Event()
    con = connect(warehouse)

    def load_chain(chain: list[int]) -> None:
        cursor = con.cursor()
        try:
            for index in chain:
                if stop.is_set():
                    return
                extract = extracts[index]
                try:
                    result = ingest(
                        region_dir / extract["spec"], region_dir / extract["file"], con=cursor
                    )
                except BaseException:
                    stop.set()
                    raise
                finished.put((index, result))
        finally:
            cursor.close()

    results: dict[int, LoadResult] = {}
    # Each load's own thread runs its queries; DuckDB's pool gets the other cores. Its
    # default (a thread per core on top of the loads' own) oversubscribes the machine: with
    # it cut to fit (2 cores, 2 loads: no pool thread) the 1M-person region loaded 3-15%
    # faster, with less CPU time, in 8 of 8 paired runs. The pool is whole again for the
    # checkpoint as the warehouse closes.
    row = con.execute("SELECT current_setting('threads')").fetchone()
    threads = int(row[0]) if row else 1
    con.execute(f"SET threads = {max(1, threads - max(1, workers) + 1)}")
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            if hook:
                hook("ingest partners' extracts", 0, len(extracts))
            futures = [pool.submit(load_chain, chain) for chain in order]
            try:
                while not (all(f.done() for f in futures) and finished.empty()):
                    try:
                        index, result = finished.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    results[index] = result
                    _record_load(registry, extracts[index], result)
                    if hook:
                        hook(f"ingested {extracts[index]['source']}", len(results), len(extracts))
            except BaseException:  # Ctrl-C, or a failing hook: no new load starts
                stop.set()
                raise
            for future in futures:
                future.result()  # the first failure, now that the other loads are recorded
        if hook:
            hook("ingested", len(extracts), len(extracts))
    finally:
        con.execute(f"SET threads = {threads}")
        con.close()
    return [results[i] for i in range(len(extracts))]


def _load_size(path: Path) -> int:
    """A file's size as the load sees it: a workbook's unzipped size (its XML is what is
    read; the law-centre workbook is 5 MB zipped and 70 MB unzipped)."""
    if not path.is_file():
        return 0  # its load says what is wrong with it
    if path.suffix.lower() in (".xlsx", ".xlsm") and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as workbook:
            return sum(member.file_size for member in workbook.infolist())
    return path.stat().st_size


def _record_load(registry: Registry | None, extract: dict[str, str], result: LoadResult) -> None:
    if registry is None:
        return
    append_audit_entry(
        registry,
        actor="sectorlink ingest",
        organisation=HUB_NAME,
        action="ingest",
        purpose="linkage",
        datasets=[result.source],
        outcome="recorded",
        reason=f"{result.status} {extract['file']}",
        detail={
            "load_id": result.load_id,
            "rows_read": result.rows_read,
            "rows_rejected": result.rows_rejected,
        },
    )


def link_region(
    warehouse: Path, region_dir: Path, registry: Registry, out_dir: Path
) -> tuple[LinkResult, Evaluation]:
    """Link the region's person records as the hub, under its agreements, and score the result.

    Reading identifiers for linkage is a person-level read: it passes the access check
    (and is audited) before the warehouse is opened for it.
    """
    con = connect(warehouse, read_only=True)
    try:
        sources = [
            r[0]
            for r in con.execute("SELECT DISTINCT source FROM person_record ORDER BY 1").fetchall()
        ]
    finally:
        con.close()
    authorise(
        registry,
        organisation=HUB_NAME,
        purpose="linkage",
        datasets=sources,
        action="read_identifiers",
        actor="sectorlink link",
    )
    truth = region_dir / "truth" / "person_records.csv"
    result = link(warehouse, out_dir=out_dir, truth=truth)
    return result, _evaluate(warehouse, truth)


def _evaluate(warehouse: Path, truth: Path) -> Evaluation:
    """The published person index scored against the region's truth."""
    con = connect(warehouse, read_only=True)
    try:
        return evaluate(con, truth)
    finally:
        con.close()


def encode_region(
    region_dir: Path,
    encoded_dir: Path,
    key_file: Path,
    hook: StepHook | None = None,
) -> tuple[list[LoadResult], list[Path]]:
    """Each partner encodes its own extracts at home (``sectorlink encode``): the same
    mapping and standardisation as ingest, then keyed Bloom filters and tokens, and beside
    them its rows without identifiers and a manifest: one package per source.

    Returns the partners' ingest results (rows read, rejects) and the encoded files."""
    from sectorlink.pprl.encode import encode_extracts
    from sectorlink.pprl.keys import load_key

    key = load_key(key_file)
    encoded_dir.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, list[tuple[Path, Path]]] = {}
    for e in extracts_in_load_order(region_dir):
        by_source.setdefault(e["source"], []).append(
            (region_dir / e["spec"], region_dir / e["file"])
        )
    loads: list[LoadResult] = []
    files: list[Path] = []
    for done, (source, pairs) in enumerate(by_source.items()):
        if hook:
            hook(f"{source} encodes its extracts", done, len(by_source))
        out = encoded_dir / f"{source}.enc.parquet"
        # the region's postcode lookup stands for the public one (ONS NSPL) partners hold
        lookup = region_dir / "geography" / "postcodes.csv"
        summary = encode_extracts(pairs, key=key, out=out, postcodes_file=lookup)
        loads.extend(summary.loads)
        files.append(out)
    return loads, files


def link_encoded_region(
    warehouse: Path, files: list[Path], region_dir: Path, registry: Registry, out_dir: Path
) -> tuple[LinkResult, Evaluation]:
    """The hub loads the partners' packages (encodings, and rows without identifiers) and
    links the encodings with the bloom engine; it holds no identifier and no key. Reading
    the encodings for linkage passes the access check."""
    from sectorlink.pprl.hub import link_encoded
    from sectorlink.pprl.load import load_encoded

    loads = load_encoded(files, warehouse=warehouse)
    sources = sorted({s for load in loads for s in load.sources})
    authorise(
        registry,
        organisation=HUB_NAME,
        purpose="linkage",
        datasets=sources,
        action="read",
        actor="sectorlink link --engine bloom",
    )
    truth = region_dir / "truth" / "person_records.csv"
    result = link_encoded(warehouse, out_dir=out_dir, truth=truth)
    return result, _evaluate(warehouse, truth)


def run_region_insights(
    warehouse: Path, region_dir: Path, registry: Registry, out_dir: Path
) -> list[InsightRun | NothingToPublish]:
    """Load the region's geography into the warehouse, register the care-coordination
    agreements and raise the alerts, then run every registered analysis as the hub, each
    release in its own folder under `out_dir`."""
    geography = region_dir / "geography"
    con = connect(warehouse)
    try:
        load_geography(con, geography / "postcodes.csv", geography / "small_areas.geojson")
    finally:
        con.close()
    # Care coordination: the hospital and ambulance service share with each homelessness
    # provider under their own agreements; the alerts are raised (and each provider's
    # digest for today written) before the analyses, since the homeless-care release
    # reports them. Nothing is raised when the hub holds no attendances.
    from sectorlink.insights.homelessness.demo import raise_region_alerts

    raise_region_alerts(warehouse, registry, out_dir.parent / "alerts")
    return run_all(
        warehouse=warehouse,
        registry=registry,
        organisation=HUB_NAME,
        out_dir=out_dir,
        actor="sectorlink demo",
    )


def run_demo(
    out_dir: Path = DEFAULT_OUT,
    *,
    people: int = 20_000,
    seed: int = 42,
    hook: StepHook | None = None,
    pprl: bool = False,
) -> DemoResult:
    """Generate a synthetic region, ingest every extract and write the hub report.

    With ``pprl``, identifiers never reach the hub: each partner encodes its extract with
    a shared key the hub does not hold, and the hub links the encodings (bloom engine).

    Example:
        >>> result = run_demo(Path("demo-output"), people=2_000)
        >>> result.report
        PosixPath('demo-output/report.html')
    """
    from sectorlink.synth import generate_region

    prepare_out_dir(out_dir)
    result = DemoResult(
        out_dir=out_dir,
        region_dir=out_dir / "region",
        warehouse=out_dir / "warehouse.duckdb",
        report=out_dir / "report.html",
        registry_url=f"sqlite:///{out_dir / 'registry.db'}",
    )
    started = time.perf_counter()
    if hook:
        hook(f"generate a region of {people:,} people", 0, 1)
    generate_region(result.region_dir, people=people, seed=seed, force=True, progress=False)
    result.seconds["generate"] = time.perf_counter() - started
    manifest = json.loads((result.region_dir / "manifest.json").read_text())
    result.partners = {e["source"]: e.get("partner", e["source"]) for e in manifest["extracts"]}
    # `partners` is keyed by source: a partner sending several files counts once.

    started = time.perf_counter()
    if hook:
        hook("register partners, data sets and agreements", 0, 1)
    registry = open_registry(result.registry_url)
    register_region(registry, result.region_dir / "manifest.json")
    result.seconds["register"] = time.perf_counter() - started

    started = time.perf_counter()
    if pprl:
        # the partners' side, away from the hub's folder: the hub never holds the key
        key_file = out_dir.with_name(out_dir.name + "-partners") / "partners-shared.key"
        key_file.parent.mkdir(mode=0o700, exist_ok=True)
        key_file.write_text(secrets.token_hex(32) + "\n")
        key_file.chmod(0o600)
        result.loads, encoded = encode_region(
            result.region_dir, out_dir / "encoded", key_file, hook
        )
        result.seconds["encode"] = time.perf_counter() - started
    else:
        result.loads = ingest_region(result.region_dir, result.warehouse, hook, registry=registry)
        result.seconds["ingest"] = time.perf_counter() - started

    started = time.perf_counter()
    if hook:
        hook("link person records across partners", 0, 1)
    if pprl:
        result.linkage, result.evaluation = link_encoded_region(
            result.warehouse, encoded, result.region_dir, registry, out_dir / "linkage"
        )
    else:
        result.linkage, result.evaluation = link_region(
            result.warehouse, result.region_dir, registry, out_dir / "linkage"
        )
    result.seconds["link"] = time.perf_counter() - started

    started = time.perf_counter()
    if hook:
        hook("run every registered analysis", 0, 1)
    result.insights = run_region_insights(
        result.warehouse, result.region_dir, registry, out_dir / "insights"
    )
    result.seconds["insights"] = time.perf_counter() - started

    started = time.perf_counter()
    sections: list[ReportSection] = []
    if not pprl:  # in privacy-preserving mode the hub holds no extract to report on
        con = connect(result.warehouse, read_only=True)
        try:
            sections.append(quality_section(con))
        finally:
            con.close()
    sections.append(linkage_section(result.linkage, result.evaluation, report_dir=out_dir))
    sections.extend(insight_section(run) for run in result.insights)
    if any(
        isinstance(r, InsightRun) and r.analysis.name == "vulnerability" for r in result.insights
    ):
        from sectorlink.insights.vulnerability.demo import cohort_preview_html

        # A region too small to train the model has no scores and so no list.
        with contextlib.suppress(InsightError):
            sections.append(
                ReportSection(
                    title="Vulnerability: a partner's cohort list",
                    body=cohort_preview_html(result.warehouse, registry),
                )
            )
    sections.append(governance_section(registry))
    render_report(
        sections,
        result.report,
        title="sectorlink hub report",
        subtitle=f"Synthetic region of {people:,} people (seed {seed}): "
        f"{len(result.loads)} extract files from {len(result.partners)} partners"
        + (" (privacy-preserving: the hub linked encodings only)" if pprl else ""),
    )
    result.seconds["report"] = time.perf_counter() - started
    result.users = create_demo_users(registry, out_dir)
    return result
