"""Running an analysis: one access check, a Grant-bound context, the gate, the release.

`run_analysis` is what `sectorlink insights run` and the demo call. It asks `authorise`
once (the analysis' purpose, every data set it reads), builds the context, runs the
analysis, keeps its person-level tables in the warehouse, writes the release (tables
through the gate, maps, figures, a one-page summary, `summary.json`) into a staging folder
that replaces the output folder only when everything is written, and audits what left.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from sectorlink.governance import (
    DisclosureProfile,
    Grant,
    ProtectedTable,
    append_audit_entry,
    authorise,
    get_profile,
)
from sectorlink.governance.doors import acting_user
from sectorlink.insights.context import (
    AnalysisOutput,
    InsightContext,
    InsightError,
    NothingToPublish,
    build_context,
    sources_read,
)
from sectorlink.insights.registry import Analysis, get_analysis
from sectorlink.insights.writers import (
    write_csv,
    write_geojson,
    write_parquet,
    write_suppression_log,
)
from sectorlink.model.catalogue import CATALOGUE, check_frame, table_definition
from sectorlink.model.ddl import create_table_sql
from sectorlink.model.sql import quote_ident
from sectorlink.registry.db import Registry
from sectorlink.reports.render import render_release_page


@dataclass
class InsightRun:
    """What one run of an analysis produced."""

    analysis: Analysis
    out_dir: Path | None
    period: tuple[dt.date, dt.date]
    linkage_run: str
    output: AnalysisOutput
    tables: dict[str, ProtectedTable]
    notes: list[str]
    summary: dict[str, Any]
    grant: Grant
    kept: list[str] = field(default_factory=list)
    published: bool = True


def parse_month(text: str | None, *, end: bool = False) -> dt.date | None:
    """`YYYY-MM` as the month's first day (or last, with `end`); ValueError saying so."""
    if text is None or text == "":
        return None
    try:
        first = dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"a month is written YYYY-MM (e.g. 2024-03), not {text!r}") from None
    if not end:
        return first
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _attach(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not Path(warehouse).is_file():
        raise InsightError(f"warehouse {warehouse} does not exist; ingest and link first")
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{warehouse!s}' AS wh (READ_ONLY)")
    return con


def run_analysis(
    name: str,
    *,
    warehouse: Path,
    registry: Registry,
    organisation: str,
    out_dir: Path | None = None,
    period: tuple[dt.date | None, dt.date | None] = (None, None),
    profile: str | DisclosureProfile = "suppress-1-7-round-5",
    params: dict[str, str] | None = None,
    actor: str | None = None,
) -> InsightRun:
    """Run the analysis `name` for `organisation` and write its release to `out_dir`.

    Args:
        name: a registered analysis (`sectorlink insights list`).
        warehouse: the DuckDB warehouse, ingested and linked.
        registry: the registry holding the agreements and the audit log.
        organisation: who runs it; every data set it reads must be covered for them.
        out_dir: where the release goes (replaced whole); None keeps only the warehouse
            tables and the audit entries.
        period: first and last day to report on; None: the data's own range.
        profile: the disclosure profile every published table goes through.
        params: the analysis' own parameters, as text (`{"hotspot_fdr": "0.05"}`).
        actor: who is acting (default: the operating-system user).

    Raises:
        UnknownAnalysis: no such analysis (the message lists them).
        AccessDenied: an agreement does not cover a data set (audited).
        NothingToPublish: nothing to report for the period (audited, nothing written).
        InsightError: the warehouse cannot support the run (not linked, no data).

    Example:
        >>> run = run_analysis("violence-hotspots", warehouse=Path("hub.duckdb"),
        ...                    registry=open_registry(), organisation="Northshire Hub",
        ...                    out_dir=Path("release"))
    """
    analysis = get_analysis(name)
    rules = get_profile(profile)
    values = analysis.parse_parameters(dict(params or {}))
    actor = actor or acting_user()
    ctx = authorised_context(
        analysis,
        warehouse=warehouse,
        registry=registry,
        organisation=organisation,
        actor=actor,
        profile=rules,
        period=period,
        params=values,
        detail={
            "analysis": name,
            "period": [str(p) if p else None for p in period],
            "profile": rules.name,
        },
    )
    grant = ctx.grant
    ctx.registry = registry
    try:
        try:
            output = analysis.run(ctx)
        except NothingToPublish as nothing:
            _audit_release(registry, ctx, actor, outcome="withheld", reason=str(nothing))
            raise
        kept = _keep(warehouse, ctx)
        summary = _summary(ctx, output, kept, actor)
        run = InsightRun(
            analysis=analysis,
            out_dir=out_dir,
            period=(ctx.period_start, ctx.period_end),
            linkage_run=ctx.linkage_run,
            output=output,
            tables=dict(ctx.tables),
            notes=list(ctx.notes),
            summary=summary,
            grant=grant,
            kept=kept,
        )
        if out_dir is not None:
            _write_release(run, ctx, Path(out_dir), registry, actor)
        else:
            record = _audit_release(
                registry, ctx, actor, outcome="published", reason="kept in the hub only"
            )
            summary["audit_entry"] = record
        return run
    finally:
        ctx.con.close()


class NothingToRead(InsightError):
    """The warehouse holds none of what the analysis reads."""


def authorised_context(
    analysis: Analysis,
    *,
    warehouse: Path,
    registry: Registry,
    organisation: str,
    actor: str,
    profile: DisclosureProfile,
    period: tuple[dt.date | None, dt.date | None] = (None, None),
    params: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> InsightContext:
    """The one access check (the analysis' purpose, every data set holding what it reads)
    and the Grant-bound context built from it; `detail` goes into the audit entry.

    Raises:
        NothingToRead: no data set holds what the analysis reads.
        AccessDenied: an agreement does not cover a data set (audited).
    """
    probe = _attach(warehouse)
    try:
        sources = sources_read(probe, analysis)
    finally:
        probe.close()
    if not sources:
        kinds = ", ".join(analysis.event_types or analysis.tables)
        raise NothingToRead(f"{analysis.name}: the warehouse holds none of what it reads ({kinds})")
    grant = authorise(
        registry,
        organisation=organisation,
        purpose=analysis.purpose,
        datasets=sources,
        action="read",
        actor=actor,
        detail=detail,
    )
    ctx = build_context(warehouse, analysis, grant, profile=profile, period=period, params=params)
    ctx.registry = registry
    return ctx


def _keep(warehouse: Path, ctx: InsightContext) -> list[str]:
    """Replace the analysis' person-level tables in the warehouse, all in one transaction.

    A catalogued table is made from its definition (`model.insight_tables`) and filled by
    name, so the warehouse holds the types the catalogue states, never whatever a frame
    happened to have; a frame that does not match (a column missing, added or mistyped)
    raises `FrameMismatch` here too, even if it reached `ctx.kept` without `ctx.keep`.
    A table the catalogue does not define is kept in the frame's own shape.

    Raises:
        FrameMismatch: a frame does not match its table's definition; nothing is written.
    """
    if not ctx.kept:
        return []
    for table, frame in ctx.kept.items():  # every frame checked before anything is written
        if table in CATALOGUE:
            check_frame(table, frame)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            for table, frame in ctx.kept.items():
                con.register("_kept", frame)
                name = quote_ident(table)
                if table in CATALOGUE:
                    con.execute(f"DROP TABLE IF EXISTS {name}")
                    con.execute(create_table_sql(table_definition(table), if_not_exists=False))
                    con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _kept")
                else:
                    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _kept")
                con.unregister("_kept")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return sorted(ctx.kept)


def _summary(
    ctx: InsightContext, output: AnalysisOutput, kept: list[str], actor: str
) -> dict[str, Any]:
    return {
        "analysis": ctx.analysis.name,
        "title": ctx.analysis.title,
        "question": ctx.analysis.question,
        "purpose": ctx.analysis.purpose,
        "organisation": ctx.grant.organisation,
        "actor": actor,
        "period": {"from": ctx.period_start.isoformat(), "to": ctx.period_end.isoformat()},
        "linkage_run": ctx.linkage_run,
        "data_sets": list(ctx.sources),
        "basis": dict(ctx.grant.basis),
        "access_audit_entry": ctx.grant.audit_seq,
        "profile": ctx.profile.name,
        "key_figures": {k: _jsonable(v) for k, v in output.key_figures.items()},
        "tables": {},
        "maps": {},
        "figures": {},
        "withheld": list(ctx.withheld),
        "person_level_tables": kept,
        "notes": list(ctx.notes),
        "parameters": {k: _jsonable(v) for k, v in ctx.params.items()},
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _audit_release(
    registry: Registry, ctx: InsightContext, actor: str, *, outcome: str, reason: str
) -> int:
    record = append_audit_entry(
        registry,
        actor=actor,
        organisation=ctx.grant.organisation,
        action="publish",
        purpose=ctx.analysis.purpose,
        datasets=list(ctx.sources),
        outcome=outcome,
        reason=reason,
        detail={
            "analysis": ctx.analysis.name,
            "grant": ctx.grant.audit_seq,
            "linkage_run": ctx.linkage_run,
            "period": [ctx.period_start.isoformat(), ctx.period_end.isoformat()],
            "profile": ctx.profile.name,
            "tables": {
                name: {"suppressed_cells": len(t.log)} for name, t in sorted(ctx.tables.items())
            },
        },
    )
    return record.seq


def _write_release(
    run: InsightRun, ctx: InsightContext, out_dir: Path, registry: Registry, actor: str
) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        for name, table in sorted(ctx.tables.items()):
            files = {
                "title": ctx.table_titles.get(name, name),
                "csv": write_csv(table, staging / f"{name}.csv").name,
                "parquet": write_parquet(table, staging / f"{name}.parquet").name,
                "suppression_log": write_suppression_log(
                    table, staging / f"{name}.suppression.csv"
                ).name,
                "suppressed_cells": len(table.log),
            }
            run.summary["tables"][name] = files
        for name, collection in sorted(ctx.maps.items()):
            run.summary["maps"][name] = write_geojson(collection, staging / f"{name}.geojson").name
        for name, figure in sorted(ctx.figures.items()):
            path = staging / f"{name}.svg"
            path.write_text(figure.svg, encoding="utf-8")
            run.summary["figures"][name] = path.name
        for filename, text in sorted(ctx.documents.items()):
            (staging / filename).write_text(text, encoding="utf-8")
            run.summary.setdefault("documents", []).append(filename)
        render_release_page(
            staging / "summary.html",
            title=ctx.analysis.title,
            question=ctx.analysis.question,
            summary=run.summary,
            body=run.output.body,
            notes=ctx.notes,
        )
        run.summary["page"] = "summary.html"
        run.summary["audit_entry"] = _audit_release(
            registry,
            ctx,
            actor,
            outcome="published",
            reason=f"{len(ctx.tables)} table(s) to {out_dir}",
        )
        (staging / "summary.json").write_text(
            json.dumps(run.summary, indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )
        if out_dir.exists():
            retired = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(retired, ignore_errors=True)
            out_dir.rename(retired)
            staging.rename(out_dir)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def run_all(
    *,
    warehouse: Path,
    registry: Registry,
    organisation: str,
    out_dir: Path,
    profile: str | DisclosureProfile = "suppress-1-7-round-5",
    actor: str | None = None,
) -> list[InsightRun | NothingToPublish]:
    """Every registered analysis, each into `out_dir/NAME` (what the demo runs). One that
    has nothing to publish, or cannot run on this warehouse, is listed with the reason
    and the others still run."""
    from sectorlink.insights.registry import list_analyses

    results: list[InsightRun | NothingToPublish] = []
    for analysis in list_analyses():
        try:
            results.append(
                run_analysis(
                    analysis.name,
                    warehouse=warehouse,
                    registry=registry,
                    organisation=organisation,
                    out_dir=out_dir / analysis.name,
                    profile=profile,
                    actor=actor,
                )
            )
        except NothingToPublish as nothing:
            results.append(nothing)
        except InsightError as error:  # e.g. the hub holds none of what it reads
            results.append(NothingToPublish(f"{analysis.title}: not run: {error}"))
    return results
