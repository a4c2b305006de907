"""`sectorlink insights ...`: list the registered analyses, run one, load the geography."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sectorlink.commands._common import console, fail
from sectorlink.commands.registry import RegistryUrl, opened
from sectorlink.governance import AccessDenied
from sectorlink.insights import (
    GeographyError,
    InsightError,
    NothingToPublish,
    UnknownAnalysis,
    list_analyses,
    load_geography,
    parse_month,
    run_analysis,
)
from sectorlink.warehouse import connect

insights_app = typer.Typer(
    help="The analyses: hotspots, vulnerability, alerts, lead risk, outcomes and value.",
    no_args_is_help=True,
)

Warehouse = Annotated[
    Path, typer.Option("--warehouse", help="The DuckDB warehouse, ingested and linked.")
]


@insights_app.command("list")
def list_command() -> None:
    """Every registered analysis: what it answers, the purpose it needs, what it reads."""
    for analysis in list_analyses():
        console.print(f"[bold]{escape(analysis.name)}[/bold]: {escape(analysis.title)}")
        console.print(f"  {escape(analysis.question)}")
        console.print(
            f"  purpose {escape(analysis.purpose)}; reads "
            f"{escape(', '.join(analysis.event_types or analysis.tables))}"
        )
        if analysis.outputs:
            console.print(f"  publishes {escape(', '.join(analysis.outputs))}")


def _params(values: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            fail(f"--param takes NAME=VALUE, not {value!r}")
        params[name.strip()] = text.strip()
    return params


@insights_app.command("run")
def run_command(
    name: Annotated[str, typer.Argument(help="The analysis (see `sectorlink insights list`).")],
    warehouse: Warehouse,
    organisation: Annotated[
        str, typer.Option("--organisation", help="The organisation running it.")
    ],
    registry: RegistryUrl = None,
    period_from: Annotated[
        str | None, typer.Option("--from", help="First month, YYYY-MM (default: the data's).")
    ] = None,
    period_to: Annotated[
        str | None, typer.Option("--to", help="Last month, YYYY-MM (default: the data's).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the release (default: release-NAME)."),
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="Disclosure profile for every published table.")
    ] = "suppress-1-7-round-5",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="An analysis parameter, NAME=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Run one analysis: access check, the disclosure gate, a release folder, audited."""
    try:
        period = (parse_month(period_from), parse_month(period_to, end=True))
    except ValueError as error:
        fail(str(error))
    target = out or Path(f"release-{name}")
    with opened(registry) as reg:
        try:
            run = run_analysis(
                name,
                warehouse=warehouse,
                registry=reg,
                organisation=organisation,
                out_dir=target,
                period=period,
                profile=profile,
                params=_params(param or []),
            )
        except UnknownAnalysis as error:
            fail(str(error))
        except AccessDenied as error:
            fail(str(error), code=3)
        except NothingToPublish as nothing:
            console.print(f"Nothing published: {escape(str(nothing))}")
            return
        except (InsightError, ValueError) as error:
            fail(str(error))
    console.print(
        f"[bold]{escape(run.analysis.title)}[/bold], {run.period[0]} to {run.period[1]} "
        f"(linkage run {escape(run.linkage_run)})"
    )
    for key, value in run.output.key_figures.items():
        console.print(f"  {escape(key.replace('_', ' '))}: {escape(str(value))}")
    for note in run.notes:
        console.print(f"  note: {escape(note)}")
    console.print(
        f"Release: {escape(str(target))} ({len(run.tables)} table(s), summary.html, "
        f"summary.json); audit entry {run.summary.get('audit_entry')}"
    )


@insights_app.command("geography")
def geography_command(
    warehouse: Warehouse,
    postcodes: Annotated[
        Path,
        typer.Option(
            "--postcodes", help="CSV: postcode, small_area[, neighbourhood, latitude, longitude]."
        ),
    ],
    areas: Annotated[
        Path, typer.Option("--areas", help="GeoJSON of small areas (a 'code' property each).")
    ],
) -> None:
    """Load (replace) the postcode-to-small-area lookup and the small-area outlines."""
    con = connect(warehouse)
    try:
        loaded = load_geography(con, postcodes, areas)
    except GeographyError as error:
        fail(str(error))
    finally:
        con.close()
    console.print(f"Loaded {loaded.postcodes:,} postcodes and {loaded.areas:,} small areas.")


def register(app: typer.Typer) -> None:
    app.add_typer(insights_app, name="insights")
