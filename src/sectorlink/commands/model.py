"""`sectorlink model ...`: export the common data model."""

from __future__ import annotations

from pathlib import Path

import typer

from sectorlink.commands._common import console
from sectorlink.model import data_model_markdown, export_schemas

model_app = typer.Typer(
    help="The common data model: export schemas and documentation.", no_args_is_help=True
)


@model_app.command("export")
def export(out_dir: Path = typer.Argument(..., help="Folder to write the schemas into.")) -> None:
    """Write a Frictionless Table Schema per table and a JSON file per code set."""
    written = export_schemas(out_dir)
    console.print(f"Wrote {len(written)} files to {out_dir}")


@model_app.command("docs")
def docs(
    out: Path = typer.Argument(Path("docs/data-model.md"), help="Markdown file to write."),
) -> None:
    """Write the data-model document generated from the model."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(data_model_markdown() + "\n")
    console.print(f"Wrote {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
