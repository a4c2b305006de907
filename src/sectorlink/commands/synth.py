"""`sectorlink synth`: write a synthetic region (a thin wrapper over generate_region)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sectorlink.commands._common import console, fail
from sectorlink.synth import MessConfig, generate_region, parse_rate_overrides, preset_mess
from sectorlink.synth.config import PRESETS

RATE_HELP = "Set a mess rate, NAME=VALUE in [0, 1]; repeat for several. Names: " + ", ".join(
    MessConfig.names()
)


def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the region into."),
    people: int = typer.Option(20_000, "--people", "-n", help="Number of residents."),
    seed: int = typer.Option(
        42, "--seed", "-s", help="Random seed; the same seed gives the same bytes."
    ),
    force: bool = typer.Option(
        False, "--force", help="Overwrite an earlier region in a non-empty folder."
    ),
    rate: list[str] = typer.Option([], "--rate", "-r", help=RATE_HELP),
    preset: str = typer.Option(
        "default",
        "--preset",
        help="Starting mess rates: "
        + " or ".join(PRESETS)
        + " (households that look like one person, more age-only and name-only "
        "records); --rate changes them further.",
    ),
) -> None:
    """Generate a synthetic region: nine-plus partners' messy extracts, their mapping specs,
    the truth to score against, and an offline map. See docs/synthetic-region.md."""
    try:
        mess = preset_mess(preset).with_rates(parse_rate_overrides(rate))
        manifest = generate_region(
            out, people=people, seed=seed, mess=mess, force=force, progress=True
        )
    except ValueError as exc:
        fail(str(exc))
    table = Table(title=f"{manifest.people:,} people, seed {manifest.seed}, {out}")
    for column in ("source", "sector", "file", "rows", "to reject"):
        table.add_column(column, justify="right" if column in ("rows", "to reject") else "left")
    for extract in manifest.extracts:
        table.add_row(
            extract.source,
            extract.sector,
            Path(extract.file).name,
            f"{extract.rows:,}",
            f"{extract.expected_rejects:,}",
        )
    console.print(table)
    console.print(
        f"Specs in {out / 'specs'}, truth in {out / 'truth'}, map in {out / 'geography'}. "
        "Rows planted for ingest to reject are listed in truth/expected_rejects.csv."
    )


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
