"""`sectorlink alerts ...`: care-coordination alerts for clients of homelessness providers
who attend A&E or are conveyed by ambulance (see docs/insights/homelessness.md)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from sectorlink.commands._common import console, fail
from sectorlink.commands._export import exported
from sectorlink.commands.registry import RegistryUrl, opened
from sectorlink.governance import AccessDenied
from sectorlink.governance.doors import audit_head_seq
from sectorlink.insights import InsightError
from sectorlink.insights.homelessness.agreements import register_care_coordination
from sectorlink.insights.homelessness.alerts import raise_alerts
from sectorlink.insights.homelessness.cohort import provider_cohort
from sectorlink.insights.homelessness.delivery import (
    Webhook,
    WebhookError,
    deliver_webhook,
    write_digest,
)
from sectorlink.insights.homelessness.status import StatusRules
from sectorlink.insights.homelessness.store import alerts_for, read_store

alerts_app = typer.Typer(
    help="Care-coordination alerts: a homelessness provider's client attended A&E.",
    no_args_is_help=True,
)

Warehouse = Annotated[
    Path, typer.Option("--warehouse", help="The DuckDB warehouse, ingested and linked.")
]
Organisation = Annotated[
    str, typer.Option("--organisation", help="The homelessness provider the alerts are for.")
]


def _day(text: str | None, what: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{what} is a day written YYYY-MM-DD (e.g. 2025-03-01), not {text!r}")


def _existing(warehouse: Path) -> Path:
    if not warehouse.is_file():
        fail(f"warehouse {warehouse} does not exist; ingest and link first")
    return warehouse


@alerts_app.command("run")
def run_command(
    warehouse: Warehouse,
    registry: RegistryUrl = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only attendances from this day (YYYY-MM-DD)."),
    ] = None,
    contact_days: Annotated[
        int, typer.Option(help="A contact this many days back makes a person known.")
    ] = 90,
    exit_homeless_days: Annotated[
        int | None,
        typer.Option(
            help="An exit to a homeless situation counts this many days "
            "(default: the HMIS's own median spell length, or 180)."
        ),
    ] = None,
    nfa_days: Annotated[
        int | None,
        typer.Option(
            help="...or longer while the hospital wrote NFA since, this many days back "
            "(default: the exit horizon)."
        ),
    ] = None,
    prevention: Annotated[
        bool, typer.Option("--prevention", help="Alert for open prevention clients too.")
    ] = False,
) -> None:
    """Raise new alerts, withdraw those whose link no longer holds; safe to rerun."""
    start = _day(since, "--since")
    try:
        rules = StatusRules(
            contact_days=contact_days,
            exit_homeless_days=exit_homeless_days,
            nfa_days=nfa_days,
            prevention_known=prevention,
        )
    except ValueError as error:
        fail(str(error))
    with opened(registry) as reg:
        try:
            run = raise_alerts(_existing(warehouse), reg, since=start, rules=rules)
        except AccessDenied as error:
            fail(str(error), code=3)
        except InsightError as error:
            fail(str(error))
    for line in run.lines():
        console.print(escape(line))


@alerts_app.command("agreements")
def agreements_command(warehouse: Warehouse, registry: RegistryUrl = None) -> None:
    """Register the care-coordination agreements letting A&E and ambulance alerts reach
    each homelessness provider (one per data owner and provider; idempotent)."""
    with opened(registry) as reg:
        result = register_care_coordination(reg, _existing(warehouse))
    for reference in result.agreements:
        added = " (new)" if reference in result.created else ""
        console.print(f"{escape(reference)}{added}")


@alerts_app.command("list")
def list_command(
    warehouse: Warehouse,
    organisation: Organisation,
    since: Annotated[str | None, typer.Option("--since", help="From this day.")] = None,
) -> None:
    """One provider's alerts (what its caseworkers see), for the hub's operators."""
    start = _day(since, "--since")
    with read_store(_existing(warehouse)) as con:
        if con is None:
            console.print("No alerts yet: run `sectorlink alerts run`.")
            return
        rows = alerts_for(con, organisation, since=start)
    table = Table("alert", "client id", "hospital", "arrival", "category", "state")
    for row in rows.itertuples(index=False):
        state = (
            "withdrawn"
            if pd.notna(row.withdrawn_at)
            else "acknowledged"
            if pd.notna(row.acknowledged_at)
            else "open"
        )
        table.add_row(
            row.alert_id,
            escape(str(row.provider_record_id)),
            escape(str(row.hospital)),
            f"{row.arrival_time:%Y-%m-%d %H:%M}",
            escape(str(row.category)),
            state,
        )
    console.print(table)
    console.print(f"{len(rows)} alert(s) for {escape(organisation)}")


@alerts_app.command("deliver")
def deliver_command(
    warehouse: Warehouse,
    organisation: Organisation,
    webhook: Annotated[str, typer.Option("--webhook", help="The provider's receiver URL.")],
    secret_env: Annotated[
        str,
        typer.Option("--secret-env", help="Environment variable holding the HMAC secret."),
    ] = "SECTORLINK_WEBHOOK_SECRET",
    registry: RegistryUrl = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for an answer.")] = 5.0,
    attempts: Annotated[int, typer.Option(help="Tries per alert.")] = 4,
) -> None:
    """POST the provider's unsent alerts to its webhook, signed, retried with back-off."""
    secret = os.environ.get(secret_env, "")
    try:
        hook = Webhook(webhook, secret.encode(), timeout=timeout, attempts=attempts)
    except WebhookError as error:
        fail(f"{error} (the secret is read from ${secret_env})")
    with opened(registry) as reg:
        run = deliver_webhook(_existing(warehouse), reg, organisation, hook)
    for line in run.lines():
        console.print(escape(line))
    if run.refused:  # an agreement no longer lets them out (audited)
        raise typer.Exit(3)
    if run.pending:
        raise typer.Exit(1)


@alerts_app.command("digest")
def digest_command(
    warehouse: Warehouse,
    organisation: Organisation,
    out: Annotated[Path, typer.Option("--out", help="Folder for the digest file.")],
    day: Annotated[
        str | None, typer.Option("--day", help="The day (YYYY-MM-DD, UTC; default today).")
    ] = None,
    registry: RegistryUrl = None,
) -> None:
    """Write the day's digest of one provider's alerts (raised or withdrawn that day)."""
    when = _day(day, "--day") or dt.datetime.now(dt.UTC).date()
    with opened(registry) as reg:
        try:
            path = write_digest(_existing(warehouse), reg, organisation, when, out)
        except AccessDenied as error:
            fail(str(error), code=3)
    console.print(f"Digest: {escape(str(path))}")


@alerts_app.command("cohort")
def cohort_command(
    warehouse: Warehouse,
    organisation: Organisation,
    out: Annotated[Path, typer.Option("--out", help="CSV file for the cohort list.")],
    period_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    period_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    registry: RegistryUrl = None,
    attendances: Annotated[int, typer.Option(help="A&E attendances that make one.")] = 4,
    window_days: Annotated[int, typer.Option(help="Within this many days.")] = 365,
) -> None:
    """A provider's frequent attenders among its own clients, by its own ids (after
    `sectorlink insights run homeless-care`); audited."""
    start, end = _day(period_from, "--from"), _day(period_to, "--to")
    assert start is not None and end is not None
    with opened(registry) as reg:
        since = audit_head_seq(reg)
        try:
            cohort = provider_cohort(
                _existing(warehouse),
                reg,
                organisation,
                period=(start, end),
                attendances=attendances,
                window_days=window_days,
            )
        except AccessDenied as error:
            fail(str(error), code=3)
        except (InsightError, ValueError) as error:
            fail(str(error))
        out.parent.mkdir(parents=True, exist_ok=True)
        cohort.to_csv(out, index=False)
        entry = exported(
            reg, since=since, door="alerts cohort", organisation=organisation, path=out,
            rows=len(cohort),
        )  # fmt: skip
    console.print(
        f"{len(cohort)} client(s) of {escape(organisation)}: {escape(str(out))} "
        f"(audit entry {entry})"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
