"""The hub side: loading encodings (all or nothing) and linking them with the bloom engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.linkage import LinkageError, link
from sectorlink.linkage.evaluate import evaluate
from sectorlink.pprl.encode import encode_records, write_atomic
from sectorlink.pprl.hub import link_encoded
from sectorlink.pprl.keys import LinkageKey
from sectorlink.pprl.load import ENCODED_TABLE, EncodedFileError, load_encoded
from sectorlink.pprl.schema import load_schema
from sectorlink.warehouse import connect, table_exists

KEY = LinkageKey.from_bytes(b"a shared secret of 32 bytes long")
OTHER_KEY = LinkageKey.from_bytes(b"another secret, also 32 bytes!!!")


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small synthetic region ingested in the clear: (plain warehouse, truth CSV)."""
    from sectorlink.demo import ingest_region
    from sectorlink.synth import generate_region

    root = tmp_path_factory.mktemp("pprl-region")
    generate_region(root / "region", people=600, seed=11, progress=False)
    warehouse = root / "plain.duckdb"
    ingest_region(root / "region", warehouse)
    return warehouse, root / "region" / "truth" / "person_records.csv"


def _encode(warehouse: Path, out_dir: Path, key: LinkageKey = KEY) -> list[Path]:
    """Encode the region as each partner would: one encoded file per source."""
    con = connect(warehouse)
    try:
        table = encode_records(con, key, load_schema(None))
    finally:
        con.close()
    paths = []
    for source in sorted(set(table["source"].to_pylist())):
        part = table.filter(pc.equal(table["source"], source))
        meta = dict(table.schema.metadata or {})
        path = out_dir / f"{source}.enc.parquet"
        write_atomic(part.replace_schema_metadata(_with_records(meta, part.num_rows)), path)
        paths.append(path)
    return paths


def _with_records(meta: dict[bytes, bytes], records: int) -> dict[bytes, bytes]:
    import json

    info = json.loads(meta[b"sectorlink.pprl"])
    info["records"] = records
    return {**meta, b"sectorlink.pprl": json.dumps(info).encode()}


@pytest.fixture(scope="module")
def encoded(region: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _encode(region[0], tmp_path_factory.mktemp("encoded"))


def _count(hub: Path) -> int:
    con = duckdb.connect(str(hub), read_only=True)
    try:
        return int(con.execute(f"SELECT count(*) FROM {ENCODED_TABLE}").fetchall()[0][0])
    finally:
        con.close()


@pytest.mark.slow
def test_bloom_engine_links_partners_encodings_close_to_the_truth(
    region: tuple[Path, Path], encoded: list[Path], tmp_path: Path
) -> None:
    hub = tmp_path / "hub.duckdb"
    loads = load_encoded(encoded, warehouse=hub)
    assert {r.status for r in loads} == {"loaded"}
    result = link_encoded(hub, out_dir=tmp_path / "out", truth=region[1])
    assert result.engine == "bloom"
    assert result.records == sum(r.records for r in loads)
    con = connect(hub)
    try:
        evaluation = evaluate(con, region[1])
        # the hub never held an identifier in the clear
        assert con.execute("SELECT count(*) FROM person_record").fetchall()[0][0] == 0
    finally:
        con.close()
    assert evaluation.unknown_truth_records == 0
    assert evaluation.overall.f1 >= 0.9, evaluation.overall
    assert evaluation.cross_source.f1 >= 0.9, evaluation.cross_source
    index = pq.read_table(result.outputs["person_index_parquet"])
    assert index.column_names == ["source", "record_id", "person_key"]
    assert index.num_rows == result.records
    report = result.outputs["report"].read_text()
    assert "Privacy-preserving linkage report" in report and "<svg" in report


@pytest.mark.slow
def test_rerun_keeps_person_keys_and_records_are_never_joined_across_nhs_numbers(
    encoded: list[Path], tmp_path: Path
) -> None:
    hub = tmp_path / "hub.duckdb"
    load_encoded(encoded, warehouse=hub)
    # the one run from Python: link(engine="bloom") (link_encoded is that call)
    first_result = link(hub, engine="bloom")
    assert first_result.engine == "bloom"
    assert first_result.messages[0] == first_result.model_summary
    assert first_result.model_summary.startswith("model: trained on this data")
    con = connect(hub)
    first = dict(
        ((s, r), k)
        for s, r, k in con.execute(
            "SELECT source, record_id, person_key FROM person_index"
        ).fetchall()
    )
    con.close()
    link_encoded(hub)
    con = connect(hub)
    try:
        second = dict(
            ((s, r), k)
            for s, r, k in con.execute(
                "SELECT source, record_id, person_key FROM person_index"
            ).fetchall()
        )
        clashes = con.execute(
            f"""SELECT count(*) FROM person_index a JOIN person_index b
                  ON a.person_key = b.person_key
                 AND (a.source, a.record_id) < (b.source, b.record_id)
                JOIN {ENCODED_TABLE} x ON x.source = a.source AND x.record_id = a.record_id
                JOIN {ENCODED_TABLE} y ON y.source = b.source AND y.record_id = b.record_id
                WHERE x.tok_nhs_number <> y.tok_nhs_number"""
        ).fetchall()[0][0]
    finally:
        con.close()
    assert first == second
    assert clashes == 0


def test_loading_the_same_file_twice_is_a_no_op(encoded: list[Path], tmp_path: Path) -> None:
    hub = tmp_path / "hub.duckdb"
    load_encoded(encoded[:1], warehouse=hub)
    before = _count(hub)
    again = load_encoded(encoded[:1], warehouse=hub)
    assert again[0].status == "skipped"
    assert _count(hub) == before
    replaced = load_encoded(encoded[:1], warehouse=hub, replace=True)
    assert replaced[0].status == "loaded" and replaced[0].replaced == before
    assert _count(hub) == before


def test_encodings_made_with_another_key_are_refused_and_nothing_is_loaded(
    region: tuple[Path, Path], encoded: list[Path], tmp_path: Path
) -> None:
    other = _encode(region[0], _mkdir(tmp_path / "other"), OTHER_KEY)
    hub = tmp_path / "hub.duckdb"
    with pytest.raises(EncodedFileError, match="different key or encoding schema"):
        load_encoded([encoded[0], other[1]], warehouse=hub)
    con = connect(hub)
    try:
        assert not table_exists(con, ENCODED_TABLE)
    finally:
        con.close()
    load_encoded(encoded[:1], warehouse=hub)
    with pytest.raises(EncodedFileError, match="already in the warehouse"):
        load_encoded(other[1:2], warehouse=hub)


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _rewrite(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    table = pq.read_table(source)
    meta = table.schema.metadata
    table = change(table)
    pq.write_table(table.replace_schema_metadata(meta), target)
    return target


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.append_column("given_name", pa.array(["ann"] * t.num_rows)),
            "column given_name: is not part of an encoding",
        ),
        (
            lambda t: t.set_column(
                t.column_names.index("tok_postcode"),
                "tok_postcode",
                pa.array(["NG1 5AB"] * t.num_rows),
            ),
            "column tok_postcode: holds a value that is not a keyed token",
        ),
        (lambda t: t.slice(0, 0), "holds no records|written with"),
        (lambda t: t.slice(0, t.num_rows - 1), "written with"),
        (
            lambda t: pa.concat_tables([t, t.slice(0, 1)]),
            "written with|appears twice",
        ),
    ],
    ids=["plaintext-column", "plaintext-in-token", "empty", "rows-missing", "duplicate"],
)
def test_bad_encoded_files_are_refused_naming_file_and_column(
    encoded: list[Path],
    tmp_path: Path,
    change,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    bad = _rewrite(encoded[0], tmp_path / "bad.parquet", change)
    hub = tmp_path / "hub.duckdb"
    with pytest.raises(EncodedFileError, match=message) as info:
        load_encoded([encoded[1], bad], warehouse=hub)
    assert str(bad) in str(info.value)
    con = connect(hub)
    try:
        assert not table_exists(con, ENCODED_TABLE)
    finally:
        con.close()


def test_duplicate_record_is_named_with_its_rows(encoded: list[Path], tmp_path: Path) -> None:
    table = pq.read_table(encoded[0])
    doubled = pa.concat_tables([table, table.slice(0, 1)])
    meta = _with_records(dict(table.schema.metadata), doubled.num_rows)
    bad = tmp_path / "dup.parquet"
    pq.write_table(doubled.replace_schema_metadata(meta), bad)
    with pytest.raises(EncodedFileError, match=rf"appears twice \(rows 1 and {doubled.num_rows}\)"):
        load_encoded([bad], warehouse=tmp_path / "hub.duckdb")


def test_truncated_or_foreign_files_are_refused(encoded: list[Path], tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.parquet"
    data = encoded[0].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(EncodedFileError, match="not a readable Parquet file"):
        load_encoded([truncated], warehouse=tmp_path / "hub.duckdb")
    foreign = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"source": ["a"], "record_id": ["1"]}), foreign)
    with pytest.raises(EncodedFileError, match="not written by `sectorlink encode`"):
        load_encoded([foreign], warehouse=tmp_path / "hub.duckdb")
    with pytest.raises(EncodedFileError, match="file not found"):
        load_encoded([tmp_path / "missing.parquet"], warehouse=tmp_path / "hub.duckdb")


def test_linking_an_empty_hub_says_what_to_do(tmp_path: Path) -> None:
    hub = tmp_path / "hub.duckdb"
    connect(hub).close()
    with pytest.raises(LinkageError, match="no encoded records"):
        link_encoded(hub)


@pytest.mark.slow
def test_cli_loads_and_links_with_the_bloom_engine(
    region: tuple[Path, Path], encoded: list[Path], tmp_path: Path
) -> None:
    hub = tmp_path / "hub.duckdb"
    runner = CliRunner()
    loaded = runner.invoke(app, ["load-encoded", *map(str, encoded), "--warehouse", str(hub)])
    assert loaded.exit_code == 0, loaded.output
    assert "loaded" in loaded.output
    out = tmp_path / "out"
    linked = runner.invoke(
        app,
        ["link", "--engine", "bloom", "--warehouse", str(hub), "--out", str(out)],
    )
    assert linked.exit_code == 0, linked.output
    assert "engine bloom" in linked.output
    assert (out / "person_index.csv").exists() and (out / "model.json").exists()
    evaluated = runner.invoke(app, ["evaluate", "--warehouse", str(hub), "--truth", str(region[1])])
    assert evaluated.exit_code == 0, evaluated.output
    bad = tmp_path / "bad.parquet"
    shutil.copy(encoded[0], bad)
    bad.write_bytes(bad.read_bytes()[:100])
    refused = runner.invoke(app, ["load-encoded", str(bad), "--warehouse", str(hub)])
    assert refused.exit_code == 2
    assert "not a readable Parquet file" in refused.output
