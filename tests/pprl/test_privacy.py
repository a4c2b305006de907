"""The encoded output holds no plaintext identifier and no unkeyed hash of one."""

from __future__ import annotations

import hashlib
import json
import string
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sectorlink.identity.standardise import STANDARD_COLUMNS, standardise
from sectorlink.model import TABLES
from sectorlink.pprl.encode import METADATA_KEY, encode_file
from sectorlink.pprl.keys import LinkageKey
from sectorlink.sources import ingest
from sectorlink.warehouse import ensure_schema

KEY = LinkageKey.from_bytes(b"privacy test secret, 32 bytes ok")
EXTRACTS = ("riverside_gp_patients", "northgate_ed_attendances")
HEX = set(string.hexdigits)
NOT_IDENTIFIERS = ("unique_id", "source", "record_id", "birth_precision", "invalid_identifiers")


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sectorlink.synth import generate_region

    root = tmp_path_factory.mktemp("privacy") / "region"
    generate_region(root, people=200, seed=5, progress=False)
    return root


def _extract(region: Path, name: str) -> tuple[Path, Path]:
    manifest = json.loads((region / "manifest.json").read_text())
    for e in manifest["extracts"]:
        if Path(e["spec"]).stem == name:
            return region / e["spec"], region / e["file"]
    raise AssertionError(name)


def _plaintext(spec: Path, data: Path) -> set[str]:
    """Every identifier value of the extract: as mapped, and as standardised."""
    con = duckdb.connect()
    ensure_schema(con)
    ingest(spec, data, con=con)
    values: set[str] = set()
    columns = [f.name for f in TABLES["person_record"].fields if f.identifier]
    raw = con.sql(f"SELECT {', '.join(columns)} FROM person_record").to_arrow_table()
    # every standardised identifier; not the bookkeeping (ids, precision, invalid-field names)
    std = standardise(con).to_arrow_table()
    std = std.select([c for c in STANDARD_COLUMNS if c not in NOT_IDENTIFIERS])
    for table in (raw, std):
        for col in table.columns:
            if pa.types.is_list(col.type):
                col = col.combine_chunks().flatten()
            for v in col.to_pylist():
                if v is None:
                    continue
                text = str(v)
                values.update({text, text.lower(), text.upper()})
                if hasattr(v, "strftime"):
                    values.update({v.strftime("%Y%m%d"), v.strftime("%d/%m/%Y")})
    # record ids travel in the clear by design (encode refuses ids that are identifiers)
    ids = {str(r[0]) for r in con.execute("SELECT record_id FROM person_record").fetchall()}
    con.close()
    return {v for v in values if v.strip() and v not in ids}


def _digests(value: str) -> tuple[list[str], list[bytes]]:
    hexes, raws = [], []
    for name in ("md5", "sha1", "sha256"):
        d = hashlib.new(name, value.encode()).digest()
        raws += [d, d[:16]]
        hexes += [d.hex(), d.hex()[:32], d.hex().upper()]
    return hexes, raws


def find_leaks(out: Path, plaintext: set[str]) -> list[str]:
    """Every way a plaintext value shows in the encoded file: in a column (as bytes or
    text), in the metadata or the file's bytes, or as its unkeyed MD5/SHA-1/SHA-256."""
    table = pq.read_table(out)
    texts: list[str] = []
    blobs: list[bytes] = []
    for name in table.column_names:
        if name in ("source", "record_id"):
            continue
        values = [v for v in table.column(name).to_pylist() if v is not None]
        if values and isinstance(values[0], bytes):
            blobs.append(b"".join(values))
        else:
            texts.extend(str(v) for v in values)
    meta = (pq.read_schema(out).metadata or {}).get(METADATA_KEY, b"").decode()
    text = "\n".join(texts)
    blob = b"".join(blobs)
    file_bytes = out.read_bytes()
    token_values = set(texts)
    leaks = []
    for value in plaintext:
        found = value in token_values
        # short values occur by chance in random bytes or hex, so only whole tokens count
        if len(value) >= 5:
            found |= value.encode() in blob or value in meta
        if len(value) >= 6:
            found |= value.encode() in file_bytes
        if len(value) >= (8 if set(value) <= HEX else 3):
            found |= value in text
        hexes, raws = _digests(value)
        found |= any(h in text or h in meta or h.encode() in blob for h in hexes)
        found |= any(r in blob or r in file_bytes for r in raws)
        if found:
            leaks.append(value)
    return leaks


@pytest.mark.slow
@pytest.mark.parametrize("extract", EXTRACTS)
def test_output_holds_no_plaintext_or_unkeyed_hash(
    region: Path, tmp_path: Path, extract: str
) -> None:
    spec, data = _extract(region, extract)
    out = tmp_path / "enc.parquet"
    encode_file(spec, data, key=KEY, out=out)
    table = pq.read_table(out)
    assert all(c.startswith(("bf_", "tok_")) for c in table.column_names[2:])
    # the search covers real values in most columns, not a file of NULLs
    assert sum(table.column(c).null_count < table.num_rows for c in table.column_names) >= 14
    plaintext = _plaintext(spec, data)
    assert len(plaintext) > 500
    assert find_leaks(out, plaintext) == []

    # the search does find an unkeyed hash, a plaintext name and a value inside the bits
    names = sorted(v for v in plaintext if v.isalpha() and len(v) >= 5)
    leaky = table.append_column(
        "tok_unkeyed", pa.array([hashlib.sha256(names[0].encode()).hexdigest()] * table.num_rows)
    )
    leaky = leaky.append_column("tok_plain", pa.array([names[1]] * table.num_rows))
    padded = names[2].encode().ljust(64, b"\0")
    leaky = leaky.append_column("bf_plain", pa.array([padded] * table.num_rows, pa.binary(64)))
    pq.write_table(leaky, tmp_path / "leaky.parquet")
    assert sorted(find_leaks(tmp_path / "leaky.parquet", set(names[:3]))) == names[:3]
