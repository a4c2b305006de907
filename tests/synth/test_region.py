"""The region's contract: layout, manifest, specs that match their files, reproducibility."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.sources import load_spec
from sectorlink.synth import MessConfig, OutputFolderError, generate_region

SECTORS = {
    "health care", "ambulance", "police", "housing/homelessness", "social care",
    "benefits and debt", "legal", "public health",
}  # fmt: skip


def test_manifest_has_the_contract_keys(region, reader):
    data = reader.manifest(region)
    assert data["seed"] == 7 and data["people"] == 1500
    assert data["generated_with"].startswith("sectorlink ")
    start, end = dt.date.fromisoformat(data["start_date"]), dt.date.fromisoformat(data["end_date"])
    assert start < end < dt.date(2026, 11, 22)
    expected = Counter(r["file"] for r in reader.truth(region, "expected_rejects"))
    for entry in data["extracts"]:
        assert {"source", "partner", "sector", "spec", "file", "description", "rows",
                "expected_rejects"} <= set(entry)  # fmt: skip
        assert entry["expected_rejects"] == expected[Path(entry["file"]).name]
        assert entry["sector"] in SECTORS
        assert (region.out_dir / entry["spec"]).is_file() and entry["spec"].startswith("specs/")
        assert (region.out_dir / entry["file"]).is_file() and entry["file"].startswith("extracts/")
    assert {"person_records", "people"} <= set(data["truth"])
    for path in data["truth"].values():
        assert (region.out_dir / path).is_file()
    for key in ("neighbourhoods", "small_areas", "addresses", "postcodes"):
        assert (region.out_dir / data["geography"][key]).is_file()


def test_at_least_nine_partners_cover_every_sector(region):
    assert len({e.partner for e in region.extracts}) >= 9
    assert {e.sector for e in region.extracts} == SECTORS


def test_formats_vary_as_real_extracts_do(region, reader):
    specs = [reader.spec(region, e).get("file", {}) for e in region.extracts]
    assert any(s.get("format") == "excel" for s in specs)
    assert any(e.file.endswith(".xlsx") for e in region.extracts)
    assert any(s.get("encoding") == "latin-1" for s in specs)
    assert any(s.get("delimiter") in (";", "\t") for s in specs)
    assert any(
        (region.out_dir / e.file).read_bytes()[:3] == b"\xef\xbb\xbf" for e in region.extracts
    )
    latin = [
        e for e, s in zip(region.extracts, specs, strict=True) if s.get("encoding") == "latin-1"
    ]
    for e in latin:
        assert not (region.out_dir / e.file).read_bytes().startswith(b"\xef\xbb\xbf")


def test_every_spec_parses_and_its_columns_exist_in_its_file(region, reader):
    for entry in region.extracts:
        spec = load_spec(region.out_dir / entry.spec)
        header, rows = reader.rows(region, entry)
        missing = set(spec.columns_used()) - set(header)
        assert not missing, f"{entry.file}: spec names columns not in the file: {missing}"
        assert rows, f"{entry.file} has no rows"


def test_record_ids_are_unique_within_each_extract(region, reader):
    for entry in region.extracts:
        spec = reader.spec(region, entry)
        _, rows = reader.rows(region, entry)
        key = spec.get("record_id") or _first_id_column(spec)
        counts = Counter(r[key] for r in rows)
        assert max(counts.values()) == 1, f"{entry.file}: duplicate {key}"


def _first_id_column(spec: dict) -> str:
    if "events" in spec:
        event_id = spec["events"][0]["event_id"]
        return event_id if isinstance(event_id, str) else event_id["column"]
    table = next(iter(spec["tables"].values()))
    return next(v for k, v in table.items() if k.endswith("_id"))


def test_truth_records_match_the_extracts_exactly(region, reader):
    truth = {
        (r["source"], r["record_id"]): r["person_id"]
        for r in reader.truth(region, "person_records")
    }
    people = {r["person_id"] for r in reader.truth(region, "people")}
    in_extracts = set()
    for entry in region.extracts:
        spec = reader.spec(region, entry)
        if "person" not in spec:
            continue
        _, rows = reader.rows(region, entry)
        in_extracts |= {(spec["source"], r[spec["record_id"]]) for r in rows}
    assert in_extracts == set(truth)
    assert set(truth.values()) <= people


def test_events_only_files_refer_to_records_of_their_source(region, reader):
    records = {(r["source"], r["record_id"]) for r in reader.truth(region, "person_records")}
    for entry in region.extracts:
        spec = reader.spec(region, entry)
        if "person" in spec or "events" not in spec:
            continue
        column = spec["events"][0]["record_id"]
        _, rows = reader.rows(region, entry)
        assert {(spec["source"], r[column]) for r in rows} <= records, entry.file


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    def digest(folder: Path) -> dict[str, str]:
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()
        }  # fmt: skip

    a = generate_region(tmp_path / "a", people=400, seed=3, progress=False)
    b = generate_region(tmp_path / "b", people=400, seed=3, progress=False)
    c = generate_region(tmp_path / "c", people=400, seed=4, progress=False)
    da, db, dc = digest(a.out_dir), digest(b.out_dir), digest(c.out_dir)
    assert da == db
    assert any(f.endswith(".xlsx") for f in da)
    assert set(da) == set(dc) and da != dc
    assert sum(da[f] != dc[f] for f in da) > len(da) // 2


@pytest.mark.parametrize("people", [0, -5])
def test_people_must_be_positive(tmp_path, people):
    with pytest.raises(ValueError, match="people must be at least 1"):
        generate_region(tmp_path / "r", people=people, progress=False)
    assert not (tmp_path / "r").exists()


def test_refuses_a_non_empty_folder_without_force(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match="not empty"):
        generate_region(tmp_path, people=50, progress=False)
    generate_region(tmp_path, people=50, progress=False, force=True)
    assert (tmp_path / "manifest.json").exists() and (tmp_path / "keep.txt").read_text() == "mine"


def test_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(OutputFolderError):
        generate_region(blocker / "region", people=50, progress=False)
    with pytest.raises(OutputFolderError, match="not a folder"):
        generate_region(blocker, people=50, progress=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "0"], "people must be at least 1"),
        (["-n", "-3"], "people must be at least 1"),
        (["--rate", "typo=1.5"], "'typo' must be between 0 and 1"),
        (["--rate", "typo=-0.1"], "'typo' must be between 0 and 1"),
        (["--rate", "nope=0.1"], "unknown mess rate 'nope'"),
        (["--rate", "typo"], "NAME=VALUE"),
    ],
)
def test_cli_bad_input_fails_cleanly(tmp_path, args, message):
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "r"), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_cli_refuses_a_non_empty_folder_then_forces(tmp_path):
    (tmp_path / "x").write_text("")
    runner = CliRunner()
    refused = runner.invoke(app, ["synth", "--out", str(tmp_path), "-n", "60"])
    assert refused.exit_code == 2 and "--force" in refused.output
    done = runner.invoke(
        app, ["synth", "--out", str(tmp_path), "-n", "60", "--force", "--rate", "typo=0.2"]
    )
    assert done.exit_code == 0, done.output
    assert "to reject" in done.output and "expected_rejects.csv" in " ".join(done.output.split())
    assert manifest_json_from(tmp_path)["mess"]["typo"] == 0.2


def manifest_json_from(folder: Path) -> dict:
    import json

    return json.loads((folder / "manifest.json").read_text())


def test_clean_config_writes_clean_records(tmp_path, reader):
    manifest = generate_region(tmp_path, people=300, seed=5, mess=MessConfig.none(), progress=False)
    # Homeless people have no address and people without a mobile give the landline
    # whatever the rates: those are facts of their lives, not errors of the record.
    labels = {r["mess"] for r in reader.truth(manifest, "person_records")}
    assert labels <= {"", "no_fixed_abode", "shared_phone", "no_fixed_abode|shared_phone"}


@pytest.mark.parametrize(("people", "seed"), [(1, 0), (7, 1), (200, 0), (200, 1), (200, 2)])
def test_small_regions_write_rows_in_every_file(tmp_path, reader, people, seed):
    manifest = generate_region(tmp_path, people=people, seed=seed, progress=False)
    for entry in manifest.extracts:
        _, rows = reader.rows(manifest, entry)  # the rows ingest loads, without any reject
        assert rows, f"{entry.file} has a header and no rows at {people} people, seed {seed}"


def _formats(spec: dict, column: str) -> list[str]:
    """The date formats the spec reads `column` with (the default ISO date if none)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("column") == column and "formats" in node:
                found.extend(node["formats"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found or ["%Y-%m-%d"]


def _parse(value: str, formats: list[str]) -> dt.datetime | None:
    for f in formats:
        try:
            return dt.datetime.strptime(value, f)
        except ValueError:
            continue
    return None


def _record_column(spec: dict) -> str:
    """The spec's record id column; an events-only file's person reference; a table's key."""
    if "record_id" in spec:
        return str(spec["record_id"])
    if "events" in spec:
        return str(spec["events"][0]["record_id"])
    table = next(iter(spec["tables"].values()))
    return str(table.get("inspection_id", table["property_id"]))


def _events_only(spec: dict) -> bool:
    return "events" in spec and "person" not in spec


def test_expected_rejects_show_in_the_files(messy_region, reader):
    expected = reader.truth(messy_region, "expected_rejects")
    by_file = {Path(e.file).name: e for e in messy_region.extracts}
    sources = {e.source for e in messy_region.extracts}
    person_ids = {
        (r["source"], r["record_id"]) for r in reader.truth(messy_region, "person_records")
    }
    checked = Counter()
    for name, entry in by_file.items():
        rejects = [r for r in expected if r["file"] == name]
        if not rejects:
            continue
        spec = reader.spec(messy_region, entry)
        _, raw = reader.rows(messy_region, entry, raw=True)
        first = reader.first_row(messy_region, entry)
        rejected_rows = {int(r["source_row"]) for r in rejects}
        for r in rejects:
            assert r["source"] == entry.source in sources
            row = raw[int(r["source_row"]) - first]
            cell = row.get(r["column"], "")
            assert r["record_id"] == row[_record_column(spec)]
            kind = r["kind"]
            if kind == "invalid_date":
                assert cell and _parse(cell, _formats(spec, r["column"])) is None, (name, cell)
            elif kind == "future_date":
                parsed = _parse(cell, _formats(spec, r["column"]))
                assert parsed is not None and parsed.year >= 2040, (name, cell)
            elif kind == "missing_record_id":
                assert cell == ""
            elif kind == "resent_row":
                earlier = [
                    i + first
                    for i, other in enumerate(raw[: int(r["source_row"]) - first])
                    if other[r["column"]] == cell
                ]
                assert earlier and earlier[0] not in rejected_rows, (name, r)
            elif kind == "repeated_header":  # several exports joined, each with its header
                assert [" ".join(v.split()) for v in row.values()] == list(row), (name, r)
            else:
                assert kind == "orphan_event"
                assert (entry.source, cell) not in person_ids
            checked[kind] += 1
    assert set(checked) == {
        "invalid_date", "future_date", "missing_record_id", "resent_row", "orphan_event",
        "repeated_header",
    }  # fmt: skip


REJECT_RATES = {"invalid_date": 0.02, "future_date": 0.02, "missing_record_id": 0.02,
                "resent_row": 0.03, "orphan_event": 0.04}  # fmt: skip


def test_reject_rates_come_out_as_configured(messy_region, reader):
    """Each kind adds about rate x rows to every file it can apply to."""
    expected = Counter(  # an impossible birth date is a field issue, not an added row
        (r["file"], r["kind"])
        for name in ("expected_rejects", "expected_field_issues")
        for r in reader.truth(messy_region, name)
    )
    rejected = Counter(r["file"] for r in reader.truth(messy_region, "expected_rejects"))
    for kind, rate in REJECT_RATES.items():
        files = [
            Path(e.file).name
            for e in messy_region.extracts
            if kind != "orphan_event" or _events_only(reader.spec(messy_region, e))
        ]
        if kind in ("invalid_date", "future_date"):
            files = [f for f in files if f != "lead_properties.csv"]
        if kind == "future_date":
            files = [f for f in files if f != "hmis_Client.csv"]
        base = sum(e.rows - rejected[Path(e.file).name] for e in messy_region.extracts
                   if Path(e.file).name in files)  # fmt: skip
        added = sum(expected[(f, kind)] for f in files)
        assert base > 500
        assert added / base == pytest.approx(rate, abs=4 * (rate / base) ** 0.5), kind
