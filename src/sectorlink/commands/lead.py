"""`sectorlink lead ...`: score a home or a child with the lead-risk model, and the
audited exports of the run's person-level lists (docs/insights/lead.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from sectorlink.commands._common import console, fail
from sectorlink.commands._export import exported
from sectorlink.commands.registry import RegistryUrl, opened

lead_app = typer.Typer(
    help="Childhood lead risk: score a home or a child; export the inspection and child lists.",
    no_args_is_help=True,
)

Warehouse = Annotated[
    Path, typer.Option("--warehouse", help="The warehouse the lead-risk analysis ran on.")
]
Organisation = Annotated[str, typer.Option("--organisation", help="Who is asking.")]


def _day(text: str | None) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of takes a date written YYYY-MM-DD, not {text!r}")


def _facts(values: list[str]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            fail(f"--fact takes NAME=VALUE (e.g. year_built=1925), not {value!r}")
        facts[name.strip()] = text.strip()
    return facts


def _show(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(answer))
        return
    model = answer["model"]
    console.print(
        f"[bold]{answer['kind']}[/bold] score {answer['score']:.3f} on {answer['as_of']} "
        f"(model trained {model['trained_from']} to {model['trained_to']}, elevated = at "
        f"least {model['reference_value_ug_dl']:g} µg/dL)"
    )
    for extra, label in (("child_risk", "child risk"), ("hazard_risk", "hazard risk")):
        if answer.get(extra) is not None:
            console.print(f"  {label}: {answer[extra]:.3f}")
    console.print(f"  why: {escape(answer['reasons'])}")


@lead_app.command("score")
def score_command(
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", help="The warehouse (its model, and what it knows)."),
    ] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Who is asking (reads are audited).")
    ] = None,
    registry: RegistryUrl = None,
    property_id: Annotated[
        str | None, typer.Option("--property", help="A home's property id (UPRN).")
    ] = None,
    child: Annotated[
        str | None, typer.Option("--child", help="A child's record id at --source.")
    ] = None,
    source: Annotated[
        str, typer.Option("--source", help="The data set --child's record id belongs to.")
    ] = "lead_northshire",
    fact: Annotated[
        list[str] | None,
        typer.Option("--fact", help="A new address's fact, NAME=VALUE (repeatable)."),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="A saved model file (default: the warehouse's)."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Score as on this date (default today).")
    ] = None,
    allow_other_reference: Annotated[
        bool,
        typer.Option(
            "--allow-other-reference",
            help="Score even when the reference value in force differs from the model's.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score a home (--property), a child (--child) or a new address (--fact ...)."""
    from sectorlink.governance import AccessDenied
    from sectorlink.insights.lead.model import LeadModelArtefact, LeadModelError
    from sectorlink.insights.lead.score import (
        LeadScoreError,
        lead_context,
        score_child,
        score_facts,
        score_property,
    )
    from sectorlink.insights.lead.store import load_model

    day = _day(as_of)
    chosen = [x for x in (property_id, child, fact) if x]
    if len(chosen) != 1:
        fail("give exactly one of --property, --child or --fact")
    try:
        if model is not None:
            artefact = LeadModelArtefact.load(model)
        elif warehouse is not None:
            artefact = load_model(warehouse)
        else:
            fail("give --model or --warehouse (the model the lead-risk run kept)")
        if fact:
            answer = score_facts(
                artefact, _facts(fact), on=day, allow_other_reference=allow_other_reference
            )
        else:
            if warehouse is None or organisation is None:
                fail(
                    "--property and --child read the warehouse: give --warehouse and --organisation"
                )
            with opened(registry) as reg:
                ctx = lead_context(
                    warehouse,
                    reg,
                    organisation,
                    detail={"property": property_id} if property_id else {"child": "1"},
                )
            try:
                if property_id:
                    answer = score_property(
                        ctx.con,
                        artefact,
                        property_id,
                        on=day,
                        allow_other_reference=allow_other_reference,
                    )
                else:
                    answer = score_child(
                        ctx.con,
                        artefact,
                        source,
                        str(child),
                        on=day,
                        allow_other_reference=allow_other_reference,
                    )
            finally:
                ctx.con.close()
    except AccessDenied as error:
        fail(str(error), code=3)
    except (LeadModelError, LeadScoreError, ValueError) as error:
        fail(str(error))
    _show(answer, as_json)


@lead_app.command("inspection-list")
def inspection_list_command(
    warehouse: Warehouse,
    organisation: Organisation,
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    registry: RegistryUrl = None,
    top: Annotated[int | None, typer.Option("--top", help="Only the first N homes.")] = None,
) -> None:
    """The homes ranked for a proactive inspection (no child in it), audited."""
    from sectorlink.governance import AccessDenied
    from sectorlink.governance.doors import audit_head_seq
    from sectorlink.insights.lead.lists import ListUnavailable, inspection_list

    with opened(registry) as reg:
        since = audit_head_seq(reg)
        try:
            frame = inspection_list(warehouse, reg, organisation, top=top)
        except AccessDenied as error:
            fail(str(error), code=3)
        except ListUnavailable as error:
            fail(str(error))
        frame.to_csv(out, index=False)
        entry = exported(
            reg, since=since, door="lead inspection-list", organisation=organisation, path=out,
            rows=len(frame),
        )  # fmt: skip
    console.print(f"{len(frame):,} homes written to {escape(str(out))} (audit entry {entry})")


@lead_app.command("child-list")
def child_list_command(
    warehouse: Warehouse,
    organisation: Organisation,
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    registry: RegistryUrl = None,
) -> None:
    """The children scored, with the owning organisation's own record ids, audited."""
    from sectorlink.governance import AccessDenied
    from sectorlink.governance.doors import audit_head_seq
    from sectorlink.insights.lead.lists import ListUnavailable, child_list

    with opened(registry) as reg:
        since = audit_head_seq(reg)
        try:
            frame = child_list(warehouse, reg, organisation)
        except AccessDenied as error:
            fail(str(error), code=3)
        except ListUnavailable as error:
            fail(str(error))
        frame.to_csv(out, index=False)
        entry = exported(
            reg, since=since, door="lead child-list", organisation=organisation, path=out,
            rows=len(frame),
        )  # fmt: skip
    console.print(f"{len(frame):,} children written to {escape(str(out))} (audit entry {entry})")


@lead_app.command("model")
def model_command(
    warehouse: Warehouse,
    out: Annotated[Path, typer.Option("--out", help="Model file to write (JSON).")],
    card: Annotated[
        Path | None, typer.Option("--card", help="Also write the model card (markdown).")
    ] = None,
) -> None:
    """Save the model the last lead-risk run kept (and its card) to files."""
    import duckdb

    from sectorlink.insights.lead.model import LeadModelError
    from sectorlink.insights.lead.store import MODEL_TABLE, load_model
    from sectorlink.model.sql import scalar

    try:
        artefact = load_model(warehouse)
    except LeadModelError as error:
        fail(str(error))
    artefact.save(out)
    if card is not None:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            card.write_text(str(scalar(con, f"SELECT card FROM {MODEL_TABLE}")))
        finally:
            con.close()
    console.print(
        f"model trained {artefact.trained_from} to {artefact.trained_to} "
        f"(elevated = at least {artefact.reference_value:g} µg/dL) written to {escape(str(out))}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(lead_app, name="lead")
