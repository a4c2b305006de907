"""The partner-side encoder: keys, schema, and the encoded records' contract."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from sectorlink.pprl import bloom
from sectorlink.pprl.encode import (
    METADATA_KEY,
    EncodeError,
    encode_records,
    field_key,
    token_key,
)
from sectorlink.pprl.keys import LinkageKey, PPRLKeyError, hkdf_sha256, load_key
from sectorlink.pprl.schema import SchemaError, load_schema, schema_from_dict
from sectorlink.warehouse import ensure_schema

SECRET = b"correct horse battery staple 0123456789"
KEY = LinkageKey.from_bytes(SECRET)


def _con(rows: list[dict[str, object]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    ensure_schema(con)
    columns = sorted({k for r in rows for k in r})
    con.executemany(
        f"INSERT INTO person_record ({', '.join(columns)}) VALUES "
        f"({', '.join('?' for _ in columns)})",
        [[r.get(c) for c in columns] for r in rows],
    )
    return con


def _bits(value: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(value, dtype=np.uint8), bitorder="little")


def _dice(a: bytes, b: bytes) -> float:
    x, y = _bits(a), _bits(b)
    return 2 * int((x & y).sum()) / int(x.sum() + y.sum())


PEOPLE: list[dict[str, object]] = [
    {
        "source": "ae",
        "record_id": "a1",
        "given_name": "Robert",
        "family_name": "Smith-Jones",
        "birth_date": dt.date(1980, 3, 12),
        "birth_year": 1980,
        "sex": "M",
        "postcode": "NG1 5AB",
        "nhs_number": "9434765919",
    },
    {
        "source": "police",
        "record_id": "p1",
        "given_name": "Bob",
        "family_name": "Smith Jones",
        "birth_date": dt.date(1980, 12, 3),
        "birth_year": 1980,
        "sex": "M",
        "postcode": "NG15AB",
    },
    {"source": "police", "record_id": "p2", "given_name": "Roberta", "family_name": "Smyth"},
    {
        "source": "police",
        "record_id": "p3",
        "family_name": "Nobody",
        "age_years": 40,
        "age_at_date": dt.date(2024, 6, 1),
    },
]


# --- keys ----------------------------------------------------------------------------


def test_hkdf_matches_rfc5869_test_case_1() -> None:
    okm = hkdf_sha256(
        bytes.fromhex("0b" * 22),
        bytes.fromhex("000102030405060708090a0b0c"),
        bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        42,
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_key_repr_hides_secret_and_purposes_differ() -> None:
    assert SECRET.decode() not in repr(KEY) and SECRET.decode() not in str(KEY)
    assert KEY.derive("a") != KEY.derive("b")
    assert KEY.derive("a") == LinkageKey.from_bytes(SECRET).derive("a")
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(KEY)


def test_load_key_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "key"
    path.write_text(SECRET.decode() + "\n")
    assert load_key(path).derive("x") == KEY.derive("x")
    monkeypatch.setenv("SECTORLINK_PPRL_KEY", SECRET.decode())
    assert load_key().derive("x") == KEY.derive("x")


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), ("", "empty"), ("  \n", "empty"), ("short-secret", "12 bytes")],
)
def test_bad_key_files_are_refused_without_echo(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "key"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PPRLKeyError, match=message) as err:
        load_key(path)
    if content and content.strip():
        assert content.strip() not in str(err.value)


def test_no_key_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECTORLINK_PPRL_KEY", raising=False)
    with pytest.raises(PPRLKeyError, match="SECTORLINK_PPRL_KEY"):
        load_key()


# --- schema --------------------------------------------------------------------------


def test_fingerprint_depends_on_key_and_schema() -> None:
    schema = load_schema()
    other_key = LinkageKey.from_bytes(b"another secret of enough length")
    assert schema.fingerprint(KEY) == load_schema().fingerprint(KEY)
    assert schema.fingerprint(KEY) != schema.fingerprint(other_key)
    assert schema.fingerprint(KEY) != schema.with_hardening(balance=True).fingerprint(KEY)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"fields": {"given_name": {"bits": 1000, "k": 20}}}, "fields.given_name"),
        ({"fields": {"shoe_size": {"bits": 64, "k": 2}}}, "fields.shoe_size"),
        ({"tokens": ["favourite_colour"]}, "tokens"),
        ({"hash": "md5"}, "hash"),
        ({"hardening": {"salt": "given_name"}}, "fields.given_name"),
        ({"hardening": {"peppering": True}}, "hardening"),
        (
            {"fields": {"birth_year": {"bits": 64, "k": 5, "hardening": {"xor_fold": True}}}},
            "fields.birth_year",
        ),
    ],
)
def test_bad_schema_names_the_key(change: dict[str, object], where: str) -> None:
    data: dict[str, object] = {
        "format": "sectorlink-pprl-schema/1",
        "name": "t",
        "fields": {"given_name": {"bits": 1024, "k": 20}},
        "tokens": ["sex"],
    }
    data.update(change)
    with pytest.raises(SchemaError, match=where.replace(".", r"\.")):
        schema_from_dict(data, Path("s.yaml"))


# --- encoded records -----------------------------------------------------------------


def test_encoded_table_follows_the_contract() -> None:
    schema = load_schema()
    table = encode_records(_con(PEOPLE), KEY, schema)
    assert table.column_names == (
        ["source", "record_id"]
        + [f"bf_{f}" for f in schema.fields]
        + [f"tok_{t}" for t in schema.tokens]
    )
    assert table.column("record_id").to_pylist() == ["a1", "p1", "p2", "p3"]
    for name, spec in schema.fields.items():
        assert table.schema.field(f"bf_{name}").type == pa.binary(spec.bits // 8)
        assert spec.bits % 64 == 0
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    assert meta["format"] == "sectorlink-pprl/1"
    assert meta["schema_fingerprint"] == schema.fingerprint(KEY)
    assert meta["records"] == 4 and meta["sources"] == ["ae", "police"]
    assert meta["fields"]["given_name"]["bits"] == 1024
    rows = table.to_pylist()
    # missing values are NULL, not empty filters
    assert rows[2]["bf_birth_date"] is None and rows[2]["tok_birth_date"] is None
    assert rows[3]["bf_given_name"] is None and rows[3]["bf_birth_date"] is None
    assert rows[3]["bf_birth_year"] is not None  # an age still gives a span of years
    assert rows[0]["tok_nhs_number"] is not None and rows[1]["tok_nhs_number"] is None
    # bob -> robert: the canonical given name makes the filters close and the tokens equal
    assert rows[0]["tok_given_canonical"] == rows[1]["tok_given_canonical"]
    assert _dice(rows[0]["bf_given_name"], rows[1]["bf_given_name"]) > 0.6
    assert _dice(rows[0]["bf_given_name"], rows[2]["bf_given_name"]) > 0.6
    # Smith-Jones and "Smith Jones" standardise to the same parts
    assert rows[0]["bf_family_name"] == rows[1]["bf_family_name"]
    assert rows[0]["tok_postcode"] == rows[1]["tok_postcode"]
    # a day/month swap: the swapped token of one equals the date token of the other
    assert rows[0]["tok_birth_date"] != rows[1]["tok_birth_date"]
    assert rows[0]["tok_birth_date_swapped"] == rows[1]["tok_birth_date"]
    assert _dice(rows[0]["bf_birth_date"], rows[1]["bf_birth_date"]) > 0.3
    assert len(rows[0]["tok_sex"]) == 32


def test_bit_layout_is_packed_little_endian_words() -> None:
    schema = load_schema().with_fields(["birth_year"])
    rows = [{"source": "s", "record_id": "1", "birth_year": 1987}]
    value = encode_records(_con(rows), KEY, schema).column("bf_birth_year")[0].as_py()
    spec = schema.fields["birth_year"]
    positions = bloom.token_positions(
        ["y:1987", "dec:198"], field_key(KEY, "birth_year"), spec.bits, spec.k, "hmac-sha256"
    )
    expected = np.zeros(spec.bits, dtype=np.uint8)
    expected[positions.ravel()] = 1
    assert (_bits(value) == expected).all()
    words = np.frombuffer(value, dtype="<u8")
    p = int(positions[0, 0])
    assert (int(words[p // 64]) >> (p % 64)) & 1


def test_another_key_gives_other_encodings() -> None:
    schema = load_schema()
    a = encode_records(_con(PEOPLE), KEY, schema).to_pylist()[0]
    b = encode_records(_con(PEOPLE), LinkageKey.from_bytes(b"x" * 32), schema).to_pylist()[0]
    assert a["bf_given_name"] != b["bf_given_name"] and a["tok_sex"] != b["tok_sex"]
    assert token_key(KEY, "birth_date") == token_key(KEY, "birth_date_swapped")


def test_hardening_lengths_and_constant_popcount() -> None:
    schema = load_schema()
    balanced = encode_records(_con(PEOPLE), KEY, schema.with_hardening(balance=True))
    assert balanced.schema.field("bf_given_name").type == pa.binary(2 * 1024 // 8)
    given = [v for v in balanced.column("bf_given_name").to_pylist() if v is not None]
    assert {int(_bits(v).sum()) for v in given} == {1024}
    folded = encode_records(_con(PEOPLE), KEY, schema.with_hardening(xor_fold=True))
    assert folded.schema.field("bf_given_name").type == pa.binary(1024 // 16)
    both = encode_records(
        _con(PEOPLE), KEY, schema.with_hardening(balance=True, xor_fold=True, diffusion=3)
    )
    assert both.schema.field("bf_given_name").type == pa.binary(1024 // 8)
    meta = json.loads(both.schema.metadata[METADATA_KEY])
    assert meta["fields"]["given_name"]["bits"] == 1024
    # the same value still encodes the same way under every hardening
    fam = both.column("bf_family_name").to_pylist()
    assert fam[0] == fam[1] and fam[0] != fam[2]


def test_salt_separates_values_with_different_salts() -> None:
    schema = load_schema().with_hardening(salt="birth_year", fields=["family_name"])
    rows = [
        {"source": "s", "record_id": "1", "family_name": "Smith", "birth_year": 1980},
        {"source": "s", "record_id": "2", "family_name": "Smith", "birth_year": 1980},
        {"source": "s", "record_id": "3", "family_name": "Smith", "birth_year": 1990},
    ]
    fam = encode_records(_con(rows), KEY, schema).column("bf_family_name").to_pylist()
    assert fam[0] == fam[1]
    assert _dice(fam[0], fam[2]) < 0.3


def test_record_id_that_is_an_identifier_is_refused() -> None:
    rows = [
        {"source": "s", "record_id": "943 476 5919", "nhs_number": "9434765919"},
        {"source": "s", "record_id": "r2", "nhs_number": "4010232137"},
    ]
    with pytest.raises(EncodeError, match=r"record_id: 1 record id.*own nhs_number"):
        encode_records(_con(rows), KEY, load_schema())


def test_hardening_kernels_match_bit_level_definitions() -> None:
    rng = np.random.default_rng(3)
    filters = rng.integers(0, 2**63, size=(40, 4), dtype=np.int64).astype(np.uint64)
    bits = np.unpackbits(filters.view(np.uint8), axis=1, bitorder="little")
    key = b"k" * 32
    taps = bloom.diffusion_taps(key, 256, 3)
    assert all(len(set(row)) == 3 for row in taps.tolist())  # distinct taps per output bit
    diffused = np.unpackbits(
        bloom.diffuse(filters, key, 3).view(np.uint8), axis=1, bitorder="little"
    )
    assert (diffused == np.bitwise_xor.reduce(bits[:, taps], axis=2)).all()
    balanced = bloom.balance(filters, key)
    out = np.unpackbits(balanced.view(np.uint8), axis=1, bitorder="little")
    perm = bloom.keyed_permutation(key, 512)
    assert sorted(perm.tolist()) == list(range(512))
    assert (out == np.concatenate([bits, 1 - bits], axis=1)[:, perm]).all()
    folded = np.unpackbits(bloom.xor_fold(filters).view(np.uint8), axis=1, bitorder="little")
    assert (folded == bits[:, :128] ^ bits[:, 128:]).all()
