"""`sectorlink ingest SPEC FILE`: validate and load one partner extract."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sectorlink.commands._common import console, err_console, fail
from sectorlink.commands.registry import RegistryUrl, opened
from sectorlink.governance import AccessDenied
from sectorlink.governance.doors import NOT_AUDITED, acting_user, authorise_load, record_load
from sectorlink.sources import LoadResult, RejectGroup, SourceError, ingest, load_spec
from sectorlink.warehouse import DEFAULT_WAREHOUSE, connect
from sectorlink.warehouse.provenance import record_load_authority


def show_result(result: LoadResult, *, max_rows: int = 20) -> None:
    """Print a load result: counts, quality per field, unmapped codes, field issues and
    first rejects."""
    if result.status == "skipped":
        console.print(
            f"[yellow]Already loaded[/yellow] as {result.previous_load_id}: {result.file} "
            "(same content). Nothing to do; use --replace to load it again."
        )
        return
    verb = "Checked" if result.status == "checked" else "Loaded"
    written = ", ".join(f"{n:,} {t}" for t, n in result.rows_written.items())
    console.print(
        f"[bold green]{verb}[/bold green] {result.file} as source [bold]{result.source}[/bold]"
        + (f" (load {result.load_id})" if result.load_id else "")
    )
    console.print(
        f"  rows read {result.rows_read:,}; rejected {result.rows_rejected:,}; "
        f"values set empty (field issues) {result.field_issues:,}; "
        f"{'would write' if result.status == 'checked' else 'written'}: {written}"
        + (f"; replaced {result.rows_replaced:,}" if result.rows_replaced else "")
    )
    for note in result.notes:
        console.print(f"[yellow]Note:[/yellow] {note}")
    quality = Table(title="Quality per field", show_lines=False)
    for header in ("table", "field", "from column", "complete", "valid", "rule"):
        quality.add_column(header, justify="right" if header in ("complete", "valid") else "left")
    for q in result.quality:
        quality.add_row(
            q.table, q.field, q.column, f"{q.completeness:.1%}", f"{q.validity:.1%}", q.rule or ""
        )
    console.print(quality)
    if result.unmapped:
        unmapped = Table(title="Unmapped codes (stored as empty; add them to the spec's codes:)")
        for header in ("field", "column", "value", "rows", "first row"):
            unmapped.add_column(header)
        for u in result.unmapped[:max_rows]:
            unmapped.add_row(
                f"{u.table}.{u.field}", u.column, u.local_value, f"{u.rows:,}", str(u.first_row)
            )
        console.print(unmapped)
    if result.field_issue_groups:
        _print_groups(
            "Values set empty, their rows loaded (field issues, all in the field_issues table)",
            result.field_issue_groups[:max_rows],
        )
    if result.reject_groups:
        _print_groups("Rejected rows by column and field", result.reject_groups[:max_rows])
    if result.field_issue_sample:
        issues = Table(title=f"First field issues (all {result.field_issues:,} are kept)")
        for header in ("row", "column", "reason"):
            issues.add_column(header)
        for i in result.field_issue_sample[:max_rows]:
            issues.add_row(str(i.row), i.column or "", i.reason)
        console.print(issues)
    if result.rejects:
        rejects = Table(
            title=f"First rejected rows (all {result.rows_rejected:,} are in the rejects table)"
        )
        for header in ("row", "column", "reason"):
            rejects.add_column(header)
        for r in result.rejects[:max_rows]:
            rejects.add_row(str(r.row), r.column or "", r.reason)
        console.print(rejects)


def _print_groups(title: str, groups: list[RejectGroup]) -> None:
    table = Table(title=title)
    for header in ("column", "field", "code", "rows", "first row", "first reason"):
        table.add_column(header, justify="right" if header in ("rows", "first row") else "left")
    for g in groups:
        table.add_row(g.column or "", g.target, g.code, f"{g.rows:,}", str(g.first_row), g.example)
    console.print(table)


def ingest_command(
    spec: Path = typer.Argument(..., help="The mapping spec (YAML) for this extract."),
    file: Path = typer.Argument(..., help="The partner's extract: CSV, Excel (.xlsx) or Parquet."),
    warehouse: Path = typer.Option(
        DEFAULT_WAREHOUSE, "--warehouse", "-w", help="DuckDB warehouse file."
    ),
    check: bool = typer.Option(False, "--check", help="Validate and report only; write nothing."),
    replace: bool = typer.Option(
        False, "--replace", help="Load a file loaded before again, replacing its rows."
    ),
    registry: RegistryUrl = None,
    organisation: str | None = typer.Option(
        None,
        "--organisation",
        help="The organisation loading it (with a registry: it must own the data set or "
        "receive it under a current agreement).",
    ),
) -> None:
    """Validate an extract against its mapping spec and load it in one transaction.

    A row whose record id, event id, event start or a field the spec marks required is
    missing or invalid is rejected: kept in the rejects table with its row number, reason
    and code. An invalid value in any other field is set empty and kept in the field_issues
    table, and its row loads. Loading the same file twice does nothing. Exit status: 0 when
    loaded (or, with --check, when every value is valid), 1 when --check finds rejects,
    field issues or unmapped codes, 2 when the spec or the file is unusable.
    """
    if registry is None or check:
        if not check:
            err_console.print(f"[yellow]Note:[/yellow] {NOT_AUDITED}", highlight=False)
        try:
            result = ingest(spec, file, warehouse=warehouse, check=check, replace=replace)
        except SourceError as exc:
            fail(str(exc))
    else:
        result = _governed_ingest(spec, file, warehouse, replace, registry, organisation)
    show_result(result)
    if check and (result.rows_rejected or result.field_issues or result.unmapped):
        raise typer.Exit(1)


def _governed_ingest(
    spec: Path, file: Path, warehouse: Path, replace: bool, url: str, organisation: str | None
) -> LoadResult:
    """The load behind the access check, audited, with its authority kept in the warehouse."""
    if not organisation:
        fail("with a registry, say which organisation is loading: --organisation NAME")
    try:
        parsed = load_spec(spec)
    except SourceError as exc:
        fail(str(exc))
    actor = acting_user()
    with opened(url) as reg:
        try:
            grant = authorise_load(
                reg,
                organisation=organisation,
                source=parsed.source,
                files={"spec": spec, "extract": file},
                actor=actor,
            )
        except AccessDenied as refusal:
            fail(str(refusal), code=3)
        except OSError as exc:
            fail(f"cannot read {exc.filename}: {exc.strerror}")
        try:
            result = ingest(parsed, file, warehouse=warehouse, replace=replace)
        except SourceError as exc:
            fail(str(exc))
        outcome = {
            "status": result.status,
            "file": str(file),
            "load_id": result.load_id or result.previous_load_id,
            "rows_read": result.rows_read,
            "rows_rejected": result.rows_rejected,
            "field_issues": result.field_issues,
        }
        seq = record_load(reg, grant, outcome=outcome, actor=actor)
    if result.status == "loaded" and result.load_id:
        con = connect(warehouse)
        try:
            record_load_authority(
                con,
                load_id=result.load_id,
                organisation=grant.organisation,
                basis=grant.basis.get(parsed.source, ""),
                access_audit_entry=grant.audit_seq,
                load_audit_entry=seq,
                actor=actor,
            )
        finally:
            con.close()
    return result


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
