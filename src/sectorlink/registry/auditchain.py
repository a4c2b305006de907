"""The audit chain's core: the key, the hashes, appending inside a session, the witness.

It lives in `registry` (not `governance`) because every registry write is audited in the
same transaction as the write itself (`registry.changes`); `sectorlink.governance.audit`
is the public face.

* Keyed: entries written since migration 0002 carry an HMAC-SHA256 over every field,
  keyed by a secret that is not in the database (`$SECTORLINK_AUDIT_KEY`, or the file
  `$SECTORLINK_AUDIT_KEY_FILE`, else a key file made beside a SQLite registry). Someone who
  can write the database but not read the key cannot recompute a valid chain after an
  edit. Entries written before 0002 keep their plain SHA-256 (`scheme` "sha256").
* Witnessed: after every commit that appended, the newest `SEQ:HASH` is written to a
  witness file beside the registry (`$SECTORLINK_AUDIT_WITNESS`), so deleting the newest
  entries, or all of them, no longer verifies as intact.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from sectorlink.registry.models import AuditEntry

GENESIS = "0" * 64
KEYED = "hmac-sha256"
LEGACY = "sha256"
KEY_ENV = "SECTORLINK_AUDIT_KEY"
KEY_FILE_ENV = "SECTORLINK_AUDIT_KEY_FILE"
WITNESS_ENV = "SECTORLINK_AUDIT_WITNESS"
MIN_KEY_LENGTH = 32
_LOCK_KEY = 0x5EC7011A  # pg_advisory_xact_lock key of the audit chain's head
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEAD_INFO = "sectorlink.audit_head"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def fit(value: object, limit: int) -> str:
    """Text as it can be stored anywhere: control characters (PostgreSQL refuses NUL)
    written out as escapes, and cut to the column's length. A refused request is
    recorded whatever it contained."""
    found = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return found if len(found) <= limit else found[: limit - 1] + "…"


# --- where the key and the witness live -------------------------------------------------


def _sidecar(engine: Engine, suffix: str, env: str) -> Path:
    """A file beside a SQLite registry; for other databases one per URL in the user's
    state folder. An environment variable overrides either."""
    chosen = os.environ.get(env)
    if chosen:
        return Path(chosen)
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).with_name(Path(str(url.database)).name + suffix)
    shown = url.render_as_string(hide_password=True)
    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "sectorlink" / f"registry-{digest}{suffix}"


def key_path(engine: Engine) -> Path:
    return _sidecar(engine, ".audit-key", KEY_FILE_ENV)


def witness_path(engine: Engine) -> Path:
    return _sidecar(engine, ".audit-head", WITNESS_ENV)


def audit_key(engine: Engine, *, create: bool = True) -> bytes | None:
    """The chain's key: `$SECTORLINK_AUDIT_KEY`, else the key file (made, readable by its
    owner only, on first use when `create`), else None."""
    given = os.environ.get(KEY_ENV)
    if given:
        if len(given) < MIN_KEY_LENGTH:
            raise RuntimeError(f"{KEY_ENV} must be at least {MIN_KEY_LENGTH} characters")
        return given.encode()
    path = key_path(engine)
    if path.is_file():
        return path.read_bytes().strip()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a private name, then linked into place: a writer racing this one
    # sees either no key file or a complete one, never an empty file it would hash with.
    draft = path.with_name(f"{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:  # another writer made it first: theirs is the key
        pass
    finally:
        draft.unlink()
    return path.read_bytes().strip()


# --- hashing ---------------------------------------------------------------------------


def _payload(entry: AuditEntry) -> list[Any]:
    fields: list[Any] = [
        entry.seq,
        entry.at,
        entry.actor,
        entry.organisation,
        entry.action,
        entry.purpose,
        entry.datasets,
        entry.outcome,
        entry.reason,
        entry.detail,
        entry.prev_hash,
    ]
    if entry.scheme == KEYED:
        fields += [entry.event, entry.organisation_id, entry.scheme]
    return fields


def hash_of(entry: AuditEntry, key: bytes | None) -> str | None:
    """The entry's hash as its scheme makes it; None for a keyed entry without the key."""
    payload = canonical(_payload(entry)).encode("utf-8")
    if entry.scheme == LEGACY:
        return hashlib.sha256(payload).hexdigest()
    if key is None:
        return None
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


# --- appending -------------------------------------------------------------------------


def entry_values(
    *,
    event: str,
    actor: str,
    organisation: str,
    organisation_id: int | None,
    action: str,
    purpose: str,
    datasets: list[str],
    outcome: str,
    reason: str,
    detail: Mapping[str, Any],
) -> dict[str, Any]:
    """The stored form of an entry's fields (text exactly as it will be hashed)."""
    return {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "event": fit(event, 60),
        "actor": fit(actor, 300),
        "organisation": fit(organisation, 300),
        "organisation_id": organisation_id,
        "action": fit(action, 40),
        "purpose": fit(purpose, 300),
        "datasets": canonical(sorted(set(datasets))),
        "outcome": outcome,
        "reason": fit(reason, 20_000),
        "detail": canonical(dict(detail)),
    }


def append_in(session: Session, values: Mapping[str, Any], key: bytes) -> AuditEntry:
    """Append one keyed entry inside `session`'s transaction (not committed here).

    After the commit, `write_witness_after_commit` records the new head.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Writers queue on one transaction-scoped lock instead of racing for the head.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.entry_hash)
    entry = AuditEntry(seq=seq, prev_hash=prev, scheme=KEYED, **values)
    digest = hash_of(entry, key)
    assert digest is not None
    entry.entry_hash = digest
    session.add(entry)
    session.flush()
    session.info[_HEAD_INFO] = (entry.seq, entry.entry_hash)
    return entry


def append_rows_in(session: Session, rows: Sequence[Mapping[str, Any]], key: bytes) -> None:
    """Append several entries with Core inserts (safe inside a flush, where the ORM
    cannot add objects)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = connection.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (0, GENESIS) if last is None else (last.seq, last.entry_hash)
    table = AuditEntry.__table__
    for values in rows:
        seq += 1
        entry = AuditEntry(seq=seq, prev_hash=prev, scheme=KEYED, **values)
        digest = hash_of(entry, key)
        assert digest is not None
        connection.execute(
            table.insert().values(  # type: ignore[attr-defined]
                seq=seq, prev_hash=prev, entry_hash=digest, scheme=KEYED, **values
            )
        )
        prev = digest
    session.info[_HEAD_INFO] = (seq, prev)


def pending_head(session: Session) -> tuple[int, str] | None:
    head: tuple[int, str] | None = session.info.pop(_HEAD_INFO, None)
    return head


def read_witness(engine: Engine) -> tuple[int, str] | None:
    path = witness_path(engine)
    try:
        found = path.read_text().strip()
    except FileNotFoundError:
        return None
    seq, _, digest = found.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise RuntimeError(f"the audit witness {path} does not hold SEQ:HASH")
    return int(seq), digest


def write_witness(engine: Engine, head: tuple[int, str]) -> None:
    """Record `head` as the chain's newest entry, unless a newer one is recorded already
    (two writers may commit out of order); written whole or not at all."""
    path = witness_path(engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Writers in other processes and threads: one at a time reads, compares and replaces,
    # so an older head never overwrites a newer one and no two share a partial file.
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = read_witness(engine)
        except RuntimeError:
            current = None
        if current is not None and current[0] >= head[0]:
            return
        partial = path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_text(f"{head[0]}:{head[1]}\n")
        os.replace(partial, path)


def forget_witness(engine: Engine) -> None:
    """Remove the witness (only for a registry emptied on purpose, as tests do)."""
    witness_path(engine).unlink(missing_ok=True)
