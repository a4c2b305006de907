"""The audit log: typed events, append-only, keyed hash chain, witnessed head.

Each entry carries the hash of the entry before it (`prev_hash`) and its own hash over
every field including that link (`entry_hash`): an HMAC-SHA256 keyed by a secret kept
outside the database (entries from before migration 0002 keep a plain SHA-256). Editing
an entry breaks its own hash, and without the key nobody can recompute it; deleting or
reordering entries breaks the sequence numbers and the links; deleting the newest entries
(or all of them) contradicts the witness file written beside the registry after every
append, and any head recorded elsewhere (`expected_head`).

The database refuses UPDATE, DELETE and INSERT OR REPLACE on the table (triggers made by
the migrations); the chain is what catches someone who went around that. The entries are
typed events (`sectorlink.governance.events`).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from sectorlink.governance.events import (
    EVENT_TYPES,
    OUTCOMES,
    AuditEvent,
    event_for_outcome,
)
from sectorlink.registry import auditchain
from sectorlink.registry.auditchain import GENESIS, KEYED, LEGACY
from sectorlink.registry.db import Registry
from sectorlink.registry.models import AuditEntry

__all__ = [
    "GENESIS",
    "OUTCOMES",
    "AuditRecord",
    "AuditVerification",
    "append_audit_entry",
    "read_audit_log",
    "record_event",
    "verify_audit_log",
]
_APPEND_ATTEMPTS = 20


@dataclass(frozen=True)
class AuditRecord:
    """An audit entry as callers read it (datasets and detail decoded)."""

    seq: int
    at: str
    actor: str
    organisation: str
    action: str
    purpose: str
    datasets: tuple[str, ...]
    outcome: str
    reason: str
    detail: Mapping[str, Any]
    entry_hash: str
    event: str = "recorded"
    organisation_id: int | None = None

    @classmethod
    def from_entry(cls, entry: AuditEntry) -> AuditRecord:
        return cls(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            organisation=entry.organisation,
            action=entry.action,
            purpose=entry.purpose,
            datasets=tuple(json.loads(entry.datasets)),
            outcome=entry.outcome,
            reason=entry.reason,
            detail=json.loads(entry.detail),
            entry_hash=entry.entry_hash,
            event=entry.event,
            organisation_id=entry.organisation_id,
        )


def record_event(registry: Registry, event: AuditEvent) -> AuditRecord:
    """Write one typed event at the end of the chain, in its own transaction.

    It commits on its own so that a refusal is recorded even though the caller's work
    is about to fail. On PostgreSQL writers take turns on an advisory lock; anywhere,
    two writers racing for the same sequence number collide on the table's unique keys
    (or its no-replace trigger) and the loser re-reads the head and tries again.
    """
    values = auditchain.entry_values(
        event=event.type,
        actor=event.actor,
        organisation=event.organisation,
        organisation_id=event.organisation_id,
        action=event.action,
        purpose=event.purpose,
        datasets=list(event.datasets),
        outcome=event.outcome,
        reason=event.reason,
        detail=event.detail,
    )
    key = registry.audit_key()
    for attempt in range(_APPEND_ATTEMPTS):
        try:
            with registry.session() as session:
                entry = auditchain.append_in(session, values, key)
            return AuditRecord.from_entry(entry)
        except (IntegrityError, OperationalError):
            if attempt == _APPEND_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # jitter breaks lockstep
    raise AssertionError("unreachable")  # pragma: no cover


def append_audit_entry(
    registry: Registry,
    *,
    actor: str,
    organisation: str,
    action: str,
    purpose: str,
    datasets: Sequence[str],
    outcome: str,
    reason: str,
    detail: Mapping[str, Any] | None = None,
    organisation_id: int | None = None,
) -> AuditRecord:
    """Write one entry (its own transaction) and return it; the event type follows the
    outcome: allowed/refused an `AccessDecision`, published/withheld an `OutputRelease`,
    recorded a `Recorded`. Use `record_event` to write another typed event."""
    kind = event_for_outcome(outcome)
    return record_event(
        registry,
        kind(
            actor=actor,
            organisation=organisation,
            organisation_id=organisation_id,
            action=action,
            purpose=purpose,
            datasets=tuple(datasets),
            outcome=outcome,
            reason=reason,
            detail=dict(detail or {}),
        ),
    )


def read_audit_log(
    registry: Registry,
    *,
    limit: int = 100,
    after_seq: int = 0,
    type: str | None = None,
) -> list[AuditRecord]:
    """Entries in chain order, from `after_seq + 1`, at most `limit` of them, of one event
    `type` (see `events.EVENT_TYPES`) when given."""
    query = select(AuditEntry).where(AuditEntry.seq > after_seq)
    if type is not None:
        if type not in EVENT_TYPES:
            raise ValueError(
                f"unknown audit event type {type!r}; expected one of {', '.join(EVENT_TYPES)}"
            )
        query = query.where(AuditEntry.event == type)
    with registry.session() as session:
        entries = session.scalars(query.order_by(AuditEntry.seq).limit(limit)).all()
        return [AuditRecord.from_entry(e) for e in entries]


@dataclass
class AuditVerification:
    """What `verify_audit_log` found. `ok` is False when anything was wrong."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)
    witness: str = "none"  # "matches", "none" (no witness file yet), or "contradicted"

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def head(self) -> str:
        """`SEQ:HASH` of the newest entry: record it elsewhere to detect later truncation."""
        return f"{self.head_seq}:{self.head_hash}"


def _check_head(report: AuditVerification, seen: Mapping[int, str], head: str, where: str) -> bool:
    seq_text, _, wanted = head.partition(":")
    if not seq_text.isdigit() or len(wanted) != 64:
        raise ValueError(f"expected head {head!r} is not SEQ:HASH")
    found = seen.get(int(seq_text))
    if found is None:
        report.problems.append(
            f"entry {seq_text} recorded {where} as the head is missing "
            f"(the log now ends at {report.head_seq}): entries were removed"
        )
        return False
    if found != wanted:
        report.problems.append(f"entry {seq_text} no longer carries the hash recorded {where}")
        return False
    return True


def verify_audit_log(
    registry: Registry, *, expected_head: str | None = None, max_problems: int = 50
) -> AuditVerification:
    """Re-compute the chain and report every edited, deleted or reordered entry.

    The head is checked against the witness file beside the registry (written on every
    append) and, when given, `expected_head` (a `SEQ:HASH` printed by an earlier verify,
    a release or a report).
    """
    report = AuditVerification()
    previous_hash, expected_seq = GENESIS, 1
    seen_heads: dict[int, str] = {}
    key = auditchain.audit_key(registry.engine, create=False)
    keyed_seen = False
    with registry.session() as session:
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
            report.entries += 1
            if entry.seq != expected_seq:
                report.problems.append(
                    f"entry {entry.seq}: expected sequence number {expected_seq} "
                    f"(entries {expected_seq}..{entry.seq - 1} are missing or renumbered)"
                )
            if entry.prev_hash != previous_hash:
                report.problems.append(
                    f"entry {entry.seq}: does not follow the entry before it (link broken: "
                    "an entry was deleted, inserted or moved)"
                )
            if entry.scheme == LEGACY and keyed_seen:
                report.problems.append(
                    f"entry {entry.seq}: unkeyed after keyed entries (written by someone "
                    "without the audit key)"
                )
            keyed_seen = keyed_seen or entry.scheme == KEYED
            if entry.scheme not in (LEGACY, KEYED):
                report.problems.append(f"entry {entry.seq}: unknown hash scheme {entry.scheme!r}")
            else:
                digest = auditchain.hash_of(entry, key)
                if digest is None:
                    report.problems.append(
                        f"entry {entry.seq}: keyed, but the audit key is not available "
                        f"(set ${auditchain.KEY_ENV} or ${auditchain.KEY_FILE_ENV})"
                    )
                elif digest != entry.entry_hash:
                    report.problems.append(
                        f"entry {entry.seq}: contents do not match its hash (edited)"
                    )
            previous_hash, expected_seq = entry.entry_hash, entry.seq + 1
            report.head_seq, report.head_hash = entry.seq, entry.entry_hash
            seen_heads[entry.seq] = entry.entry_hash
            if len(report.problems) >= max_problems:
                report.problems.append("too many problems; stopped")
                break
    witness = auditchain.read_witness(registry.engine)
    if witness is not None:
        path = auditchain.witness_path(registry.engine)
        matches = _check_head(report, seen_heads, f"{witness[0]}:{witness[1]}", f"in {path}")
        report.witness = "matches" if matches else "contradicted"
    if expected_head is not None:
        _check_head(report, seen_heads, expected_head, "earlier")
    return report
