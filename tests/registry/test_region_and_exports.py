import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from sectorlink.registry import (
    InvalidInput,
    Registry,
    dataset_by_source,
    dcat_catalog,
    directory_html,
    export_directory,
    graph_graphml,
    graph_json,
    import_directory,
    register_region,
    spec_fields,
)
from sectorlink.registry.models import Agreement, Dataset, Organisation, Project
from sectorlink.registry.testing import SAMPLE_SPECS
from sectorlink.sources import parse_spec


def _counts(registry: Registry) -> tuple[int, ...]:
    with registry.session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) or 0
            for m in (Organisation, Dataset, Project, Agreement)
        )


def test_spec_fields_read_person_events_details_and_tables() -> None:
    ae = spec_fields(parse_spec(yaml.safe_dump(SAMPLE_SPECS["ae.yaml"])))
    assert ("person_record", "nhs_number") in ae
    assert ("person_record", "record_id") in ae
    assert ("event", "site_code") in ae
    assert ("violence", "assault_method") in ae
    assert not any(f == "when" for _, f in ae)
    assert ("violence", "event_id") in ae  # keys the spec fills by default count too
    lead = spec_fields(parse_spec(yaml.safe_dump(SAMPLE_SPECS["lead.yaml"])))
    assert ("property", "year_built") in lead and ("property_inspection", "inspection_date") in lead


def test_register_region_is_idempotent(registry: Registry, sample_region: Path) -> None:
    first = register_region(registry, sample_region)
    assert first.hub == "Regional Analytics Hub"
    assert first.datasets == ["ae_northgate", "police_northgate", "lead_inspections"]
    assert len(first.agreements) == 3 and "agreement DSA-NORTHGATE-POLICE" in first.created
    counts = _counts(registry)
    assert counts == (4, 3, 1, 3)
    second = register_region(registry, sample_region)
    assert second.created == []
    assert _counts(registry) == counts
    with registry.session() as s:
        ae = dataset_by_source(s, "ae_northgate")
        assert ae.owner.name == "Northgate Hospital NHS Trust"
        assert ae.privacy_tier == "identifiable"
        assert "ISB 1594" in ae.standard
        police = [
            f"{f.table_name}.{f.field_name}"
            for f in dataset_by_source(s, "police_northgate").fields
        ]
        assert "person_record.full_name" in police and "event.small_area" in police
        lead = dataset_by_source(s, "lead_inspections")
        assert lead.privacy_tier == "pseudonymised"


def test_register_region_bad_manifests(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no region manifest"):
        register_region(registry, tmp_path / "missing.json")
    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps({"extracts": [{"source": "x", "partner": "P"}]}))
    with pytest.raises(InvalidInput, match="extract 1 has no sector, spec"):
        register_region(registry, bad)


def test_yaml_round_trip_is_stable(registry: Registry, sample_region: Path, tmp_path: Path) -> None:
    register_region(registry, sample_region)
    out = tmp_path / "directory.yaml"
    text = export_directory(registry, out)
    data = yaml.safe_load(text)
    assert {o["name"] for o in data["organisations"]} >= {"Northgate Police"}
    assert "person_record.nhs_number" in data["datasets"][0]["fields"]
    result = import_directory(registry, out)  # importing what is there changes nothing
    assert result.created == []
    assert export_directory(registry) == text


def test_yaml_import_into_empty_registry(
    registry: Registry, sqlite_registry: Registry, sample_region: Path, tmp_path: Path
) -> None:
    register_region(sqlite_registry, sample_region)
    path = tmp_path / "d.yaml"
    text = export_directory(sqlite_registry, path)
    if registry is sqlite_registry:
        return
    result = import_directory(registry, path)
    assert "agreement DSA-NORTHGATE-POLICE" in result.created
    assert export_directory(registry) == text


def test_yaml_import_rejects_other_files(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("hello: world\n")
    with pytest.raises(InvalidInput, match="not a sectorlink directory file"):
        import_directory(registry, path)


def test_graph_dcat_and_html(registry: Registry, sample_region: Path) -> None:
    register_region(registry, sample_region)
    with registry.session() as s:
        graph = graph_json(s)
        kinds = {n["kind"] for n in graph["nodes"]}
        assert kinds == {"organisation", "project", "dataset"}
        relations = {link["relation"] for link in graph["links"]}
        assert {"owns", "uses", "lead", "partner", "shares"} <= relations
        root = ET.fromstring(graph_graphml(s).split("\n", 1)[1])
        ns = "{http://graphml.graphdrawing.org/xmlns}"
        assert len(root.findall(f"{ns}graph/{ns}node")) == len(graph["nodes"])
        catalog = dcat_catalog(s, base_uri="https://hub.example/")
        assert catalog["@type"] == "dcat:Catalog"
        ids = {d["@id"] for d in catalog["dcat:dataset"]}
        assert "https://hub.example/datasets/ae_northgate" in ids
        html = directory_html(s)
        assert "Northgate Police" in html and "DSA-NORTHGATE-POLICE" in html
