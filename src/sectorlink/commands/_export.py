"""The last step of every command that writes a person-level list to a file: audit the
file that left (its SHA-256 and rows) against the export decision that allowed it."""

from __future__ import annotations

from pathlib import Path

from sectorlink.commands._common import cli_actor, fail
from sectorlink.governance.doors import ExportNotAllowed, record_export
from sectorlink.registry.db import Registry


def exported(
    registry: Registry, *, since: int, door: str, organisation: str, path: Path, rows: int
) -> int:
    """Record the written file `path` (see `governance.doors.record_export`); its audit
    entry. With no export allowed since `since` the file is removed and the command exits
    with status 3, like any refusal."""
    try:
        return record_export(
            registry,
            since=since,
            door=door,
            organisation=organisation,
            path=path,
            rows=rows,
            actor=cli_actor(),
        )
    except ExportNotAllowed as error:
        path.unlink(missing_ok=True)
        fail(str(error), code=3)
