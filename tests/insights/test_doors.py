"""A load through `sectorlink ingest --registry`: allowed only for an organisation that
owns or receives the data set, audited with the actor and the files' hashes, and the
warehouse keeps who loaded it under which agreement."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.governance import read_audit_log

runner = CliRunner()


def _files(hub) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    return (
        hub.region_dir / "specs" / "lead_properties.yaml",
        hub.region_dir / "extracts" / "lead_properties.csv",
    )


def test_a_governed_load_is_checked_audited_and_recorded(hub, tmp_path: Path) -> None:
    spec, extract = _files(hub)
    warehouse = tmp_path / "fresh.duckdb"
    args = ["ingest", str(spec), str(extract), "--warehouse", str(warehouse),
            "--registry", hub.registry_url]  # fmt: skip
    loaded = runner.invoke(app, [*args, "--organisation", hub.organisation])
    assert loaded.exit_code == 0, loaded.output
    registry = hub.registry()
    access, load = read_audit_log(registry, limit=1_000_000)[-2:]
    registry.close()
    assert access.outcome == "allowed" and access.action == "read_identifiers"
    digest = hashlib.sha256(extract.read_bytes()).hexdigest()
    assert access.detail["files"]["extract"]["sha256"] == digest
    assert load.action == "ingest" and load.detail["grant"] == access.seq
    con = duckdb.connect(str(warehouse), read_only=True)
    row = con.execute(
        "SELECT organisation, basis, access_audit_entry, load_audit_entry FROM load_authority"
    ).fetchone()
    con.close()
    assert row == (
        hub.organisation,
        access.detail["basis"]["lead_northshire"],
        access.seq,
        load.seq,
    )
    assert str(row[1]).startswith("DSA-")


def test_a_load_without_agreement_is_refused_and_nothing_loads(hub, tmp_path: Path) -> None:
    spec, extract = _files(hub)
    warehouse = tmp_path / "fresh.duckdb"
    args = ["ingest", str(spec), str(extract), "--warehouse", str(warehouse),
            "--registry", hub.registry_url]  # fmt: skip
    refused = runner.invoke(app, [*args, "--organisation", "Northshire Police"])
    assert refused.exit_code == 3 and "access refused" in refused.output
    assert not warehouse.exists()
    registry = hub.registry()
    assert read_audit_log(registry, limit=1_000_000)[-1].outcome == "refused"
    registry.close()
    missing = runner.invoke(app, args)
    assert missing.exit_code == 2 and "--organisation" in missing.output


def test_without_a_registry_the_load_says_it_is_not_audited(hub, tmp_path: Path) -> None:
    spec, extract = _files(hub)
    result = runner.invoke(
        app,
        ["ingest", str(spec), str(extract), "--warehouse", str(tmp_path / "w.duckdb")],
        env={"SECTORLINK_REGISTRY_URL": ""},
    )
    assert result.exit_code == 0, result.output
    assert "not audited" in result.output


def _without_libraries(html: str) -> str:
    """The report less the chart library scripts it embeds (whose code holds words
    such as 'marshall'); the charts' own data stay."""
    return re.sub(
        r"<script[^>]*>(.*?)</script>",
        lambda m: "" if len(m.group(1)) > 50_000 else m.group(0),
        html,
        flags=re.DOTALL,
    )


def test_the_linkage_report_shows_identifiers_only_when_asked(hub, tmp_path: Path) -> None:
    from sectorlink.linkage import link

    con = duckdb.connect(str(hub.warehouse), read_only=True)
    names = {
        str(r[0]).lower()
        for r in con.execute(
            "SELECT DISTINCT family_name FROM person_record WHERE length(family_name) >= 7"
        ).fetchall()
    }
    con.close()
    truth = hub.truth("person_records.csv")
    plain = link(hub.warehouse, out_dir=tmp_path / "plain", truth=truth)
    report = _without_libraries(plain.outputs["report"].read_text()).lower()
    assert "shown only with link --identifier-examples" in report
    assert not [n for n in names if n in report]
    shown = link(hub.warehouse, out_dir=tmp_path / "shown", truth=truth, identifier_examples=True)
    text = _without_libraries(shown.outputs["report"].read_text()).lower()
    assert [n for n in names if n in text], "no example pair in the report"
