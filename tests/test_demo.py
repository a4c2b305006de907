"""The demo end to end on a small region: every extract loaded, registered, audited, reported."""

from __future__ import annotations

import json

import duckdb
import pytest

from sectorlink.demo import run_demo
from sectorlink.governance import read_audit_log, verify_audit_log
from sectorlink.registry import open_registry


@pytest.mark.slow
def test_demo_runs_the_whole_flow(tmp_path):
    steps: list[str] = []
    result = run_demo(tmp_path / "demo", people=1_500, seed=3, hook=lambda d, i, n: steps.append(d))
    manifest = json.loads((result.region_dir / "manifest.json").read_text())
    files = {e["file"] for e in manifest["extracts"]}
    assert {str(r.file.relative_to(result.region_dir)) for r in result.loads} == files
    assert all(r.status == "loaded" for r in result.loads)
    # events-only files come after the person files of their source
    order = [r.source for r in result.loads]
    for load in result.loads:
        if load.rows_written.get("person_record", 0) == 0 and load.rows_written.get("event", 0):
            assert order.index(load.source) < result.loads.index(load)

    con = duckdb.connect(str(result.warehouse), read_only=True)
    sources = {e["source"] for e in manifest["extracts"]}
    loaded = {r[0] for r in con.execute("SELECT DISTINCT source FROM load").fetchall()}
    assert loaded == sources
    for table, key in (("person_record", "record_id"), ("event", "event_id")):
        # keys are kept unique by ingest, not by an index
        repeated = con.execute(
            f"SELECT count(*) - count(DISTINCT (source, {key})) FROM {table}"
        ).fetchone()
        assert repeated == (0,)
    people = con.execute("SELECT count(*) FROM person_record").fetchone()
    assert people is not None and people[0] > 1_500  # repeat records across partners

    registry = open_registry(result.registry_url)
    assert verify_audit_log(registry).ok
    entries = read_audit_log(registry, limit=1000)
    ingests = [e for e in entries if e.action == "ingest"]
    assert len(ingests) == len(result.loads)
    # the person-level read for linkage passed the access check and is in the audit log
    reads = [e for e in entries if e.action == "read_identifiers"]
    assert [(e.purpose, e.outcome) for e in reads] == [("linkage", "allowed")]
    assert set(reads[0].datasets) == {
        s
        for s in sources
        if s in {r.source for r in result.loads if r.rows_written.get("person_record")}
    }

    assert result.linkage is not None and result.evaluation is not None
    assert result.linkage.persons > 0
    assert result.evaluation.overall.f1 > 0.9  # a floor for the demo, not the accuracy target

    html = result.report.read_text()
    assert "Ingest and data quality" in html and "Directory and governance" in html
    assert "Person linkage" in html and "linkage_report.html" in html
    assert "chain verified" in html
    assert any(step.startswith("ingest ") for step in steps)
