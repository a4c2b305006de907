"""Governance at the doors person-level data comes in by: a load of a partner's extract
is allowed only for an organisation that owns the data set or receives it under a current
agreement, and is audited with who ran it, the files and their hashes, and what came of it.

The CLI calls these when a registry is configured (`--registry` or
`SECTORLINK_REGISTRY_URL`); without one the load runs as before and says, once, that
nothing is being audited.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sectorlink.governance.access import Grant, authorise
from sectorlink.governance.audit import append_audit_entry
from sectorlink.registry.db import Registry
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
        detail={
            "door": "load",
            "files": {
                role: {"path": str(p), "sha256": file_sha256(p)} for role, p in files.items()
            },
        },
    )


def record_load(
    registry: Registry,
    grant: Grant,
    *,
    outcome: Mapping[str, Any],
    actor: str | None = None,
) -> int:
    """Audit what a load allowed by `grant` did (load id, status, rows); its sequence."""
    record = append_audit_entry(
        registry,
        actor=actor or acting_user(),
        organisation=grant.organisation,
        action="ingest",
        purpose=grant.purpose,
        datasets=list(grant.datasets),
        outcome="recorded",
        reason=f"{outcome.get('status')} {outcome.get('file')}",
        detail={**dict(outcome), "grant": grant.audit_seq, "basis": dict(grant.basis)},
    )
    return record.seq
