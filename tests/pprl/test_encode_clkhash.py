"""Importing a clkhash v3 linkage schema as an encoding schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sectorlink.pprl.clkhash_import import import_clkhash_schema
from sectorlink.pprl.encode import encode_records
from sectorlink.pprl.keys import LinkageKey
from sectorlink.pprl.schema import SchemaError
from sectorlink.warehouse import ensure_schema


def _feature(identifier: str, n: int, strategy: dict[str, int], hash_type: str = "doubleHash"):
    return {
        "identifier": identifier,
        "format": {"type": "string", "encoding": "utf-8"},
        "hashing": {
            "comparison": {"type": "ngram", "n": n},
            "strategy": strategy,
            "hash": {"type": hash_type},
        },
    }


def _schema(features: list[dict[str, Any]], length: int = 1000) -> dict[str, Any]:
    return {
        "version": 3,
        "clkConfig": {
            "l": length,
            "kdf": {"type": "HKDF", "hash": "SHA256", "salt": "c2FsdA==", "keySize": 64},
        },
        "features": [{"identifier": "INDEX", "ignored": True}, *features],
    }


def test_features_map_to_fields_and_the_schema_encodes(tmp_path: Path) -> None:
    path = tmp_path / "clk.json"
    path.write_text(
        json.dumps(
            _schema(
                [
                    _feature("NAME freetext", 2, {"bitsPerToken": 15}),
                    _feature("DOB YYYY/MM/DD", 1, {"bitsPerToken": 30}),
                    _feature("GENDER M or F", 1, {"bitsPerToken": 60}),
                    _feature("postcode", 2, {"bitsPerFeature": 160}),
                ]
            )
        )
    )
    schema = import_clkhash_schema(path)
    assert {n: (f.bits, f.k) for n, f in schema.fields.items()} == {
        "given_name": (1024, 15),  # l = 1000 rounded up to whole 64-bit words
        "family_name": (1024, 15),
        "birth_date": (1024, 30),
        "postcode": (1024, 20),  # 160 bits per feature over about 8 bigrams
    }
    assert schema.hash == "hmac-sha256" and "sex" in schema.tokens
    con = duckdb.connect()
    ensure_schema(con)
    con.execute(
        "INSERT INTO person_record (source, record_id, full_name, postcode) "
        "VALUES ('s', '1', 'Ann Lee', 'NG1 5AB')"
    )
    table = encode_records(con, LinkageKey.from_bytes(b"k" * 32), schema)
    row = table.to_pylist()[0]
    assert row["bf_given_name"] is not None and row["bf_family_name"] is not None
    assert len(row["bf_postcode"]) == 128


def test_blake_hash_and_field_map() -> None:
    schema = import_clkhash_schema(
        _schema([_feature("col 7", 2, {"bitsPerToken": 20}, "blakeHash")], 512),
        field_map={"col 7": "email"},
    )
    assert schema.hash == "blake2b"
    assert {n: f.bits for n, f in schema.fields.items()} == {"email": 512}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**_schema([]), "version": 2}, "version 3"),
        (_schema([_feature("shoe size", 1, {"bitsPerToken": 5})]), r"features\[1\] \(shoe size\)"),
        (_schema([_feature("email", 2, {})]), "bitsPerToken or bitsPerFeature"),
        (_schema([_feature("email", 2, {"bitsPerToken": 5})], 0), "clkConfig.l"),
        (_schema([]), "no feature"),
    ],
)
def test_unusable_clkhash_schemas_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        import_clkhash_schema(data)


def test_cli_reads_a_clkhash_schema(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sectorlink.cli import app

    (tmp_path / "spec.yaml").write_text(
        "spec_version: 1\nsource: s\nfile: {format: csv}\nrecord_id: id\n"
        "person: {given_name: first, family_name: last}\n"
    )
    (tmp_path / "data.csv").write_text("id,first,last\n1,Ann,Lee\n2,Bob,Stone\n")
    (tmp_path / "clk.json").write_text(
        json.dumps(_schema([_feature("first name", 2, {"bitsPerToken": 10})], 256))
    )
    (tmp_path / "key").write_text("k" * 32)
    out = tmp_path / "o.parquet"
    result = CliRunner().invoke(
        app,
        [
            "encode",
            str(tmp_path / "spec.yaml"),
            str(tmp_path / "data.csv"),
            "--out",
            str(out),
            "--key-file",
            str(tmp_path / "key"),
            "--schema",
            str(tmp_path / "clk.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "given_name (256 bits)" in result.output
