import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sectorlink.governance import append_audit_entry, verify_audit_log
from sectorlink.registry import Registry


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
    from sectorlink.governance.audit import _hash_of
    from sectorlink.registry.models import AuditEntry

    with registry.session() as s:
        entry = s.get(AuditEntry, 3)
        assert entry is not None
        entry.reason = "edited"
        new_hash = _hash_of(entry)
        s.expunge(entry)
    _tamper(
        registry,
        f"UPDATE audit_entry SET reason = 'edited', entry_hash = '{new_hash}' WHERE seq = 3",
    )
    problems = verify_audit_log(registry).problems
    assert len(problems) == 1
    assert problems[0].startswith("entry 4: does not follow the entry before it")


def test_truncation_is_detected_against_a_recorded_head(registry: Registry) -> None:
    _fill(registry)
    head = verify_audit_log(registry).head
    _tamper(registry, "DELETE FROM audit_entry WHERE seq >= 4")
    assert verify_audit_log(registry).ok  # a shorter chain is still a chain...
    report = verify_audit_log(registry, expected_head=head)
    assert report.problems == [
        "entry 5 recorded earlier as the head is missing (the log now ends at 3): "
        "entries were removed"
    ]


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
