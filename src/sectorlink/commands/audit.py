"""`sectorlink audit ...`: read and verify the hash-chained audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from sectorlink.commands._common import console, fail
from sectorlink.commands.registry import RegistryUrl, opened
from sectorlink.governance import read_audit_log, verify_audit_log
from sectorlink.governance.events import EVENT_TYPES

audit_app = typer.Typer(help="The audit log of every access decision.", no_args_is_help=True)


@audit_app.command("verify")
def verify(
    expect_head: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH printed by an earlier verify; detects removed newest entries."),
    ] = None,
    url: RegistryUrl = None,
) -> None:
    """Re-compute the hash chain; exit 1 if any entry was edited, deleted or reordered."""
    with opened(url) as registry:
        try:
            report = verify_audit_log(registry, expected_head=expect_head)
        except ValueError as error:
            fail(str(error))
    if report.ok:
        console.print(
            f"audit log intact: {report.entries} entries; head {report.head} "
            f"(witness file: {report.witness})",
            highlight=False,
            markup=False,
        )
        return
    for problem in report.problems:
        console.print(problem, style="red", highlight=False, markup=False)
    fail(f"audit log has been tampered with ({len(report.problems)} problem(s))", code=1)


@audit_app.command("list")
def list_(
    limit: Annotated[int, typer.Option(min=1, help="How many entries.")] = 50,
    after: Annotated[int, typer.Option(min=0, help="Start after this sequence number.")] = 0,
    type_: Annotated[
        str | None,
        typer.Option("--type", help=f"Only events of this type: {', '.join(EVENT_TYPES)}."),
    ] = None,
    url: RegistryUrl = None,
) -> None:
    """Show audit entries in order."""
    if type_ is not None and type_ not in EVENT_TYPES:
        fail(f"unknown event type {type_!r}; expected one of {', '.join(EVENT_TYPES)}")
    with opened(url) as registry:
        for e in read_audit_log(registry, limit=limit, after_seq=after, type=type_):
            org = e.organisation + (f" (#{e.organisation_id})" if e.organisation_id else "")
            console.print(
                f"{e.seq:>6} {e.at[:19]} {e.event:<15} {e.outcome:<9} {e.actor}: {org} "
                f"{e.action} {e.purpose} [{', '.join(e.datasets)}] {e.reason}",
                highlight=False,
                markup=False,
                soft_wrap=True,  # one entry a line, however narrow the terminal
            )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
