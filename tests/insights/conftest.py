"""A small linked region shared by the insights tests: generated, registered, ingested,
linked and with its geography loaded, once per test worker. Tests that write (an
analysis keeps tables in the warehouse) take `hub`, a private copy."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from sectorlink.demo import ingest_region, link_region
from sectorlink.insights import load_geography
from sectorlink.registry import HUB_NAME, Registry, open_registry, register_region
from sectorlink.synth import generate_region
from sectorlink.warehouse import connect

PEOPLE = 4_000
SEED = 7


@dataclass
class Hub:
    """A linked region: its folder, warehouse and registry (open on a private copy)."""

    region_dir: Path
    warehouse: Path
    registry_path: Path
    organisation: str = HUB_NAME

    @property
    def registry_url(self) -> str:
        return f"sqlite:///{self.registry_path}"

    def registry(self) -> Registry:
        return open_registry(self.registry_url)

    def truth(self, name: str) -> Path:
        return self.region_dir / "truth" / name


def build_hub(folder: Path, *, people: int = PEOPLE, seed: int = SEED) -> Hub:
    """Generate, register, ingest, link and load the geography of a region in `folder`."""
    region = folder / "region"
    generate_region(region, people=people, seed=seed, force=True, progress=False)
    hub = Hub(region, folder / "warehouse.duckdb", folder / "registry.db")
    registry = hub.registry()
    try:
        register_region(registry, region / "manifest.json")
        ingest_region(region, hub.warehouse, registry=registry)
        link_region(hub.warehouse, region, registry, folder / "linkage")
    finally:
        registry.close()
    con = connect(hub.warehouse)
    try:
        geography = region / "geography"
        load_geography(con, geography / "postcodes.csv", geography / "small_areas.geojson")
    finally:
        con.close()
    return hub


@pytest.fixture(scope="session")
def linked_region(tmp_path_factory: pytest.TempPathFactory) -> Hub:
    """The shared region; read it, never write to it (use `hub` for that)."""
    return build_hub(tmp_path_factory.mktemp("insights-region"))


@pytest.fixture
def hub(linked_region: Hub, tmp_path: Path) -> Hub:
    """A private copy of the shared region's warehouse and registry, free to write to."""
    warehouse = tmp_path / "warehouse.duckdb"
    registry_path = tmp_path / "registry.db"
    shutil.copy(linked_region.warehouse, warehouse)
    # The registry with whatever the audit chain keeps beside it (key, witness of its head).
    for sibling in linked_region.registry_path.parent.glob(linked_region.registry_path.name + "*"):
        shutil.copy(
            sibling,
            tmp_path / sibling.name.replace(linked_region.registry_path.name, registry_path.name),
        )
    return Hub(linked_region.region_dir, warehouse, registry_path)
