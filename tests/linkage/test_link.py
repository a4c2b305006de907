"""link() end to end on a small synthetic region, and on the bad inputs of issue 4.

Tests on the region are marked slow (each links ~2,000 records in a few seconds).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from linkage_helpers import person

from sectorlink.linkage import LinkageError, LinkageInputError, TruthFileError, evaluate, link
from sectorlink.linkage import keys as keys_module
from sectorlink.linkage.training import MIN_RECORDS_FOR_EM


@pytest.fixture
def region_copy(region: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    warehouse, truth = region
    copy = tmp_path / "hub.duckdb"
    shutil.copy(warehouse, copy)
    return copy, truth


@pytest.fixture(scope="module")
def linked_region(region: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory):
    """The region linked once, with outputs and the truth in the report."""
    warehouse, truth = region
    root = tmp_path_factory.mktemp("linked")
    copy = root / "hub.duckdb"
    shutil.copy(warehouse, copy)
    result = link(copy, out_dir=root / "out", truth=truth)
    return copy, truth, result


@pytest.mark.slow
def test_region_links_accurately(linked_region) -> None:
    warehouse, truth, result = linked_region
    con = duckdb.connect(str(warehouse))
    ev = evaluate(con, truth)
    assert ev.overall.f1 >= 0.97
    assert ev.cross_source.f1 >= 0.96
    assert ev.overall.precision >= 0.98
    assert result.training.mode == "trained"
    assert len(result.sources) >= 5


@pytest.mark.slow
def test_outputs_are_written(linked_region) -> None:
    _, _, result = linked_region
    csv = result.outputs["person_index_csv"]
    header = csv.read_text().splitlines()[0]
    assert header == "source,record_id,person_key"
    table = pq.read_table(result.outputs["person_index_parquet"])
    assert table.column_names == ["source", "record_id", "person_key"]
    assert table.num_rows == result.records
    html = result.outputs["report"].read_text()
    for section in (
        "Quality against the truth file",
        "Link rates per source",
        "Match weights",
        "Records per person",
        "Unlinkable",
    ):
        assert section in html
    # Example pairs show clear identifiers: only with identifier_examples=True.
    assert "Waterfall" not in html
    assert "cdn.jsdelivr" not in html.split("<body>")[1]  # charts work offline
    model = result.outputs["model"].read_text()
    assert '"comparisons"' in model and '"m_probability"' in model


@pytest.mark.slow
def test_warehouse_tables_are_filled(linked_region) -> None:
    warehouse, _, result = linked_region
    con = duckdb.connect(str(warehouse), read_only=True)
    index = con.execute("SELECT count(*), count(DISTINCT person_key) FROM person_index").fetchall()
    assert index == [(result.records, result.persons)]
    runs = con.execute("SELECT run_id, training_mode, records FROM linkage_run").fetchall()
    assert runs == [(result.run_id, "trained", result.records)]
    assert con.execute("SELECT count(*) FROM linkage_pairs WHERE linked").fetchall()[0][0] > 0
    sizes_ok = con.execute(
        """SELECT bool_and(cluster_size = n) FROM person_index
           JOIN (SELECT person_key, count(*) n FROM person_index GROUP BY 1) USING (person_key)"""
    ).fetchall()
    assert sizes_ok == [(True,)]


@pytest.mark.slow
def test_a_second_run_keeps_every_key(region_copy) -> None:
    warehouse, _ = region_copy
    link(warehouse)
    con = duckdb.connect(str(warehouse))
    before = dict(
        con.execute("SELECT source || record_id, person_key FROM person_index").fetchall()
    )
    con.close()
    second = link(warehouse)
    con = duckdb.connect(str(warehouse))
    after = dict(con.execute("SELECT source || record_id, person_key FROM person_index").fetchall())
    assert after == before
    assert second.key_events == {}


@pytest.mark.slow
def test_an_interrupted_run_leaves_the_previous_index(region_copy, monkeypatch) -> None:
    warehouse, _ = region_copy
    first = link(warehouse)
    con = duckdb.connect(str(warehouse))
    before = con.execute("SELECT * FROM person_index ORDER BY ALL").fetchall()
    con.close()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("stopped mid-run")

    monkeypatch.setattr("sectorlink.linkage.staging.assign_keys", crash)
    with pytest.raises(KeyboardInterrupt):
        link(warehouse)
    con = duckdb.connect(str(warehouse))
    assert con.execute("SELECT * FROM person_index ORDER BY ALL").fetchall() == before
    assert con.execute("SELECT run_id FROM linkage_run").fetchall() == [(first.run_id,)]
    monkeypatch.setattr("sectorlink.linkage.staging.assign_keys", keys_module.assign_keys)
    con.close()
    assert link(warehouse).key_events == {}  # staging left behind is cleared


def test_empty_warehouse_is_a_clear_error(warehouse) -> None:
    with pytest.raises(LinkageInputError, match="no person records"):
        link(warehouse([]))


def test_source_without_identifiers_is_named(warehouse) -> None:
    rows = [person("gp", str(i), "ann", "lee", dt.date(1970, 1, i + 1)) for i in range(5)]
    rows += [
        {"source": "sexonly", "record_id": str(i), "sex": "F", "postcode": "NG1 5AB"}
        for i in range(3)
    ]
    with pytest.raises(LinkageInputError, match="source sexonly has no usable identifier"):
        link(warehouse(rows))


def test_few_records_fall_back_to_defaults_and_say_so(warehouse) -> None:
    rows = [
        person("gp", "1", "ann", "lee", dt.date(1970, 1, 1), postcode="NG1 5AB"),
        person("ae", "1", "Ann", "LEE", dt.date(1970, 1, 1), postcode="NG15AB"),
        person("ae", "2", "bob", "stone", dt.date(1981, 2, 3), postcode="NG7 2RD"),
        person("gp", "2", "robert", "stone", dt.date(1981, 2, 3), postcode="NG7 2RD"),
        person("gp", "3", "carol", "king", dt.date(1990, 5, 6), postcode="NG3 1AA"),
    ]
    assert len(rows) < MIN_RECORDS_FOR_EM
    hub = warehouse(rows)
    # never a silent fallback: without the flag the run stops and publishes nothing
    with pytest.raises(LinkageError, match=r"could not be trained.*allow_default_model"):
        link(hub)
    con = duckdb.connect(str(hub), read_only=True)
    assert con.execute("SELECT count(*) FROM linkage_run").fetchall() == [(0,)]
    con.close()
    result = link(hub, allow_default_model=True)
    assert result.training.mode == "defaults"
    # the first message (the report's first line) says which model scored the pairs
    assert result.messages[0].startswith("model: the documented default m and u")
    assert result.model_summary == result.messages[0]
    assert any("documented default m and u probabilities" in m for m in result.messages)
    assert result.persons == 3


def test_one_source_only_is_deduplicated(warehouse) -> None:
    rows = [
        person("gp", "1", "ann", "lee", dt.date(1970, 1, 1)),
        person("gp", "2", "ann", "lee", dt.date(1970, 1, 1)),
        person("gp", "3", "carol", "king", dt.date(1990, 5, 6)),
    ]
    result = link(warehouse(rows), allow_default_model=True)
    assert any("one source only" in m for m in result.messages)
    assert result.persons == 2


def test_all_null_columns_are_left_out(warehouse) -> None:
    rows = [person("gp", str(i), "ann", f"lee{i}", dt.date(1970, 1, i + 1)) for i in range(4)]
    result = link(warehouse(rows), allow_default_model=True)
    assert any("no values in" in m and "nhs_number" in m for m in result.messages)


@pytest.mark.slow
def test_truth_with_unknown_records_is_reported(linked_region, tmp_path: Path) -> None:
    warehouse, truth, _ = linked_region
    extra = tmp_path / "truth.csv"
    text = truth.read_text()
    header = text.splitlines()[0].split(",")
    values = {"source": "nosuch", "record_id": "R1", "person_id": "P1"}
    extra.write_text(text + ",".join(values.get(c, "") for c in header) + "\n")
    con = duckdb.connect(str(warehouse))
    ev = evaluate(con, extra)
    assert ev.unknown_truth_records == 1
    assert ev.unknown_examples == ["nosuch:R1"]


@pytest.mark.slow
def test_truth_naming_no_known_record_is_an_error(linked_region, tmp_path: Path) -> None:
    warehouse, _, _ = linked_region
    wrong = tmp_path / "truth.csv"
    wrong.write_text("source,record_id,person_id\nnosuch,R1,P1\nnosuch,R2,P1\n")
    con = duckdb.connect(str(warehouse))
    with pytest.raises(TruthFileError, match="none of the 2 records"):
        evaluate(con, wrong)


@pytest.mark.slow
def test_truth_without_required_columns_is_an_error(linked_region, tmp_path: Path) -> None:
    warehouse, _, _ = linked_region
    wrong = tmp_path / "truth.csv"
    wrong.write_text("source,id,person\nx,1,2\n")
    with pytest.raises(TruthFileError, match="lacks column"):
        evaluate(duckdb.connect(str(warehouse)), wrong)


@pytest.mark.slow
def test_the_saved_model_opens_in_splink(linked_region) -> None:
    import logging

    import duckdb as ddb
    from splink import DuckDBAPI, Linker

    from sectorlink.linkage.model import MODEL_COLUMNS
    from sectorlink.linkage.run import linkage_input_sql

    warehouse, _, result = linked_region
    con = ddb.connect(str(warehouse), read_only=True)
    records = con.sql(
        f"SELECT {', '.join(MODEL_COLUMNS)} FROM ({linkage_input_sql(con)}) LIMIT 200"
    ).to_arrow_table()
    scratch = ddb.connect()
    scratch.register("records_arrow", records)
    scratch.execute("CREATE TABLE records AS SELECT * FROM records_arrow")
    linker = Linker(
        DuckDBAPI(scratch).register("records"),
        str(result.outputs["model"]),
        log_level=logging.ERROR,
    )
    scored = linker.inference.predict().as_duckdbpyrelation()
    assert "match_weight" in scored.columns
