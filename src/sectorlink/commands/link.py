"""`sectorlink link`: link every person record in the warehouse into a person index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from sectorlink.commands._common import console, err_console, fail
from sectorlink.commands.registry import RegistryUrl, opened
from sectorlink.governance import AccessDenied
from sectorlink.governance.doors import NOT_AUDITED, governed_link
from sectorlink.linkage import LinkageError, LinkResult, link
from sectorlink.linkage.engines import ENGINES
from sectorlink.warehouse import DEFAULT_WAREHOUSE


def show_result(result: LinkResult) -> None:
    # the first line says which model scored the pairs (trained, checked, or defaults)
    console.print(result.model_summary)
    console.print(
        f"[bold green]Linked[/bold green] {result.records:,} records from "
        f"{len(result.sources)} source(s) into {result.persons:,} persons "
        f"(run {result.run_id}, engine {result.engine})"
    )
    for message in result.messages:
        if message != result.model_summary:
            console.print(f"  [yellow]note:[/yellow] {message}")
    events = ", ".join(f"{n:,} {e}" for e, n in sorted(result.key_events.items()))
    console.print(f"  person keys: {events or 'all kept'}")
    clustering = result.clustering
    if clustering.incoherent_first_pass:
        kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(clustering.incoherent_by_kind.items()))
        console.print(
            f"  {clustering.incoherent_first_pass:,} clusters held contradicting records "
            f"and were split ({kinds}); coherence before splitting "
            f"{clustering.coherence:.2%}; {clustering.merged_back:,} parts merged back"
        )
    table = Table(title="Records per source")
    table.add_column("source")
    table.add_column("records", justify="right")
    for source, n in result.sources.items():
        table.add_row(source, f"{n:,}")
    console.print(table)
    console.print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items()))
    for name, path in result.outputs.items():
        console.print(f"  wrote {name}: {path}")


def register(app: typer.Typer) -> None:
    @app.command("link")
    def link_command(
        warehouse: Path = typer.Option(
            DEFAULT_WAREHOUSE, "--warehouse", "-w", help="DuckDB warehouse file."
        ),
        engine: str = typer.Option(
            "duckdb",
            "--engine",
            help="duckdb (default) or spark: link person records in the clear; bloom: link "
            "the encodings loaded with `sectorlink load-encoded` (privacy-preserving).",
        ),
        out: Path | None = typer.Option(
            None,
            "--out",
            help="Folder for person_index.csv/.parquet, model.json and the HTML report.",
        ),
        truth: Path | None = typer.Option(
            None, "--truth", help="Truth CSV (source, record_id, person_id) to score in the report."
        ),
        threshold: float = typer.Option(0.9, "--threshold", help="Match probability to link at."),
        lenient: bool = typer.Option(
            False,
            "--lenient",
            help="Train contradiction levels like any other (for data whose errors replace "
            "whole names and dates at random); default: contradictions weigh heavily.",
        ),
        allow_default_model: bool = typer.Option(
            False,
            "--allow-default-model",
            help="When the model cannot be trained (too few records, EM failed), link with "
            "the documented default m and u probabilities instead of stopping with an error.",
        ),
        identifier_examples: bool = typer.Option(
            False,
            "--identifier-examples",
            help="Let the HTML report show example pairs with clear names, birth dates and "
            "postcodes (only for readers allowed to read identifiers).",
        ),
        registry: RegistryUrl = None,
        organisation: str | None = typer.Option(
            None,
            "--organisation",
            help="The organisation linking (with a registry: it must own every data set "
            "linked or receive it under a current agreement permitting linkage).",
        ),
    ) -> None:
        """Link all person records (within and across partners) and publish the person index.

        With a registry, the run is allowed only when every data set it links is covered
        for --organisation and purpose linkage (in the clear for duckdb and spark,
        encodings only for bloom); the check and what the run did are audited with the
        actor, the inputs and the truth file's SHA-256. Exit status 3 when refused.
        """
        if engine not in ENGINES:
            fail(f"unknown engine {engine!r}: use {', '.join(ENGINES)}")
        if lenient and engine == "bloom":
            fail("--lenient applies to the duckdb and spark engines only")
        if not warehouse.exists():
            fail(f"warehouse {warehouse} does not exist; ingest an extract first")
        if registry and not organisation:
            fail("with a registry, say which organisation is linking: --organisation NAME")

        def run() -> LinkResult:
            with console.status("Linking person records..."):
                return link(
                    warehouse,
                    engine=engine,
                    out_dir=out,
                    truth=truth,
                    threshold=threshold,
                    strict_contradictions=not lenient,
                    allow_default_model=allow_default_model,
                    identifier_examples=identifier_examples,
                )

        options = {
            "threshold": threshold,
            "lenient": lenient,
            "allow_default_model": allow_default_model,
            "identifier_examples": identifier_examples,
            "out": str(out) if out else None,
        }
        try:
            if not registry:
                result = run()
            else:
                result = _governed(
                    run, registry, str(organisation), warehouse, engine, truth, options
                )
        except (LinkageError, ValueError) as exc:
            if not registry:
                _say_not_audited()
            fail(str(exc))
        show_result(result)  # its first line says which model scored the pairs
        if not registry:
            _say_not_audited()


def _say_not_audited() -> None:
    err_console.print(f"[yellow]Note:[/yellow] {NOT_AUDITED}", highlight=False)


def _governed(
    run: Callable[[], LinkResult],
    url: str,
    organisation: str,
    warehouse: Path,
    engine: str,
    truth: Path | None,
    options: dict[str, Any],
) -> LinkResult:
    """The run behind the linkage door: refused (exit 3) or run, audited either way."""
    if truth is not None and not truth.is_file():
        fail(f"truth file {truth} does not exist")
    with opened(url) as reg:
        try:
            door = governed_link(
                reg,
                warehouse,
                organisation=organisation,
                engine=engine,
                files={"truth": truth},
                inputs=options,
            )
            with door as use:
                result = run()
                use.outcome = {
                    "run_id": result.run_id,
                    "engine": result.engine,
                    "records": result.records,
                    "persons": result.persons,
                    "links": result.links,
                    "sources": dict(result.sources),
                }
        except AccessDenied as refusal:
            fail(str(refusal), code=3)
    return result
