"""Fixtures for linkage tests: small warehouses built from rows or the synthetic region."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sectorlink.warehouse import connect

# Test modules import linkage_helpers directly; make it importable from here too.
sys.path.insert(0, str(Path(__file__).parent))
from linkage_helpers import Row, insert_records


@pytest.fixture
def warehouse(tmp_path: Path) -> Callable[[list[Row]], Path]:
    """Make a warehouse file holding the given person records."""

    def make(rows: list[Row]) -> Path:
        path = tmp_path / "hub.duckdb"
        con = connect(path)
        insert_records(con, rows)
        con.close()
        return path

    return make


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small synthetic region ingested into a warehouse: (warehouse, truth CSV).

    Built once per session; tests copy the warehouse before changing it."""
    from sectorlink.demo import ingest_region
    from sectorlink.synth import generate_region

    root = tmp_path_factory.mktemp("region")
    generate_region(root / "region", people=600, seed=11, progress=False)
    warehouse = root / "hub.duckdb"
    ingest_region(root / "region", warehouse)
    return warehouse, root / "region" / "truth" / "person_records.csv"
