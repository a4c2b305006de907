"""`sectorlink encode`: the same ingest as plain loading, atomic output, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.pprl import encode as encode_module
from sectorlink.pprl.encode import METADATA_KEY, EncodeError, encode_file
from sectorlink.pprl.keys import LinkageKey
from sectorlink.pprl.schema import load_schema

runner = CliRunner()
SECRET = "5f0c2a9e4b7d1c3e8a6f0b2d4c6e8a1f3b5d7f9e1c3a5b7d"

SPEC = """\
spec_version: 1
source: clinic
file: {format: csv}
record_id: id
person:
  given_name: first
  family_name: last
  birth_date: dob
  postcode: pc
events:
- event_type: {value: gp_registration}
  event_id: {column: id, suffix: -E}
  start_time: seen
  attributes: [%s]
"""
CSV = """\
id,first,last,dob,pc,seen,clinic_code,note
1,Ann,Lee,1970-01-02,NG1 5AB,2024-01-05,C1,first visit
2,Bob,Stone,1981-02-03,NG7 2RD,2024-02-06,C2,saw Stone again
3,Cara,Quinn,1990-03-04,NG2 1AA,2024-03-07,C1,
"""


def _files(tmp_path: Path, attributes: str = "clinic_code") -> tuple[Path, Path, Path]:
    spec = tmp_path / "clinic.yaml"
    spec.write_text(SPEC % attributes)
    data = tmp_path / "clinic.csv"
    data.write_text(CSV)
    key = tmp_path / "key"
    key.write_text(SECRET + "\n")
    return spec, data, key


def _encode(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["encode", *args])
    return result.exit_code, result.output


def test_encode_writes_contract_file_and_never_prints_the_key(tmp_path: Path) -> None:
    spec, data, key = _files(tmp_path)
    out = tmp_path / "clinic.parquet"
    code, output = _encode(str(spec), str(data), "--key-file", str(key), "--out", str(out))
    assert code == 0, output
    assert "Encoded 3 person records" in output and SECRET not in output
    table = pq.read_table(out)
    assert table.column("record_id").to_pylist() == ["1", "2", "3"]
    assert all(c in ("source", "record_id") or c[:3] in ("bf_", "tok") for c in table.column_names)
    meta = json.loads(pq.read_schema(out).metadata[METADATA_KEY])
    assert meta["schema_fingerprint"] == load_schema().fingerprint(
        LinkageKey.from_bytes(SECRET.encode())
    )
    assert meta["records"] == 3 and meta["sources"] == ["clinic"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_readable_key_file_gets_a_note(tmp_path: Path) -> None:
    spec, data, key = _files(tmp_path)
    key.chmod(0o644)
    code, output = _encode(
        str(spec), str(data), "--key-file", str(key), "--out", str(tmp_path / "a.parquet")
    )
    assert code == 0 and "chmod 600" in output
    key.chmod(0o600)
    code, output = _encode(
        str(spec), str(data), "--key-file", str(key), "--out", str(tmp_path / "b.parquet")
    )
    assert code == 0 and "chmod 600" not in output


def test_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, data, _ = _files(tmp_path)
    monkeypatch.setenv("SECTORLINK_PPRL_KEY", SECRET)
    out = tmp_path / "o.parquet"
    code, output = _encode(str(spec), str(data), "--out", str(out))
    assert code == 0, output
    assert SECRET not in output


@pytest.mark.parametrize(
    ("key_text", "message"),
    [(None, "not found"), ("", "is empty"), ("tooshort", "8 bytes")],
)
def test_bad_key_exits_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key_text: str | None, message: str
) -> None:
    monkeypatch.setenv("SECTORLINK_PPRL_KEY", SECRET)  # the file given wins over the variable
    spec, data, _ = _files(tmp_path)
    key = tmp_path / "bad-key"
    if key_text is not None:
        key.write_text(key_text)
    out = tmp_path / "o.parquet"
    code, output = _encode(str(spec), str(data), "--key-file", str(key), "--out", str(out))
    assert code == 2 and message in output
    assert not out.exists() and SECRET not in output
    if key_text:
        assert key_text not in output


def test_bad_input_exits_2_and_leaves_the_old_output(tmp_path: Path) -> None:
    spec, data, key = _files(tmp_path)
    out = tmp_path / "o.parquet"
    out.write_bytes(b"previous")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, output = _encode(str(spec), str(empty), "--key-file", str(key), "--out", str(out))
    assert code == 2 and "empty" in output
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text("source: [unclosed\n")
    code, output = _encode(str(bad_spec), str(data), "--key-file", str(key), "--out", str(out))
    assert code == 2 and "bad.yaml" in output
    code, output = _encode(
        str(spec), str(data), "--key-file", str(key), "--out", str(tmp_path / "no" / "o.parquet")
    )
    assert code == 2 and "does not exist" in output
    bad_schema = tmp_path / "schema.yaml"
    bad_schema.write_text(
        "format: sectorlink-pprl-schema/1\nfields: {given_name: {bits: 100, k: 3}}\n"
    )
    code, output = _encode(
        str(spec), str(data), "--key-file", str(key), "--out", str(out), "--schema", str(bad_schema)
    )
    assert code == 2 and "fields.given_name" in output
    assert out.read_bytes() == b"previous"


def test_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, data, _ = _files(tmp_path)
    out = tmp_path / "o.parquet"

    def broken(table: object, where: object, **kwargs: object) -> None:
        Path(str(where)).write_bytes(b"half a parquet file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(encode_module.pq, "write_table", broken)
    with pytest.raises(EncodeError, match="No space left"):
        encode_file(spec, data, key=LinkageKey.from_bytes(SECRET.encode()), out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clinic.csv", "clinic.yaml", "key"]


def test_rows_written_beside_without_identifiers_and_identifier_in_events_refused(
    tmp_path: Path,
) -> None:
    spec, data, key = _files(tmp_path)
    out = tmp_path / "o.parquet"
    code, output = _encode(str(spec), str(data), "--key-file", str(key), "--out", str(out))
    assert code == 0, output
    events = pq.read_table(tmp_path / "o.event.parquet")
    assert events.num_rows == 3 and "record_id" in events.column_names
    people = pq.read_table(tmp_path / "o.person_record.parquet")
    assert people.num_rows == 3
    assert not {"given_name", "family_name", "birth_date", "address"} & set(people.column_names)
    assert people["postcode"].null_count == 3  # only the no-fixed-abode marker travels there
    assert "Lee" not in str(events.to_pylist()) + str(people.to_pylist())
    manifest = json.loads((tmp_path / "o.manifest.json").read_text())
    assert manifest["tables"]["event"]["rows"] == 3
    assert "birth_date" in manifest["withheld"]["person_record"]

    # --encodings-only: the encodings alone, as before
    alone = tmp_path / "alone.parquet"
    code, output = _encode(
        str(spec), str(data), "--key-file", str(key), "--out", str(alone), "--encodings-only"
    )
    assert code == 0, output
    assert not (tmp_path / "alone.event.parquet").exists()
    assert not (tmp_path / "alone.manifest.json").exists()

    # a mapping mistake: a free-text column naming the person goes into the event attributes
    spec.write_text(SPEC % "clinic_code, note")
    out2 = tmp_path / "o2.parquet"
    code, output = _encode(str(spec), str(data), "--key-file", str(key), "--out", str(out2))
    assert code == 2
    assert "table event, column attributes" in output and "record_id 2" in output
    assert not out2.exists() and not (tmp_path / "o2.event.parquet").exists()
    assert "Stone" not in output


def test_two_partners_files_meet_the_hubs_contract(tmp_path: Path) -> None:
    """What two partners encode loads at the hub; another key or schema is refused there."""
    from sectorlink.pprl.load import EncodedFileError, load_encoded

    spec, data, _ = _files(tmp_path)
    key = LinkageKey.from_bytes(SECRET.encode())
    other = tmp_path / "other.yaml"
    other.write_text((SPEC % "clinic_code").replace("source: clinic", "source: other"))
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    encode_file(spec, data, key=key, out=a)
    encode_file(other, data, key=key, out=b)
    loaded = load_encoded([a, b], warehouse=tmp_path / "hub.duckdb")
    assert len(loaded) == 2
    wrong_key, wrong_schema = tmp_path / "k.parquet", tmp_path / "s.parquet"
    encode_file(other, data, key=LinkageKey.from_bytes(b"x" * 32), out=wrong_key)
    encode_file(
        other, data, key=key, out=wrong_schema, schema=load_schema().with_hardening(balance=True)
    )
    for path in (wrong_key, wrong_schema):
        with pytest.raises(EncodedFileError, match="different key or encoding schema"):
            load_encoded([path], warehouse=tmp_path / "hub.duckdb")
