"""`sectorlink model ...`: the catalogue of every table the hub writes, its schemas and docs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sectorlink.commands._common import console, fail
from sectorlink.model import CATALOGUE, data_model_markdown, export_schemas
from sectorlink.model.catalogue import LAYER_TITLES

model_app = typer.Typer(
    help="The common data model and the hub's own tables: list them, export schemas and "
    "documentation.",
    no_args_is_help=True,
)


@model_app.command("tables")
def tables(
    layer: str | None = typer.Option(
        None, "--layer", help=f"Only the tables one layer writes: {', '.join(LAYER_TITLES)}."
    ),
) -> None:
    """List every table the hub writes: which layer writes it, its kind and what it holds."""
    if layer is not None and layer not in LAYER_TITLES:
        fail(f"unknown layer {layer!r}: use {', '.join(LAYER_TITLES)}")
    listing = Table(title="Tables the hub writes (docs/data-model.md)")
    listing.add_column("table", no_wrap=True)  # a name to copy, never broken across lines
    for header in ("layer", "kind", "columns", "holds"):
        listing.add_column(header, overflow="fold")
    for t in CATALOGUE.values():
        if layer is None or t.layer == layer:
            listing.add_row(t.name, t.layer, t.kind, str(len(t.fields)), t.description)
    console.print(listing)


@model_app.command("export")
def export(out_dir: Path = typer.Argument(..., help="Folder to write the schemas into.")) -> None:
    """Write a Frictionless Table Schema per catalogued table and a JSON file per code set."""
    written = export_schemas(out_dir)
    console.print(f"Wrote {len(written)} files to {out_dir}")


@model_app.command("docs")
def docs(
    out: Path = typer.Argument(Path("docs/data-model.md"), help="Markdown file to write."),
) -> None:
    """Write the data-model document generated from the catalogue."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(data_model_markdown() + "\n")
    console.print(f"Wrote {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
