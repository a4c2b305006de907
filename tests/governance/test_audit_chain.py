import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from sectorlink.governance import append_audit_entry, verify_audit_log
from sectorlink.registry import Registry
from sectorlink.registry.auditchain import hash_of, witness_path
from sectorlink.registry.models import AuditEntry


def _fill(registry: Registry, n: int = 5) -> None:
    for i in range(n):
        append_audit_entry(
            registry, actor=f"user{i}", organisation="Hub", action="read", purpose="analysis",
            datasets=["ae"], outcome="allowed", reason=f"entry {i}",
        )  # fmt: skip


def _tamper(registry: Registry, *statements: str) -> None:
    """Go around the append-only triggers, as someone with owner rights could."""
    with registry.engine.begin() as c:
        if registry.engine.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        else:
            c.execute(text("DROP TRIGGER audit_entry_no_update"))
            c.execute(text("DROP TRIGGER audit_entry_no_delete"))
        for statement in statements:
            c.execute(text(statement))
        if registry.engine.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))


def test_intact_chain_verifies(registry: Registry) -> None:
    _fill(registry)
    report = verify_audit_log(registry)
    assert report.ok and report.entries == 5 and report.head_seq == 5


def test_database_refuses_update_and_delete(registry: Registry) -> None:
    _fill(registry, 1)
    for statement in ("UPDATE audit_entry SET reason = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"), registry.engine.begin() as c:
            c.execute(text(statement))


def test_edited_entry_is_detected(registry: Registry) -> None:
    _fill(registry)
    _tamper(
        registry,
        "UPDATE audit_entry SET outcome = 'allowed', reason = 'nothing to see' WHERE seq = 3",
    )
    report = verify_audit_log(registry)
    assert not report.ok
    assert report.problems == ["entry 3: contents do not match its hash (edited)"]


def test_deleted_entry_is_detected(registry: Registry) -> None:
    _fill(registry)
    _tamper(registry, "DELETE FROM audit_entry WHERE seq = 2")
    problems = " | ".join(verify_audit_log(registry).problems)
    assert "entry 3: expected sequence number 2" in problems
    assert "entry 3: does not follow the entry before it" in problems


def test_reordered_entries_are_detected(registry: Registry) -> None:
    _fill(registry)
    # swap the contents of entries 2 and 4, keeping their sequence numbers
    _tamper(
        registry,
        "UPDATE audit_entry SET seq = -2 WHERE seq = 2",
        "UPDATE audit_entry SET seq = 2 WHERE seq = 4",
        "UPDATE audit_entry SET seq = 4 WHERE seq = -2",
    )
    report = verify_audit_log(registry)
    assert not report.ok
    assert any("entry 2" in p for p in report.problems)


def test_rewritten_hash_still_breaks_the_chain(registry: Registry) -> None:
    """An editor who also recomputes the entry's own hash breaks the next link."""
    _fill(registry)
    with registry.session() as s:
        entry = s.get(AuditEntry, 3)
        assert entry is not None
        entry.reason = "edited"
        new_hash = hash_of(entry, registry.audit_key())  # even with the key
        s.expunge(entry)
    _tamper(
        registry,
        f"UPDATE audit_entry SET reason = 'edited', entry_hash = '{new_hash}' WHERE seq = 3",
    )
    problems = verify_audit_log(registry).problems
    assert problems[0].startswith("entry 4: does not follow the entry before it")


def test_recomputing_the_whole_chain_without_the_key_is_detected(registry: Registry) -> None:
    """Issue 15, point 8: before, an edit with every later hash recomputed verified."""
    _fill(registry)
    with registry.session() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        s.expunge_all()
    assert {e.scheme for e in entries} == {"hmac-sha256"}
    assert registry.audit_key().decode() not in _dump(registry)  # the key is not in the database
    statements, previous = [], entries[1].entry_hash
    for entry in entries[2:]:
        entry.prev_hash = previous
        entry.reason = "edited" if entry.seq == 3 else entry.reason
        for scheme, key in (("hmac-sha256", b"a guessed key"), ("sha256", None)):
            entry.scheme = scheme
            entry.entry_hash = hash_of(entry, key) or ""
        statements.append(
            f"UPDATE audit_entry SET reason = '{entry.reason}', prev_hash = '{entry.prev_hash}',"
            f" entry_hash = '{entry.entry_hash}', scheme = 'sha256' WHERE seq = {entry.seq}"
        )
        previous = entry.entry_hash
    _tamper(registry, *statements)
    problems = " | ".join(verify_audit_log(registry).problems)
    assert "entry 3: unkeyed after keyed entries" in problems


def test_truncation_is_detected_by_the_witness_and_a_recorded_head(registry: Registry) -> None:
    _fill(registry)
    head = verify_audit_log(registry).head
    assert witness_path(registry.engine).read_text().strip() == head  # written on append
    _tamper(registry, "DELETE FROM audit_entry WHERE seq >= 4")
    report = verify_audit_log(registry)  # before: a shorter chain verified as intact
    assert report.witness == "contradicted"
    assert report.problems[0].startswith("entry 5 recorded in ")
    report = verify_audit_log(registry, expected_head=head)
    assert report.problems[-1] == (
        "entry 5 recorded earlier as the head is missing (the log now ends at 3): "
        "entries were removed"
    )


def test_a_wiped_log_does_not_verify(registry: Registry) -> None:
    _fill(registry)
    _tamper(registry, "DELETE FROM audit_entry")
    report = verify_audit_log(registry)  # before: "intact: 0 entries"
    assert report.entries == 0 and not report.ok


def test_insert_or_replace_is_refused(registry: Registry) -> None:
    _fill(registry, 2)
    columns = (
        "seq, at, actor, organisation, action, purpose, datasets, outcome, reason, detail, "
        "prev_hash, entry_hash, event, scheme"
    )
    values = (
        "1, 'x', 'x', 'x', 'x', 'x', '[]', 'allowed', 'x', '{}', 'p', 'h', 'recorded', 'sha256'"
    )
    if registry.engine.dialect.name == "sqlite":
        statement = f"INSERT OR REPLACE INTO audit_entry ({columns}) VALUES ({values})"
    else:
        statement = (
            f"INSERT INTO audit_entry ({columns}) VALUES ({values}) "
            "ON CONFLICT (seq) DO UPDATE SET reason = 'replaced'"
        )
    with pytest.raises(DBAPIError, match="append-only"), registry.engine.begin() as c:
        c.execute(text(statement))
    assert verify_audit_log(registry).ok


def _dump(registry: Registry) -> str:
    with registry.engine.connect() as c:
        rows = c.execute(text("SELECT * FROM audit_entry")).fetchall()
    return repr(rows)


def test_concurrent_writers_keep_one_chain(registry: Registry) -> None:
    """Writers racing for the next sequence number retry; the chain stays linear."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: _fill(registry, 5), range(4)))
    report = verify_audit_log(registry)
    assert report.ok and report.entries == 20


def test_unstorable_text_in_a_refused_request_is_still_audited(registry: Registry) -> None:
    from sectorlink.governance import AccessDenied, authorise, read_audit_log

    with pytest.raises(AccessDenied, match="unknown organisation"):
        authorise(
            registry, organisation="Evil\x00Org" + "x" * 400, purpose="analysis", datasets=["ae"]
        )
    entry = read_audit_log(registry)[-1]
    assert entry.outcome == "refused" and entry.organisation.startswith("Evil\\x00Org")
    assert len(entry.organisation) <= 300
    assert verify_audit_log(registry).ok
