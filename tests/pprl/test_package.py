"""A partner's package: encodings, its rows without identifiers, a manifest; the hub
loads it whole into the tables plain ingest writes, or refuses it naming file and row."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.model import TABLES
from sectorlink.pprl import package
from sectorlink.pprl.encode import encode_extracts
from sectorlink.pprl.keys import LinkageKey
from sectorlink.pprl.load import load_encoded
from sectorlink.pprl.package import PackageError

KEY = LinkageKey.from_bytes(b"a shared secret of 32 bytes long")
SOURCES = ("ae_northgate", "lead_northshire")
runner = CliRunner()


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sectorlink.synth import generate_region

    root = tmp_path_factory.mktemp("package-region")
    generate_region(root / "region", people=600, seed=13, progress=False)
    return root / "region"


def _pairs(region: Path, source: str) -> list[tuple[Path, Path]]:
    manifest = json.loads((region / "manifest.json").read_text())
    return [
        (region / e["spec"], region / e["file"])
        for e in manifest["extracts"]
        if e["source"] == source
    ]


@pytest.fixture(scope="module")
def packages(region: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The hospital's and the lead programme's packages (their encodings files)."""
    out = tmp_path_factory.mktemp("packages")
    found = {}
    for source in SOURCES:
        summary = encode_extracts(
            _pairs(region, source), key=KEY, out=out / f"{source}.enc.parquet"
        )
        assert summary.manifest is not None
        found[source] = summary.out
    return found


def _copy(packages: dict[str, Path], to: Path) -> dict[str, Path]:
    """A private copy of the packages to tamper with."""
    to.mkdir()
    for path in packages["ae_northgate"].parent.iterdir():
        shutil.copy(path, to / path.name)
    return {s: to / p.name for s, p in packages.items()}


def _rewrite(encodings: Path, table: str, data: pa.Table) -> Path:
    """Replace one rows file and update the manifest to match: what a buggy or hostile
    encoder would send, consistent in every hash."""
    manifest_path, paths = package.package_paths(encodings)
    pq.write_table(data, paths[table])
    manifest = json.loads(manifest_path.read_text())
    entry = manifest["tables"][table]
    entry.update(
        rows=data.num_rows,
        bytes=paths[table].stat().st_size,
        sha256=hashlib.sha256(paths[table].read_bytes()).hexdigest(),
        blocks=package.block_digests(data),
    )
    manifest_path.write_text(json.dumps(manifest))
    return paths[table]


def _counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return {
            t: int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0])
            for t in (*TABLES, "encoded_person")
            if t in present
        }
    finally:
        con.close()


def test_the_rows_load_into_the_tables_plain_ingest_writes_without_any_identifier(
    region: Path, packages: dict[str, Path], tmp_path: Path
) -> None:
    from sectorlink.sources import ingest, load_spec
    from sectorlink.warehouse import connect

    hub = tmp_path / "hub.duckdb"
    loaded = load_encoded(list(packages.values()), warehouse=hub)
    assert [r.status for r in loaded] == ["loaded", "loaded"]
    assert loaded[1].rows["property"] > 0 and loaded[1].rows["lead_test"] > 0
    plain = tmp_path / "plain.duckdb"
    con = connect(plain)
    try:
        for source in SOURCES:
            pairs = sorted(_pairs(region, source), key=lambda p: load_spec(p[0]).person is None)
            for spec, file in pairs:
                ingest(spec, file, con=con)
    finally:
        con.close()
    hub_counts, plain_counts = _counts(hub), _counts(plain)
    for table in TABLES:  # the same rows reach the same tables as plain ingest
        assert hub_counts[table] == plain_counts[table], table
    con = duckdb.connect(str(hub), read_only=True)
    try:
        for name, table in TABLES.items():
            for column in package.identifier_columns(table):
                values = con.execute(
                    f"SELECT DISTINCT {column} FROM {name} WHERE {column} IS NOT NULL"
                ).fetchall()
                if (name, column) == package.MARKER_COLUMN:
                    assert set(values) <= {(package.NO_FIXED_ABODE_POSTCODE,)}
                else:
                    assert values == [], f"{name}.{column} reached the hub"
        assert con.execute("SELECT count(address) + count(latitude) FROM property").fetchall() == [
            (0,)
        ]
        # pseudonymised property ids still join tests to properties and inspections
        joined = con.execute(
            """SELECT count(*) FILTER (WHERE p.property_id IS NOT NULL), count(*)
            FROM lead_test t LEFT JOIN property p USING (source, property_id)"""
        ).fetchall()[0]
        assert joined[0] > 0.9 * joined[1]
        assert con.execute(
            "SELECT count(*) FROM property WHERE NOT regexp_matches(property_id, '^[0-9a-f]{32}$')"
        ).fetchall() == [(0,)]
    finally:
        con.close()
    plain_con = duckdb.connect(str(plain), read_only=True)
    try:  # no raw property id (a UPRN) reached the hub
        uprns = {r[0] for r in plain_con.execute("SELECT property_id FROM property").fetchall()}
    finally:
        plain_con.close()
    hub_con = duckdb.connect(str(hub), read_only=True)
    try:
        ids = {r[0] for r in hub_con.execute("SELECT property_id FROM property").fetchall()}
    finally:
        hub_con.close()
    assert not uprns & ids
    again = load_encoded(list(packages.values()), warehouse=hub)
    assert [r.status for r in again] == ["skipped", "skipped"]


def test_a_changed_file_is_refused_with_its_rows_and_nothing_loads(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    copies = _copy(packages, tmp_path / "p")
    _, paths = package.package_paths(copies["lead_northshire"])
    events = pq.read_table(paths["event"])
    assert events.num_rows > 3
    changed = events.set_column(
        events.column_names.index("event_type"),
        "event_type",
        pa.array(["lead_test"] * 2 + ["ae_attendance"] + ["lead_test"] * (events.num_rows - 3)),
    ).replace_schema_metadata(events.schema.metadata)
    pq.write_table(changed, paths["event"])
    hub = tmp_path / "hub.duckdb"
    with pytest.raises(PackageError, match=r"lead_northshire\.enc\.event\.parquet, row 1: rows 1-"):
        load_encoded(list(copies.values()), warehouse=hub)
    assert not hub.exists()  # every file is checked before the warehouse is opened


def test_a_load_that_fails_midway_leaves_the_warehouse_as_it_was(
    packages: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sectorlink.pprl import load as load_module

    hub = tmp_path / "hub.duckdb"
    load_encoded([packages["ae_northgate"]], warehouse=hub)
    before = _counts(hub)
    real = load_module._insert_rows

    def failing(con: duckdb.DuckDBPyConnection, shared: object, load_id: str) -> int:
        if getattr(shared, "table", "") == "property":
            raise OSError("disk full")
        return real(con, shared, load_id)  # type: ignore[arg-type]

    monkeypatch.setattr(load_module, "_insert_rows", failing)
    with pytest.raises(OSError, match="disk full"):
        load_encoded(list(packages.values()), warehouse=hub, replace=True)
    assert _counts(hub) == before


def test_the_no_fixed_abode_marker_travels_and_nothing_else_of_the_address(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "clinic.yaml"
    spec.write_text(
        "spec_version: 1\nsource: clinic\nfile: {format: csv}\nrecord_id: id\n"
        "person: {given_name: first, family_name: last, address: addr, postcode: pc}\n"
    )
    data = tmp_path / "clinic.csv"
    data.write_text(
        "id,first,last,addr,pc\n1,Ann,Lee,NFA,\n2,Bob,Stone,,ZZ99 3VZ\n"
        "3,Cara,Quinn,2 High St,NG1 5AB\n"
    )
    summary = encode_extracts([(spec, data)], key=KEY, out=tmp_path / "c.parquet")
    people = pq.read_table(summary.tables["person_record"])
    assert people["postcode"].to_pylist() == ["ZZ99 3VZ", "ZZ99 3VZ", None]
    assert "address" not in people.column_names
    assert summary.counts == {"person_record.postcode: no fixed abode marker": 2}


def test_an_event_at_the_home_postcode_travels_as_its_small_area(tmp_path: Path) -> None:
    spec = tmp_path / "visits.yaml"
    spec.write_text(
        "spec_version: 1\nsource: visits\nfile: {format: csv}\nrecord_id: id\n"
        "person: {given_name: first, family_name: last, postcode: home}\n"
        "events:\n- event_type: {value: gp_registration}\n  event_id: {column: id, suffix: -V}\n"
        "  start_time: seen\n  postcode: place\n  latitude: lat\n  longitude: lon\n"
    )
    data = tmp_path / "visits.csv"
    data.write_text(
        "id,first,last,home,seen,place,lat,lon\n"
        "1,Ann,Lee,NG1 5AB,2024-01-05,ng15ab,52.95,-1.15\n"
        "2,Bob,Stone,NG7 2RD,2024-02-06,NG1 5AB,52.95,-1.15\n"
        "3,Cara,Quinn,NG2 1AA,2024-03-07,NG2 1AA,52.94,-1.13\n"
    )
    lookup = tmp_path / "postcodes.csv"
    lookup.write_text("postcode,small_area\nNG1 5AB,E01000001\n")
    summary = encode_extracts(
        [(spec, data)], key=KEY, out=tmp_path / "v.parquet", postcodes_file=lookup
    )
    events = pq.read_table(summary.tables["event"]).to_pylist()
    # at home with a lookup: its small area only; away from home: its place as recorded;
    # at home without a small area in the lookup: unplaced
    assert [(e["postcode"], e["latitude"], e["small_area"]) for e in events] == [
        (None, None, "E01000001"),
        ("NG1 5AB", 52.95, None),
        (None, None, None),
    ]
    assert summary.counts == {
        "event: at the person's home postcode, placed by small area only": 1,
        "event: at the person's home postcode, left unplaced (no small area)": 1,
    }


def test_truncated_and_missing_files_are_refused(packages: dict[str, Path], tmp_path: Path) -> None:
    copies = _copy(packages, tmp_path / "p")
    _, paths = package.package_paths(copies["ae_northgate"])
    data = paths["event"].read_bytes()
    paths["event"].write_bytes(data[: len(data) // 2])
    with pytest.raises(PackageError, match="truncated or corrupted"):
        load_encoded([copies["ae_northgate"]], warehouse=tmp_path / "hub.duckdb")
    short = pq.read_table(packages["ae_northgate"].with_name("ae_northgate.enc.event.parquet"))
    pq.write_table(short.slice(0, short.num_rows - 1), paths["event"])
    with pytest.raises(PackageError, match=f"holds {short.num_rows - 1:,} rows where the manifest"):
        load_encoded([copies["ae_northgate"]], warehouse=tmp_path / "hub.duckdb")
    paths["violence"].unlink()
    paths["event"].write_bytes(
        packages["ae_northgate"].with_name("ae_northgate.enc.event.parquet").read_bytes()
    )
    with pytest.raises(PackageError, match=r"listed in the manifest .* but missing"):
        load_encoded([copies["ae_northgate"]], warehouse=tmp_path / "hub.duckdb")
    with pytest.raises(Exception, match="one table of a partner's package"):
        load_encoded([paths["event"]], warehouse=tmp_path / "hub.duckdb")


def test_an_identifier_or_a_real_postcode_is_refused_even_with_matching_hashes(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    copies = _copy(packages, tmp_path / "p")
    _, paths = package.package_paths(copies["ae_northgate"])
    people = pq.read_table(paths["person_record"])
    with_name = people.append_column("family_name", pa.array(["SMITH"] * people.num_rows))
    _rewrite(copies["ae_northgate"], "person_record", with_name)
    with pytest.raises(PackageError, match="column family_name: is an identifier"):
        load_encoded([copies["ae_northgate"]], warehouse=tmp_path / "hub.duckdb")
    index = people.column_names.index("postcode")
    postcodes = people["postcode"].to_pylist()
    postcodes[4] = "NX1 2AB"
    _rewrite(
        copies["ae_northgate"],
        "person_record",
        people.set_column(index, "postcode", pa.array(postcodes)),
    )
    with pytest.raises(PackageError, match="row 5, column postcode: holds a postcode"):
        load_encoded([copies["ae_northgate"]], warehouse=tmp_path / "hub.duckdb")
    events = pq.read_table(paths["event"])
    ids = events["record_id"].to_pylist()
    ids[2] = "NOT-IN-THE-ENCODINGS"
    _rewrite(copies["ae_northgate"], "person_record", people)
    _rewrite(
        copies["ae_northgate"],
        "event",
        events.set_column(events.column_names.index("record_id"), "record_id", pa.array(ids)),
    )
    with pytest.raises(PackageError, match="row 3, column record_id: refers to a record"):
        load_encoded([copies["ae_northgate"]], warehouse=tmp_path / "hub.duckdb")
    assert not pc.any(pc.is_null(events["event_id"])).as_py()


def test_the_commands_go_through_the_doors_with_a_registry(region: Path, tmp_path: Path) -> None:
    from sectorlink.governance import read_audit_log
    from sectorlink.registry import HUB_NAME, open_registry, register_region

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    registry = open_registry(url)
    register_region(registry, region / "manifest.json")
    registry.close()
    key = tmp_path / "key"
    key.write_text(KEY.derive("test").hex() + "\n")
    key.chmod(0o600)
    out = tmp_path / "lead.enc.parquet"
    pairs = [str(p) for pair in _pairs(region, "lead_northshire") for p in pair]
    encode = ["encode", *pairs, "--key-file", str(key), "--out", str(out), "--registry", url]
    result = runner.invoke(app, [*encode, "--organisation", "Northshire Police"])
    assert result.exit_code == 3 and not out.exists()
    partner = "Northshire Public Health (Childhood Lead Programme)"
    result = runner.invoke(app, [*encode, "--organisation", partner])
    assert result.exit_code == 0, result.output
    registry = open_registry(url)
    access, encoded = read_audit_log(registry, limit=1_000_000)[-2:]
    registry.close()
    assert access.outcome == "allowed" and access.detail["door"] == "encode"
    assert encoded.action == "encode" and encoded.detail["grant"] == access.seq
    manifest = out.with_name("lead.enc.manifest.json")
    sha = hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert encoded.detail["written"][str(manifest)] == sha

    hub = tmp_path / "hub.duckdb"
    load = ["load-encoded", str(manifest), "--warehouse", str(hub), "--registry", url]
    refused = runner.invoke(app, [*load, "--organisation", "Northshire Police"])
    assert refused.exit_code == 3 and not hub.exists()
    loaded = runner.invoke(app, [*load, "--organisation", HUB_NAME])
    assert loaded.exit_code == 0, loaded.output
    assert "not audited" not in loaded.output
    registry = open_registry(url)
    access, recorded = read_audit_log(registry, limit=1_000_000)[-2:]
    registry.close()
    assert access.action == "read" and access.detail["door"] == "load-encoded"
    assert access.detail["files"]["manifest"]["sha256"] == sha
    assert recorded.action == "load-encoded" and recorded.detail["rows"]["lead_test"] > 0
    con = duckdb.connect(str(hub), read_only=True)
    try:
        row = con.execute("SELECT organisation, load_audit_entry FROM load_authority").fetchall()
    finally:
        con.close()
    assert row == [(HUB_NAME, recorded.seq)]

    plain = runner.invoke(
        app,
        ["load-encoded", str(manifest), "--warehouse", str(tmp_path / "h2.duckdb")],
        env={"SECTORLINK_REGISTRY_URL": ""},
    )
    assert plain.exit_code == 0, plain.output
    assert plain.output.count("not audited") == 1
