"""Governance at the doors person-level data comes in and is used by.

A load of a partner's extract (`authorise_load`, `record_load`) is allowed only for an
organisation that owns the data set or receives it under a current agreement. A linkage
run (`governed_link`) and a scoring of the person index against truth
(`governed_evaluate`) are allowed only when every data set they read is covered for the
acting organisation and purpose `linkage`. A person-level list written to a file
(`record_export`) is audited with the file's SHA-256 after the export decision its
library function asked for. Each is audited with who ran it, the files and
their hashes, the other inputs, and what came of it (`governed` is the door all of them
are built on: the access check before, the outcome after).

The CLI calls these when a registry is configured (`--registry` or
`SECTORLINK_REGISTRY_URL`); without one the command runs as before and says, once, that
nothing is being audited.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import func, select

from sectorlink.governance.access import Grant, authorise
from sectorlink.governance.audit import append_audit_entry, read_audit_log
from sectorlink.model.sql import table_exists
from sectorlink.registry.db import Registry
from sectorlink.registry.models import AuditEntry
from sectorlink.sources.loader import file_sha256

NOT_AUDITED = (
    "no registry is configured: this run is not checked against an agreement and not "
    "audited (set --registry or SECTORLINK_REGISTRY_URL)"
)


def acting_user() -> str:
    """Who is acting: the operating-system user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


def authorise_load(
    registry: Registry,
    *,
    organisation: str,
    source: str,
    files: Mapping[str, Path],
    purpose: str = "linkage",
    identifiers: bool = True,
    actor: str | None = None,
    door: str = "load",
) -> Grant:
    """Allow `organisation` to load an extract of the data set `source`, or raise
    `AccessDenied` (audited either way).

    It must own the data set or receive it under a current agreement permitting
    `purpose`; loading identifiers in the clear (`identifiers`) is refused where the
    agreement allows encoded identifiers only. `files` (e.g. spec and extract) are
    recorded with their SHA-256.
    """
    return authorise(
        registry,
        organisation=organisation,
        purpose=purpose,
        datasets=[source],
        action="read_identifiers" if identifiers else "read",
        actor=actor or acting_user(),
        detail={"door": door, "files": file_inputs(files)},
    )


def record_load(
    registry: Registry,
    grant: Grant,
    *,
    outcome: Mapping[str, Any],
    actor: str | None = None,
    action: str = "ingest",
) -> int:
    """Audit what a load allowed by `grant` did (load id, status, rows); its sequence."""
    record = append_audit_entry(
        registry,
        actor=actor or acting_user(),
        organisation=grant.organisation,
        action=action,
        purpose=grant.purpose,
        datasets=list(grant.datasets),
        outcome="recorded",
        reason=f"{outcome.get('status')} {outcome.get('file')}",
        detail={**dict(outcome), "grant": grant.audit_seq, "basis": dict(grant.basis)},
    )
    return record.seq


# -- doors person-level data is used by: link, evaluate ------------------------------------


def file_inputs(files: Mapping[str, Path | None]) -> dict[str, dict[str, str]]:
    """`role -> {path, sha256}` for each file given (None: not given, left out)."""
    return {role: {"path": str(p), "sha256": file_sha256(p)} for role, p in files.items() if p}


def warehouse_inputs(con: duckdb.DuckDBPyConnection, path: Path | str) -> dict[str, Any]:
    """What a warehouse holds, as an audit entry can name it without hashing a database
    that changes: its path and the loads (each a file with its SHA-256) in force."""
    loads = (
        [
            r[0]
            for r in con.execute(
                "SELECT load_id FROM load WHERE superseded_by IS NULL ORDER BY load_id"
            ).fetchall()
        ]
        if table_exists(con, "load")
        else []
    )
    return {"warehouse": str(path), "loads": loads}


def _sources(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    if not table_exists(con, table):
        return []
    rows = con.execute(f"SELECT DISTINCT source FROM {table} ORDER BY 1").fetchall()
    return [str(r[0]) for r in rows]


@dataclass
class Door:
    """An allowed use of person-level data, open until its outcome is recorded.

    Set `outcome` (what the use did: counts, ids; no personal data) before the `with`
    block of :func:`governed` ends; a block that raises is recorded as failed."""

    grant: Grant
    action: str
    actor: str
    outcome: dict[str, Any] = field(default_factory=dict)
    audit_entry: int | None = None


@contextmanager
def governed(
    registry: Registry,
    *,
    door: str,
    organisation: str,
    purpose: str,
    datasets: Sequence[str],
    action: str,
    files: Mapping[str, Path | None] | None = None,
    inputs: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> Iterator[Door]:
    """Check a use of person-level data and audit what it did, around the `with` block.

    `authorise` is called first for `organisation`, `purpose`, the `datasets` and the
    access `action` (`read`, `read_identifiers`), with the `files` (their SHA-256) and
    other `inputs` in its audit entry; `AccessDenied` (audited) is raised before the block
    runs. After the block a second entry, action `door`, records `Door.outcome`, or the
    error when the block raised.

    Example:
        >>> with governed(registry, door="link", organisation="Hub", purpose="linkage",
        ...               datasets=["ae"], action="read_identifiers") as use:  # doctest: +SKIP
        ...     result = link(warehouse)
        ...     use.outcome = {"run_id": result.run_id}
    """
    who = actor or acting_user()
    grant = authorise(
        registry,
        organisation=organisation,
        purpose=purpose,
        datasets=datasets,
        action=action,
        actor=who,
        detail={"door": door, "files": file_inputs(files or {}), "inputs": dict(inputs or {})},
    )
    use = Door(grant, door, who)
    try:
        yield use
    except BaseException as error:
        use.outcome = {"status": "failed", "error": f"{type(error).__name__}: {error}"[:500]}
        use.audit_entry = record_use(registry, use)
        raise
    if "status" not in use.outcome:
        use.outcome = {"status": "done", **use.outcome}
    use.audit_entry = record_use(registry, use)


def record_use(registry: Registry, use: Door) -> int:
    """Audit what an allowed use did (`use.outcome`), pointing at its access entry."""
    record = append_audit_entry(
        registry,
        actor=use.actor,
        organisation=use.grant.organisation,
        action=use.action,
        purpose=use.grant.purpose,
        datasets=list(use.grant.datasets),
        outcome="recorded",
        reason=str(use.outcome.get("status", "")),
        detail={**use.outcome, "grant": use.grant.audit_seq, "basis": dict(use.grant.basis)},
    )
    return record.seq


# -- the door person-level data leaves by: a list written to a file ----------------------


class ExportNotAllowed(PermissionError):
    """A person-level file was about to leave the hub with no export allowed for it."""


def audit_head_seq(registry: Registry) -> int:
    """The sequence number of the newest audit entry (0 when the log is empty)."""
    with registry.session() as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def record_export(
    registry: Registry,
    *,
    since: int,
    door: str,
    organisation: str,
    path: Path,
    rows: int,
    actor: str | None = None,
) -> int:
    """Audit a person-level file that left the hub: the file, its SHA-256 and its rows,
    pointing at the export decision that allowed it; its sequence.

    The list's library function (a cohort list, a lead list) asks `authorise(...,
    action="export")` itself (a refusal is audited there and raises before any file is
    written); `since` is the audit head before it was called, so the decisions it made
    are the allowed `export` access entries for `organisation` after it. The entry takes
    their purpose and data sets.

    Raises:
        ExportNotAllowed: no export was allowed for `organisation` since `since` (the
            caller removes the file); recorded as refused.
    """
    who = actor or acting_user()
    asking = _name_key(organisation)
    decisions = [
        e
        for e in read_audit_log(registry, after_seq=since, limit=10_000, type="access")
        if e.action == "export" and e.outcome == "allowed" and _name_key(e.organisation) == asking
    ]
    files = file_inputs({"out": path})
    if not decisions:
        append_audit_entry(
            registry,
            actor=who,
            organisation=organisation,
            action=door,
            purpose="(none)",
            datasets=[],
            outcome="refused",
            reason=f"{door}: no export was allowed for {path}",
            detail={"files": files, "rows": rows},
        )
        raise ExportNotAllowed(f"{door}: no export was allowed for {organisation}; {path} removed")
    datasets = sorted({d for e in decisions for d in e.datasets})
    record = append_audit_entry(
        registry,
        actor=who,
        organisation=decisions[-1].organisation,  # as the decision names it
        action=door,
        purpose=decisions[-1].purpose,
        datasets=datasets,
        outcome="recorded",
        reason=f"{rows} row(s) written to {path}",
        detail={"files": files, "rows": rows, "grant": [e.seq for e in decisions]},
    )
    return record.seq


def _name_key(name: str) -> str:
    # organisations are matched as `authorise` matches them: case and spacing ignored
    return " ".join(name.split()).casefold()


LINK_ENGINES_ENCODED = ("bloom",)
"""Engines that link the encodings (`encoded_person`), not person records in the clear."""


def governed_link(
    registry: Registry,
    warehouse: Path | str,
    *,
    organisation: str,
    engine: str = "duckdb",
    files: Mapping[str, Path | None] | None = None,
    inputs: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> AbstractContextManager[Door]:
    """The door of a linkage run: every data set it links (the sources of the person
    records, or of the encodings for the bloom engine) must be covered for `organisation`
    and purpose `linkage`; reading identifiers in the clear (`read_identifiers`) for the
    duckdb and spark engines, encodings only (`read`) for bloom."""
    encoded = engine in LINK_ENGINES_ENCODED
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        datasets = _sources(con, "encoded_person" if encoded else "person_record")
        held = warehouse_inputs(con, warehouse)
    finally:
        con.close()
    return governed(
        registry,
        door="link",
        organisation=organisation,
        purpose="linkage",
        datasets=datasets,
        action="read" if encoded else "read_identifiers",
        files=files,
        inputs={**held, "engine": engine, **dict(inputs or {})},
        actor=actor,
    )


def governed_evaluate(
    registry: Registry,
    warehouse: Path | str,
    *,
    organisation: str,
    truth: Path,
    actor: str | None = None,
) -> AbstractContextManager[Door]:
    """The door of scoring the person index against a truth file: every data set in the
    index must be covered for `organisation` and purpose `linkage` (`read`: record ids and
    person keys, no identifier)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        datasets = _sources(con, "person_index")
        held = warehouse_inputs(con, warehouse)
    finally:
        con.close()
    return governed(
        registry,
        door="evaluate",
        organisation=organisation,
        purpose="linkage",
        datasets=datasets,
        action="read",
        files={"truth": truth},
        inputs=held,
        actor=actor,
    )
