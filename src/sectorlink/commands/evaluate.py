"""`sectorlink evaluate --truth TRUTH.csv`: score the person index against known truth."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sectorlink.commands._common import console, err_console, fail
from sectorlink.commands.registry import RegistryUrl, opened
from sectorlink.governance import AccessDenied
from sectorlink.governance.doors import NOT_AUDITED, governed_evaluate
from sectorlink.linkage import Evaluation, LinkageError, evaluate
from sectorlink.warehouse import DEFAULT_WAREHOUSE, connect


def show_evaluation(ev: Evaluation) -> None:
    table = Table(title="Pairwise accuracy of the person index")
    for header in ("pairs", "precision", "recall", "F1", "linked", "true", "correct"):
        table.add_column(header, justify="left" if header == "pairs" else "right")
    for label, s in (("all", ev.overall), ("cross-source", ev.cross_source)):
        table.add_row(
            label,
            f"{s.precision:.4f}",
            f"{s.recall:.4f}",
            f"{s.f1:.4f}",
            f"{s.predicted_pairs:,}",
            f"{s.true_pairs:,}",
            f"{s.correct_pairs:,}",
        )
    console.print(table)
    console.print(
        f"{ev.clusters:,} persons found for {ev.true_persons:,} true persons "
        f"({ev.records:,} records with truth; {ev.records_without_truth:,} without)"
    )
    if ev.unknown_truth_records:
        console.print(
            f"[yellow]{ev.unknown_truth_records:,} truth rows name records "
            "not in the index[/yellow] "
            f"(e.g. {', '.join(ev.unknown_examples)}); ignored"
        )
    if ev.errors:
        errors = Table(title="Most common errors")
        for header in ("error", "kind", "pairs", "example"):
            errors.add_column(header)
        for e in ev.errors:
            example = e.examples[0] if e.examples else {}
            errors.add_row(
                e.side,
                e.kind,
                f"{e.pairs:,}",
                f"{example.get('left', '')} / {example.get('right', '')}",
            )
        console.print(errors)


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate_command(
        truth: Path = typer.Option(..., "--truth", help="CSV with source, record_id, person_id."),
        warehouse: Path = typer.Option(
            DEFAULT_WAREHOUSE, "--warehouse", "-w", help="DuckDB warehouse file."
        ),
        registry: RegistryUrl = None,
        organisation: str | None = typer.Option(
            None,
            "--organisation",
            help="The organisation scoring the index (with a registry: every data set in "
            "the person index must be covered for it for linkage).",
        ),
    ) -> None:
        """Pairwise precision, recall and F1 of the person index, overall and cross-source.

        With a registry, allowed only when every data set in the person index is covered
        for --organisation and purpose linkage; the check and the scores are audited with
        the actor and the truth file's SHA-256. Exit status 3 when refused.
        """
        if not warehouse.exists():
            fail(f"warehouse {warehouse} does not exist")
        if not registry:
            err_console.print(f"[yellow]Note:[/yellow] {NOT_AUDITED}", highlight=False)
            try:
                show_evaluation(_evaluate(warehouse, truth))
            except LinkageError as exc:
                fail(str(exc))
            return
        if not organisation:
            fail("with a registry, say which organisation is evaluating: --organisation NAME")
        if not truth.is_file():
            fail(f"truth file {truth} does not exist")
        with opened(registry) as reg:
            try:
                with governed_evaluate(
                    reg, warehouse, organisation=organisation, truth=truth
                ) as use:
                    ev = _evaluate(warehouse, truth)
                    use.outcome = {
                        "records": ev.records,
                        "persons_found": ev.clusters,
                        "true_persons": ev.true_persons,
                        "precision": ev.overall.precision,
                        "recall": ev.overall.recall,
                        "f1": ev.overall.f1,
                    }
            except AccessDenied as refusal:
                fail(str(refusal), code=3)
            except LinkageError as exc:  # audited as failed, with this message
                fail(str(exc))
        show_evaluation(ev)


def _evaluate(warehouse: Path, truth: Path) -> Evaluation:
    con = connect(warehouse, read_only=True)
    try:
        return evaluate(con, truth)
    finally:
        con.close()
