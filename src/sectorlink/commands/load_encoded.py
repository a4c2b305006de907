"""`sectorlink load-encoded`: load partners' encodings into the hub's warehouse."""

from __future__ import annotations

from pathlib import Path

import typer

from sectorlink.commands._common import console, fail
from sectorlink.pprl.load import EncodedFileError, load_encoded
from sectorlink.warehouse import DEFAULT_WAREHOUSE


def register(app: typer.Typer) -> None:
    @app.command("load-encoded")
    def load_encoded_command(
        files: list[Path] = typer.Argument(
            ..., help="Encoded .parquet files (from sectorlink encode)."
        ),
        warehouse: Path = typer.Option(
            DEFAULT_WAREHOUSE,
            "--warehouse",
            "-w",
            help="DuckDB warehouse file (created when missing).",
        ),
        replace: bool = typer.Option(
            False, "--replace", help="Load a file again even when the same file was loaded before."
        ),
    ) -> None:
        """Load encoded extracts for `sectorlink link --engine bloom`, all in one transaction.

        Every file is checked first (format, columns, keyed tokens, one key and schema);
        any problem loads nothing.
        """
        try:
            results = load_encoded(files, warehouse=warehouse, replace=replace)
        except (EncodedFileError, ValueError) as exc:
            fail(str(exc))
        for r in results:
            sources = ", ".join(r.sources)
            if r.status == "skipped":
                console.print(f"[yellow]skipped[/yellow] {r.file} ({sources}): already loaded")
            else:
                extra = f", {r.replaced:,} replaced" if r.replaced else ""
                console.print(
                    f"[green]loaded[/green] {r.file}: {r.records:,} encoded records "
                    f"({sources}){extra}"
                )
