"""The audit log: append-only, and hash-chained so that tampering shows.

Each entry carries the SHA-256 of the entry before it (`prev_hash`) and its own hash over
every field including that link (`entry_hash`). Editing an entry breaks its own hash;
deleting or reordering entries breaks the sequence numbers and the links. Removing the
newest entries leaves a shorter but valid chain, so `verify_audit_log` can also check the
chain against a head (sequence and hash) recorded earlier somewhere else.

The database refuses UPDATE and DELETE on the table (triggers made by the migration);
the chain is what catches someone who went around that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from sectorlink.registry.db import Registry
from sectorlink.registry.models import AuditEntry

GENESIS = "0" * 64
OUTCOMES = ("allowed", "refused", "published", "withheld", "recorded")
_APPEND_ATTEMPTS = 20
_LOCK_KEY = 0x5EC7011A  # pg_advisory_xact_lock key of the audit chain's head


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    *,
    seq: int,
    at: str,
    actor: str,
    organisation: str,
    action: str,
    purpose: str,
    datasets: str,
    outcome: str,
    reason: str,
    detail: str,
    prev_hash: str,
) -> str:
    """SHA-256 over every field of an entry, in a fixed canonical form."""
    payload = _canonical(
        [
            seq,
            at,
            actor,
            organisation,
            action,
            purpose,
            datasets,
            outcome,
            reason,
            detail,
            prev_hash,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hash_of(entry: AuditEntry) -> str:
    return entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        organisation=entry.organisation,
        action=entry.action,
        purpose=entry.purpose,
        datasets=entry.datasets,
        outcome=entry.outcome,
        reason=entry.reason,
        detail=entry.detail,
        prev_hash=entry.prev_hash,
    )


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
        )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _fit(value: str, limit: int) -> str:
    """Text as it can be stored anywhere: control characters (PostgreSQL refuses NUL)
    written out as escapes, and cut to the column's length. A refused request is
    recorded whatever it contained."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _append_once(session: Session, values: Mapping[str, str]) -> AuditEntry:
    if session.get_bind().dialect.name == "postgresql":
        # Writers queue on one transaction-scoped lock instead of racing for the head.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.entry_hash)
    entry = AuditEntry(seq=seq, prev_hash=prev, **values)
    entry.entry_hash = _hash_of(entry)
    session.add(entry)
    session.flush()
    return entry


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
) -> AuditRecord:
    """Write one entry at the end of the chain, in its own transaction, and return it.

    It commits on its own so that a refusal is recorded even though the caller's work
    is about to fail. On PostgreSQL writers take turns on an advisory lock; anywhere,
    two writers racing for the same sequence number collide on the table's unique keys
    and the loser re-reads the head and tries again.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}; expected one of {OUTCOMES}")
    values = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "actor": _fit(actor, 300),
        "organisation": _fit(organisation, 300),
        "action": _fit(action, 40),
        "purpose": _fit(purpose, 300),
        "datasets": _canonical(sorted(set(datasets))),
        "outcome": outcome,
        "reason": _fit(reason, 20_000),
        "detail": _canonical(dict(detail or {})),
    }
    for attempt in range(_APPEND_ATTEMPTS):
        try:
            with registry.session() as session:
                entry = _append_once(session, values)
            return AuditRecord.from_entry(entry)
        except (IntegrityError, OperationalError):
            if attempt == _APPEND_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # jitter breaks lockstep
    raise AssertionError("unreachable")  # pragma: no cover


def read_audit_log(
    registry: Registry, *, limit: int = 100, after_seq: int = 0
) -> list[AuditRecord]:
    """Entries in chain order, from `after_seq + 1`, at most `limit` of them."""
    with registry.session() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > after_seq)
            .order_by(AuditEntry.seq)
            .limit(limit)
        ).all()
        return [AuditRecord.from_entry(e) for e in entries]


@dataclass
class AuditVerification:
    """What `verify_audit_log` found. `ok` is False when anything was wrong."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def head(self) -> str:
        """`SEQ:HASH` of the newest entry: record it elsewhere to detect later truncation."""
        return f"{self.head_seq}:{self.head_hash}"


def verify_audit_log(
    registry: Registry, *, expected_head: str | None = None, max_problems: int = 50
) -> AuditVerification:
    """Re-compute the chain and report every edited, deleted or reordered entry.

    Args:
        expected_head: a `SEQ:HASH` recorded earlier (see `AuditVerification.head`); the
            entry with that sequence number must still carry that hash.
    """
    report = AuditVerification()
    previous_hash, expected_seq = GENESIS, 1
    seen_heads: dict[int, str] = {}
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
            if _hash_of(entry) != entry.entry_hash:
                report.problems.append(
                    f"entry {entry.seq}: contents do not match its hash (edited)"
                )
            previous_hash, expected_seq = entry.entry_hash, entry.seq + 1
            report.head_seq, report.head_hash = entry.seq, entry.entry_hash
            seen_heads[entry.seq] = entry.entry_hash
            if len(report.problems) >= max_problems:
                report.problems.append("too many problems; stopped")
                break
    if expected_head is not None:
        seq_text, _, wanted = expected_head.partition(":")
        if not seq_text.isdigit() or len(wanted) != 64:
            raise ValueError(f"expected head {expected_head!r} is not SEQ:HASH")
        found = seen_heads.get(int(seq_text))
        if found is None:
            report.problems.append(
                f"entry {seq_text} recorded earlier as the head is missing "
                f"(the log now ends at {report.head_seq}): entries were removed"
            )
        elif found != wanted:
            report.problems.append(f"entry {seq_text} no longer carries the hash recorded earlier")
    return report
