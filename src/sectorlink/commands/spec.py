"""`sectorlink spec draft FILE`: a starting mapping spec for a partner's file."""

from __future__ import annotations

from pathlib import Path

import typer

from sectorlink.commands._common import console, err_console, fail
from sectorlink.sources import SourceError
from sectorlink.sources.draft import SAMPLE_ROWS, draft_spec

spec_app = typer.Typer(help="Mapping specs: draft one from a partner's file.", no_args_is_help=True)


@spec_app.command("draft")
def draft(
    file: Path = typer.Argument(..., help="The partner's extract (CSV, Excel or Parquet)."),
    source: str | None = typer.Option(
        None, "--source", help="The source name rows are stored under (default: from the file)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the spec here instead of printing it."
    ),
    force: bool = typer.Option(False, "--force", help="Replace --out if it exists."),
    sample_rows: int = typer.Option(SAMPLE_ROWS, help="Rows of the file to look at."),
) -> None:
    """Draft a mapping spec from FILE: file options, id column, person fields and date
    formats found from its header and a sample of its rows, and TODOs for the rest.
    Check it, then run `sectorlink ingest SPEC FILE --check`."""
    if out is not None and out.exists() and not force:
        fail(f"{out} exists; give --force to replace it")
    try:
        # The whole file is read, as ingest reads it: seconds for a large one.
        with err_console.status(f"Reading {file.name} as ingest will..."):
            drafted = draft_spec(file, source=source, sample_rows=sample_rows)
    except SourceError as exc:
        fail(str(exc))
    if out is None:
        console.print(drafted.text, end="", markup=False, highlight=False, soft_wrap=True)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(drafted.text, encoding="utf-8")
        err_console.print(f"Wrote {out}")
    found = ", ".join(f"{f} <- {c}" for f, c in drafted.fields.items()) or "none"
    err_console.print(f"Record id: {drafted.record_id or 'not found'}; person fields: {found}")
    for todo in drafted.todo:
        err_console.print(f"[yellow]TODO:[/yellow] {todo}", highlight=False)
    if not drafted.ready:
        err_console.print(
            "[yellow]The draft is not a valid spec yet:[/yellow] finish the TODOs above."
        )


def register(app: typer.Typer) -> None:
    app.add_typer(spec_app, name="spec")
