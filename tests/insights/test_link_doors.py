"""`sectorlink link` and `sectorlink evaluate` with a registry: allowed only when every data
set they read is covered for the organisation and purpose linkage, audited with the actor,
the inputs (the truth file's hash, the loads in force) and the outcome; without a registry
they say once that nothing is audited."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.governance import AccessDenied, read_audit_log
from sectorlink.governance.doors import governed, governed_link
from sectorlink.linkage import evaluate
from sectorlink.warehouse import connect

runner = CliRunner()
REFUSED_ORGANISATION = "Northshire Police"  # owns its own data set, receives no other


def _entries(hub, n: int):  # type: ignore[no-untyped-def]
    registry = hub.registry()
    try:
        return read_audit_log(registry, limit=1_000_000)[-n:]
    finally:
        registry.close()


def _latest_run(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return str(con.execute("SELECT max(run_id) FROM person_index").fetchall()[0][0])
    finally:
        con.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_a_governed_link_is_checked_audited_and_recorded(hub) -> None:  # type: ignore[no-untyped-def]
    truth = hub.truth("person_records.csv")
    result = runner.invoke(
        app,
        ["link", "--warehouse", str(hub.warehouse), "--registry", hub.registry_url,
         "--organisation", hub.organisation, "--truth", str(truth)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not audited" not in result.output
    access, done = _entries(hub, 2)
    assert access.outcome == "allowed" and access.action == "read_identifiers"
    assert access.purpose == "linkage" and access.detail["door"] == "link"
    assert access.detail["files"]["truth"]["sha256"] == _sha(truth)
    con = connect(hub.warehouse, read_only=True)
    try:
        sources = con.execute("SELECT DISTINCT source FROM person_record").fetchall()
        loads = con.execute("SELECT load_id FROM load WHERE superseded_by IS NULL").fetchall()
    finally:
        con.close()
    assert sorted(access.datasets) == sorted(r[0] for r in sources)
    assert sorted(access.detail["inputs"]["loads"]) == sorted(r[0] for r in loads)
    assert access.detail["inputs"]["engine"] == "duckdb"
    assert done.action == "link" and done.detail["grant"] == access.seq
    assert done.detail["status"] == "done"
    assert done.detail["run_id"] == _latest_run(hub.warehouse)


def test_a_link_outside_an_agreement_is_refused_before_it_runs(hub) -> None:  # type: ignore[no-untyped-def]
    before = _latest_run(hub.warehouse)
    args = ["link", "--warehouse", str(hub.warehouse), "--registry", hub.registry_url]
    refused = runner.invoke(app, [*args, "--organisation", REFUSED_ORGANISATION])
    assert refused.exit_code == 3 and "access refused" in refused.output
    assert _latest_run(hub.warehouse) == before
    (entry,) = _entries(hub, 1)
    assert entry.outcome == "refused" and entry.detail["door"] == "link"
    missing = runner.invoke(app, args)
    assert missing.exit_code == 2 and "--organisation" in missing.output


def test_without_a_registry_link_and_evaluate_say_they_are_not_audited(  # type: ignore[no-untyped-def]
    hub, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.duckdb"
    connect(empty).close()
    linked = runner.invoke(
        app, ["link", "--warehouse", str(empty)], env={"SECTORLINK_REGISTRY_URL": ""}
    )
    # an empty warehouse has nothing to link: it fails, and says once that nothing is audited
    assert linked.exit_code == 2 and linked.output.count("not audited") == 1
    scored = runner.invoke(
        app,
        ["evaluate", "--warehouse", str(hub.warehouse),
         "--truth", str(hub.truth("person_records.csv"))],
        env={"SECTORLINK_REGISTRY_URL": ""},
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert scored.output.count("not audited") == 1


def test_a_governed_evaluation_is_audited_with_its_scores(hub) -> None:  # type: ignore[no-untyped-def]
    truth = hub.truth("person_records.csv")
    args = ["evaluate", "--warehouse", str(hub.warehouse), "--truth", str(truth),
            "--registry", hub.registry_url]  # fmt: skip
    result = runner.invoke(app, [*args, "--organisation", hub.organisation])
    assert result.exit_code == 0, result.output
    access, done = _entries(hub, 2)
    assert access.outcome == "allowed" and access.action == "read"
    assert access.detail["door"] == "evaluate"
    assert access.detail["files"]["truth"]["sha256"] == _sha(truth)
    con = connect(hub.warehouse, read_only=True)
    try:
        expected = evaluate(con, truth)
    finally:
        con.close()
    assert done.action == "evaluate" and done.detail["grant"] == access.seq
    assert done.detail["f1"] == pytest.approx(expected.overall.f1)
    assert done.detail["records"] == expected.records

    refused = runner.invoke(app, [*args, "--organisation", REFUSED_ORGANISATION])
    assert refused.exit_code == 3 and "access refused" in refused.output
    (entry,) = _entries(hub, 1)
    assert entry.outcome == "refused" and entry.detail["door"] == "evaluate"


def test_a_use_that_fails_is_recorded_as_failed(hub) -> None:  # type: ignore[no-untyped-def]
    registry = hub.registry()
    try:
        with (
            pytest.raises(RuntimeError),
            governed(
                registry,
                door="link",
                organisation=hub.organisation,
                purpose="linkage",
                datasets=["ae_northgate"],
                action="read",
            ),
        ):
            raise RuntimeError("the engine stopped")
        with (
            pytest.raises(AccessDenied),
            governed_link(registry, hub.warehouse, organisation=REFUSED_ORGANISATION),
        ):
            pytest.fail("a refused use must not run")
    finally:
        registry.close()
    failed, refused = _entries(hub, 2)
    assert failed.action == "link" and failed.detail["status"] == "failed"
    assert "the engine stopped" in failed.detail["error"]
    assert refused.outcome == "refused"
