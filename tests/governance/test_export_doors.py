"""The export door: a person-level file that leaves is audited with its SHA-256, against
the export decision that allowed it; with none, it is refused and audited."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sectorlink.governance import AccessDenied, authorise, read_audit_log
from sectorlink.governance.doors import ExportNotAllowed, audit_head_seq, record_export
from sectorlink.registry import Registry, register_region
from sectorlink.registry.testing import write_sample_region

HUB = "Regional Analytics Hub"
HOSPITAL = "Northgate Hospital NHS Trust"


@pytest.fixture
def region(sqlite_registry: Registry, tmp_path: Path) -> Registry:
    register_region(sqlite_registry, write_sample_region(tmp_path / "region"))
    return sqlite_registry


def _list(tmp_path: Path) -> Path:
    out = tmp_path / "cohort.csv"
    out.write_text("source,record_id\nae_northgate,A1\nae_northgate,A2\n")
    return out


def test_an_allowed_export_is_recorded_with_its_file_and_decision(
    region: Registry, tmp_path: Path
) -> None:
    since = audit_head_seq(region)
    grant = authorise(
        region, organisation=HOSPITAL, purpose="direct-care", datasets=["ae_northgate"],
        action="export", actor="test",
    )  # fmt: skip
    out = _list(tmp_path)
    seq = record_export(
        region, since=since, door="insights cohort", organisation="northgate hospital nhs trust",
        path=out, rows=2, actor="test",
    )  # fmt: skip
    entry = read_audit_log(region, after_seq=seq - 1, limit=1)[0]
    assert (entry.action, entry.outcome, entry.organisation) == (
        "insights cohort",
        "recorded",
        HOSPITAL,
    )
    assert entry.purpose == "direct-care" and entry.datasets == ("ae_northgate",)
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    assert entry.detail["files"] == {"out": {"path": str(out), "sha256": sha}}
    assert entry.detail["rows"] == 2 and entry.detail["grant"] == [grant.audit_seq]


def test_a_file_with_no_export_allowed_is_refused_and_audited(
    region: Registry, tmp_path: Path
) -> None:
    since = audit_head_seq(region)
    # the hub may read the hospital's data, but its agreement allows aggregates only
    authorise(region, organisation=HUB, purpose="analysis", datasets=["ae_northgate"])
    with pytest.raises(AccessDenied, match="aggregate outputs only"):
        authorise(
            region, organisation=HUB, purpose="analysis", datasets=["ae_northgate"],
            action="export",
        )  # fmt: skip
    # an export allowed to another organisation does not count for the hub
    authorise(
        region, organisation=HOSPITAL, purpose="direct-care", datasets=["ae_northgate"],
        action="export",
    )  # fmt: skip
    with pytest.raises(ExportNotAllowed, match="no export was allowed"):
        record_export(
            region, since=since, door="insights cohort", organisation=HUB,
            path=_list(tmp_path), rows=2,
        )  # fmt: skip
    last = read_audit_log(region, limit=10_000)[-1]
    assert (last.action, last.outcome, last.organisation) == ("insights cohort", "refused", HUB)
