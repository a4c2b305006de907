"""A generated region through the real ingest: exactly the expected rows rejected, exactly
the expected values set empty (field issues) with their rows loaded, every other row
loaded, and the truth's person records exactly the records that loaded."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

demo = pytest.importorskip("sectorlink.demo")
warehouse_module = pytest.importorskip("sectorlink.warehouse")

CODE_OF_KIND = {
    "invalid_date": "not_a_date",
    "future_date": "future_date",
    "missing_record_id": "required_missing",
    "resent_row": "duplicate_id",
    "orphan_event": "unknown_person",
    "repeated_header": "repeated_header",
}
REASON_OF_KIND = {
    "invalid_date": "is not a date",
    "future_date": "lies in the future",
    "missing_record_id": "required value is missing",
    "resent_row": "duplicate",
    "orphan_event": "no person record",
    "repeated_header": "the row repeats the header",
}
ROW_TABLES = ("person_record", "event", "property", "property_inspection")


REGIONS = ["region", "messy_region", "small_region"]


@pytest.fixture(scope="module")
def hubs(request, tmp_path_factory):
    """Each shared region ingested once into its own warehouse (as the demo does)."""
    out = {}
    for name in REGIONS:
        manifest = request.getfixturevalue(name)
        warehouse = tmp_path_factory.mktemp("hub") / "hub.duckdb"
        results = demo.ingest_region(manifest.out_dir, warehouse)
        out[name] = (manifest, results, warehouse_module.connect(warehouse))
    yield out
    for _, _, con in out.values():
        con.close()


@pytest.fixture(params=REGIONS)
def ingested(request, hubs):
    return hubs[request.param]


def test_rejects_are_exactly_the_expected_ones(ingested, reader):
    manifest, _, con = ingested
    expected = {
        (r["file"], int(r["source_row"])): r for r in reader.truth(manifest, "expected_rejects")
    }
    reasons: dict[tuple[str, int], list[str]] = defaultdict(list)
    codes: dict[tuple[str, int], set[str]] = defaultdict(set)
    rows = con.execute("SELECT file_path, source_row, reason, code FROM rejects").fetchall()
    for path, row, reason, code in rows:
        reasons[(Path(path).name, int(row))].append(reason)
        codes[(Path(path).name, int(row))].add(code)
    assert set(reasons) == set(expected)
    for key, row in expected.items():
        wanted = REASON_OF_KIND[row["kind"]]
        assert all(wanted in reason for reason in reasons[key]), (key, row, reasons[key])
        assert all(row["column"] in reason for reason in reasons[key]), (key, reasons[key])
        assert codes[key] == {CODE_OF_KIND[row["kind"]]}, (key, row, codes[key])
    kinds = {row["kind"] for row in expected.values()}
    if manifest.people == 2000:  # the messy region: every kind, in many files
        assert kinds == set(REASON_OF_KIND)
        assert len({row["file"] for row in expected.values()}) >= 12


def test_field_issues_are_exactly_the_expected_ones_and_their_rows_load(ingested, reader):
    """An impossible birth date is set empty and recorded; the record loads without it."""
    manifest, _, con = ingested
    expected = {
        (r["file"], int(r["source_row"])): r
        for r in reader.truth(manifest, "expected_field_issues")
    }
    found: dict[tuple[str, int], list[tuple[str, str, str]]] = defaultdict(list)
    rows = con.execute(
        "SELECT file_path, source_row, column_name, field, code FROM field_issues"
    ).fetchall()
    for path, row, column, field, code in rows:
        found[(Path(path).name, int(row))].append((column, field, code))
    assert set(found) == set(expected)
    for key, row in expected.items():
        assert row["kind"] == "invalid_date"
        assert {(column, code) for column, _, code in found[key]} == {
            (row["column"], "not_a_date")
        }, (key, found[key])
        assert "person_record.birth_date" in {field for _, field, _ in found[key]}
    for (file, row), issue in expected.items():
        loaded = con.execute(
            "SELECT birth_date, birth_year FROM person_record p JOIN load USING (load_id) "
            "WHERE p.source = ? AND p.record_id = ? AND p.source_row = ?",
            [issue["source"], issue["record_id"], row],
        ).fetchall()
        assert loaded == [(None, None)], (file, row, loaded)
    if manifest.people == 2000:  # the messy region: in many files
        assert len({file for file, _ in expected}) >= 5


def test_every_other_row_loads(ingested, reader):
    manifest, results, con = ingested
    expected: dict[str, set[int]] = defaultdict(set)
    for r in reader.truth(manifest, "expected_rejects"):
        expected[r["file"]].add(int(r["source_row"]))
    rows_of = {Path(e.file).name: e.rows for e in manifest.extracts}
    first_of = {Path(e.file).name: reader.first_row(manifest, e) for e in manifest.extracts}
    for result in results:
        name = result.file.name
        first = first_of[name]
        assert result.status == "loaded"
        assert result.rows_read == rows_of[name]
        assert result.rows_rejected == len(expected[name]), name
        assert not result.unmapped, (name, result.unmapped[:5])
        loaded: set[int] = set()
        for table in ROW_TABLES:
            loaded |= {
                int(r[0])
                for r in con.execute(
                    f"SELECT DISTINCT source_row FROM {table} WHERE load_id = ?", [result.load_id]
                ).fetchall()
            }
        assert not loaded & expected[name], name
        assert loaded | expected[name] == set(range(first, result.rows_read + first)), name


def test_truth_lists_exactly_the_records_that_load(ingested, reader):
    manifest, _, con = ingested
    truth = {(r["source"], r["record_id"]) for r in reader.truth(manifest, "person_records")}
    loaded = set(con.execute("SELECT source, record_id FROM person_record").fetchall())
    assert loaded == truth


def test_events_and_new_fields_arrive(hubs):
    _, _, con = hubs["region"]
    latest = con.execute("SELECT max(start_time) FROM event").fetchone()
    assert latest is not None and str(latest[0]) <= "2025-12-31 23:59:59"
    kinds = {row[0] for row in con.execute("SELECT DISTINCT event_type FROM event").fetchall()}
    assert {"ae_assault", "mental_health_crisis", "housing_loss", "lead_test", "legal_referral",
            "homeless_project_entry", "clinical_condition", "police_incident"} <= kinds  # fmt: skip
    sources = dict(
        con.execute(
            "SELECT source, count(local_person_id) > 0 FROM person_record GROUP BY 1"
        ).fetchall()
    )
    assert {s for s, has in sources.items() if has} == {
        "ae_northgate", "hmis_northshire", "asc_northshire", "csc_northshire", "gp_riverside",
    }  # fmt: skip
    # HMIS says how good a birth date is; an approximate one keeps only its year.
    quality = con.execute(
        "SELECT birth_date_quality, count(*), count(birth_date), count(birth_year) "
        "FROM person_record WHERE source = 'hmis_northshire' GROUP BY 1"
    ).fetchall()
    by_quality = {q: (n, dates, years) for q, n, dates, years in quality}
    assert set(by_quality) <= {"full", "approximate", "unknown"}
    assert by_quality["full"][1] == by_quality["full"][0]
    if "approximate" in by_quality:
        n, dates, years = by_quality["approximate"]
        assert dates == 0 and years == n
    reasons = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT reason FROM housing_episode WHERE reason IS NOT NULL"
        ).fetchall()
    }
    assert {"Eviction", "Rent arrears"} & reasons
    tenure = dict(con.execute("SELECT tenure, count(*) FROM property GROUP BY 1").fetchall())
    assert {"owner_occupied", "private_rented", "social_rented"} <= set(tenure)
    assert None in tenure  # some the programme does not know


def _contents(con) -> dict[str, list[tuple[object, ...]]]:
    """Every model row of every table, without the load id (it names the time of the load)."""
    out = {}
    for table in (*ROW_TABLES, "violence", "rejects"):
        columns = [
            r[0]
            for r in con.execute(f"DESCRIBE {table}").fetchall()
            if r[0] not in ("load_id", "raw")
        ]
        out[table] = con.execute(
            f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL"
        ).fetchall()
    return out


def test_side_by_side_loads_give_the_same_warehouse_as_one_at_a_time(small_region, tmp_path):
    steps: list[tuple[str, int, int]] = []
    together = demo.ingest_region(
        small_region.out_dir, tmp_path / "two.duckdb", lambda *step: steps.append(step)
    )
    alone = demo.ingest_region(small_region.out_dir, tmp_path / "one.duckdb", workers=1)
    order = [e["file"] for e in demo.extracts_in_load_order(small_region.out_dir)]
    assert [str(r.file.relative_to(small_region.out_dir)) for r in together] == order
    assert [(r.rows_read, r.rows_rejected) for r in together] == [
        (r.rows_read, r.rows_rejected) for r in alone
    ]
    # progress: one step per file as it finishes, counting up to every file
    assert [done for _, done, _ in steps] == [0, *range(1, len(order) + 1), len(order)]
    two = warehouse_module.connect(tmp_path / "two.duckdb", read_only=True)
    one = warehouse_module.connect(tmp_path / "one.duckdb", read_only=True)
    try:
        assert _contents(two) == _contents(one)
        assert two.execute("SELECT count(*) FROM load").fetchall() == [(len(order),)]
    finally:
        two.close()
        one.close()


@pytest.mark.parametrize("fault", ["empty", "missing"])
def test_a_failing_file_stops_new_loads_and_leaves_finished_ones_whole(
    small_region, tmp_path, fault
):
    import shutil

    from sectorlink.sources import FileFormatError

    region = tmp_path / "region"
    shutil.copytree(small_region.out_dir, region)
    order = demo.extracts_in_load_order(region)
    broken = next(e for e in order if e["source"] == "hmis_northshire")  # its first file
    if fault == "empty":
        (region / broken["file"]).write_text("")
    else:
        (region / broken["file"]).unlink()
    with pytest.raises(FileFormatError, match=r"empty|not found") as err:
        demo.ingest_region(region, tmp_path / "hub.duckdb")
    assert Path(broken["file"]).name in str(err.value)
    con = warehouse_module.connect(tmp_path / "hub.duckdb", read_only=True)
    try:
        loads = con.execute("SELECT load_id, source, rows_written FROM load").fetchall()
        # nothing of the broken partner; every load that happened is whole
        assert loads and "hmis_northshire" not in {source for _, source, _ in loads}
        for load_id, _, rows_written in loads:
            for table, count in json.loads(rows_written).items():
                held = con.execute(
                    f"SELECT count(*) FROM {table} WHERE load_id = ?", [load_id]
                ).fetchall()
                assert held == [(count,)], (load_id, table)
    finally:
        con.close()
