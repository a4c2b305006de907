"""Every extract of a generated region loads through the real ingest with no rejects."""

from __future__ import annotations

import pytest

sources = pytest.importorskip("sectorlink.sources")
warehouse_module = pytest.importorskip("sectorlink.warehouse")


def test_region_ingests_without_rejects_or_unmapped_codes(region, tmp_path):
    warehouse = tmp_path / "hub.duckdb"
    con = warehouse_module.connect(warehouse)
    try:
        for entry in region.extracts:
            result = sources.ingest(
                region.out_dir / entry.spec, region.out_dir / entry.file, con=con
            )
            assert result.rows_rejected == 0, (entry.file, result.rejects[:3])
            assert not result.unmapped, (entry.file, result.unmapped[:5])
            assert result.rows_read == entry.rows
        latest = con.execute("select max(start_time) from event").fetchone()
        assert latest is not None and str(latest[0]) <= "2025-12-31 23:59:59"
        kinds = {row[0] for row in con.execute("select distinct event_type from event").fetchall()}
        assert {
            "ae_assault",
            "mental_health_crisis",
            "housing_loss",
            "lead_test",
            "legal_referral",
            "homeless_project_entry",
            "clinical_condition",
            "police_incident",
        } <= kinds
    finally:
        con.close()
