"""`sectorlink demo`: the whole flow on a synthetic region, with progress and a summary."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sectorlink.commands._common import console, fail
from sectorlink.demo import DEFAULT_OUT, DemoError, DemoResult, run_demo
from sectorlink.insights import NothingToPublish
from sectorlink.pprl.encode import EncodeError
from sectorlink.pprl.load import EncodedFileError
from sectorlink.sources import SourceError


def show_summary(result: DemoResult) -> None:
    table = Table(title="Partner extracts loaded")
    for header in ("source", "file", "rows", "rejected", "people", "events", "complete", "valid"):
        table.add_column(header, justify="left" if header in ("source", "file") else "right")
    for load in result.loads:
        table.add_row(
            load.source,
            load.file.name,
            f"{load.rows_read:,}",
            f"{load.rows_rejected:,}",
            f"{load.rows_written.get('person_record', 0):,}",
            f"{load.rows_written.get('event', 0):,}",
            f"{load.completeness:.0%}",
            f"{load.validity:.0%}",
        )
    console.print(table)
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
    console.print(f"Timings: {timings}")
    console.print(f"[bold]Region[/bold] (extracts, specs, truth): {result.region_dir}")
    console.print(f"[bold]Warehouse[/bold] (DuckDB): {result.warehouse}")
    encoded = result.out_dir / "encoded"
    if encoded.exists():
        console.print(f"[bold]Encoded extracts[/bold] (what partners send the hub): {encoded}")
    console.print(
        f"[bold]Registry[/bold] (directory, agreements, audit log): {result.registry_url}"
    )
    for run in result.insights:
        if isinstance(run, NothingToPublish):
            console.print(f"[bold]Analysis[/bold]: nothing published ({escape(str(run))})")
        else:
            console.print(f"[bold]{escape(run.analysis.title)}[/bold]: {run.out_dir}/summary.html")
    console.print(f"[bold]Report[/bold]: {result.report.resolve()}")
    if result.users:
        console.print(
            "[bold]Web app[/bold]: "
            + escape(
                f"sectorlink serve --registry {result.registry_url} --warehouse "
                f"{result.warehouse} --releases {result.out_dir / 'insights'}"
            )
            + ", then http://127.0.0.1:8000 (sign-ins also in "
            + f"{result.out_dir / 'demo-users.txt'}):"
        )
        for user in result.users.values():
            console.print(
                f"  {escape(user.username)} / {escape(user.password)} ({escape(user.role)}"
                + (f", {escape(user.organisation)})" if user.organisation else ")")
            )


def demo_command(
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Folder for everything the demo writes."),
    people: int = typer.Option(20_000, "--people", min=1, help="People in the synthetic region."),
    seed: int = typer.Option(
        42, "--seed", help="Random seed: the same seed gives the same region."
    ),
    pprl: bool = typer.Option(
        False,
        "--pprl",
        help="Privacy-preserving mode: each partner encodes its extract with a shared key "
        "(sectorlink encode) and the hub links the encodings (link --engine bloom).",
    ),
    serve_after: bool = typer.Option(
        False,
        "--serve",
        help="Then serve the web app on the demo's registry, warehouse and releases on "
        "127.0.0.1:8000 (Ctrl-C stops it); the sign-ins are printed.",
    ),
) -> None:
    """Generate a synthetic region, ingest and link every partner's extract, run every
    analysis, and write the hub report."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=1)

        def hook(description: str, done: int, total: int) -> None:
            progress.update(task, description=description, completed=done, total=total)

        try:
            result = run_demo(out, people=people, seed=seed, hook=hook, pprl=pprl)
        except (DemoError, SourceError, EncodeError, EncodedFileError) as exc:
            fail(str(exc))
    show_summary(result)
    if serve_after:
        from sectorlink.commands.serve import serve

        serve(
            url=result.registry_url,
            warehouse=result.warehouse,
            releases=result.out_dir / "insights",
            uploads=result.out_dir / "uploads",
        )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
