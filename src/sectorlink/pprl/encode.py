"""Encode a partner's person records into keyed Bloom filters and keyed exact tokens.

The records go through the same mapping (``sources.loader.ingest``) and the same
standardisation (``identity.standardise``) as plain ingest; only then are identifiers
turned into tokens (in SQL), each distinct token hashed once (in Python), and record
filters built on packed 64-bit words (numpy and a compiled loop). The output holds only
the contract's columns: source, record_id, ``bf_<field>`` and ``tok_<name>``.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sectorlink.identity.reference import register_reference_tables
from sectorlink.identity.standardise import standardised_sql
from sectorlink.model import TABLES, quote_ident
from sectorlink.pprl import bloom
from sectorlink.pprl.keys import LinkageKey
from sectorlink.pprl.schema import EncodingSchema, FieldSpec, load_schema
from sectorlink.pprl.tokens import (
    EXACT_TOKENS,
    FIELD_TOKENS,
    STD_COLUMNS,
    STD_TABLE,
    exact_tokens_sql,
    field_tokens_sql,
)
from sectorlink.sources import LoadResult, MappingSpec, ingest, load_spec
from sectorlink.warehouse import ensure_schema

ENCODED_FORMAT = "sectorlink-pprl/1"
METADATA_KEY = b"sectorlink.pprl"
TOKEN_BYTES = 16


class EncodeError(Exception):
    """Encoding cannot go ahead; the message says what and where (never the key)."""


def field_key(key: LinkageKey, field_name: str) -> bytes:
    return key.derive(f"bloom:{field_name}")


def token_key(key: LinkageKey, token: str) -> bytes:
    """The key of an exact token's group (a date and its swap share one, for instance)."""
    return key.derive(f"token:{EXACT_TOKENS[token][1]}")


def _hash_column(values: pa.ChunkedArray | pa.Array, key: bytes) -> pa.Array:
    """Hex of HMAC-SHA256 (first 16 bytes) of each value, hashing each distinct value once."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    hashed = pa.array(
        [hmac.digest(key, str(v).encode(), "sha256")[:TOKEN_BYTES].hex() for v in distinct],
        type=pa.string(),
    )
    return pc.take(hashed, encoded.indices)


def _to_binary(filters: bloom.Words, present: np.ndarray) -> pa.Array:
    n, words = filters.shape
    data = np.ascontiguousarray(filters.astype("<u8", copy=False)).view(np.uint8)
    validity = pa.py_buffer(np.packbits(present, bitorder="little").tobytes())
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(words * 8),
        n,
        [validity, pa.py_buffer(data.tobytes())],
        null_count=int(n - present.sum()),
    )


def _encode_field(
    con: duckdb.DuckDBPyConnection, key: LinkageKey, spec: FieldSpec, hash_name: str, n: int
) -> pa.Array:
    h = spec.hardening
    pairs = con.sql(field_tokens_sql(spec.name, h.salt)).to_arrow_table()
    rows = pairs.column("row").to_numpy().astype(np.int64)
    tokens = pairs.column("token").combine_chunks()
    encoded = pc.dictionary_encode(tokens)
    positions = bloom.token_positions(
        encoded.dictionary.to_pylist(), field_key(key, spec.name), spec.bits, spec.k, hash_name
    )
    ids = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    filters, present = bloom.record_filters(n, rows, ids, positions, spec.bits)
    if h.balance:
        filters = bloom.balance(filters, key.derive(f"balance:{spec.name}"))
    if h.xor_fold:
        filters = bloom.xor_fold(filters)
    if h.diffusion:
        filters = bloom.diffuse(filters, key.derive(f"diffusion:{spec.name}"), h.diffusion)
    # a record without the field stays NULL, not an all-zero (or half-set) filter
    filters[~present] = 0
    return _to_binary(filters, present)


def metadata(
    schema: EncodingSchema, key: LinkageKey, records: int, sources: list[str]
) -> dict[str, object]:
    return {
        "format": ENCODED_FORMAT,
        "schema_name": schema.name,
        "schema_fingerprint": schema.fingerprint(key),
        "hash": schema.hash,
        "fields": {
            n: {"bits": f.output_bits, "k": f.k, "hardening": f.hardening.to_dict()}
            for n, f in schema.fields.items()
        },
        "tokens": list(schema.tokens),
        "records": records,
        "sources": sources,
    }


def encode_records(
    con: duckdb.DuckDBPyConnection,
    key: LinkageKey,
    schema: EncodingSchema,
    *,
    table: str = "person_record",
) -> pa.Table:
    """Encode every row of `table` (person_record columns) already in `con`.

    Returns one row per record in (source, record_id) order: ``source``, ``record_id``,
    ``bf_<field>`` (FIXED_SIZE_BINARY of the field's output bits / 8, NULL when the record
    has no value) and ``tok_<name>`` (hex keyed tokens, NULL when missing), with the
    encoding's metadata (format, schema fingerprint, field lengths) under the schema
    metadata key ``sectorlink.pprl``.

    Example:
        >>> key = LinkageKey.from_bytes(secrets.token_bytes(32))  # doctest: +SKIP
        >>> encoded = encode_records(con, key, load_schema())  # doctest: +SKIP
    """
    register_reference_tables(con)  # what identity.standardise's SQL reads
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STD_TABLE} AS {_std_sql(schema, table)}")
    try:
        _check_record_ids(con, table)
        base = con.sql(exact_tokens_sql(list(schema.tokens))).to_arrow_table()
        n = base.num_rows
        columns: dict[str, pa.Array | pa.ChunkedArray] = {
            "source": base.column("source").cast(pa.string()),
            "record_id": base.column("record_id").cast(pa.string()),
        }
        for name, spec in schema.fields.items():
            columns[f"bf_{name}"] = _encode_field(con, key, spec, schema.hash, n)
        for token in schema.tokens:
            columns[f"tok_{token}"] = _hash_column(base.column(token), token_key(key, token))
        sources = sorted(set(columns["source"].to_pylist())) if n else []
    finally:
        con.execute(f"DROP TABLE IF EXISTS {STD_TABLE}")
    out = pa.table(columns)
    meta = json.dumps(metadata(schema, key, n, sources), sort_keys=True)
    return out.replace_schema_metadata({METADATA_KEY: meta.encode()})


def _std_sql(schema: EncodingSchema, table: str) -> str:
    """The standardised relation (``identity.standardise``'s SQL), cut to the columns this
    schema's tokens read, so DuckDB skips standardising identifiers the schema leaves out."""
    sql = [FIELD_TOKENS[f].words or "" for f in schema.fields]
    sql += [FIELD_TOKENS[f].whole or "" for f in schema.fields]
    sql += [EXACT_TOKENS[t][0] for t in schema.tokens]
    sql += [f.hardening.salt or "" for f in schema.fields.values()]
    text = " ".join(sql)
    needed = ["unique_id", "source", "record_id"] + [
        c for c in STD_COLUMNS[3:] if re.search(rf"\b{c}\b", text)
    ]
    select = ", ".join(f"s.{c}" for c in needed)
    if not re.search(r"\blocal_person_id\b", text):
        return f"SELECT {select} FROM ({standardised_sql(table)}) s"
    # the source's own person identifier, normalised as the plain engine does
    # (linkage.run.linkage_input_sql): upper case, letters and digits only
    local_id = "regexp_replace(upper(trim(r.local_person_id)), '[^0-9A-Z]', '', 'g')"
    return f"""SELECT {select}, nullif({local_id}, '') AS local_person_id
        FROM ({standardised_sql(table)}) s JOIN {table} r USING (source, record_id)"""


# Identifiers a record id must not be (compared compacted: case, spaces and punctuation
# ignored), since record ids travel in the clear.
_RECORD_ID_CHECKS = {
    "nhs_number": "nhs_number",
    "ni_number": "ni_number",
    "ssn": "ssn",
    "phone": "phone",
    "email": "email",
    "given_name": "given_name",
    "family_name": "family_name",
    "birth_date": "strftime(birth_date, '%Y%m%d')",
}


def _check_record_ids(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Refuse when a record id is the record's own identifier (a mapping mistake: the id
    column mapped from the NHS number, the email...). Reads the raw values, so it costs
    no standardisation."""

    def compact(expr: str) -> str:
        return f"regexp_replace(lower(CAST({expr} AS VARCHAR)), '[^0-9a-z@]', '', 'g')"

    checks = ", ".join(
        f"count(*) FILTER (WHERE {compact('record_id')} = {compact(v)})"
        for v in _RECORD_ID_CHECKS.values()
    )
    counts = con.execute(f"SELECT {checks} FROM {table}").fetchall()[0]
    for column, count in zip(_RECORD_ID_CHECKS, counts, strict=True):
        if count:
            raise EncodeError(
                f"record_id: {count} record id(s) equal the record's own {column}; record ids "
                "travel in the clear, so map record_id from a column that identifies the "
                "record, not the person"
            )


def read_metadata(path: Path) -> dict[str, object]:
    """The encoding metadata of an encoded Parquet file."""
    meta = pq.read_schema(path).metadata or {}
    if METADATA_KEY not in meta:
        raise EncodeError(f"{path}: not a sectorlink encoded file (no {METADATA_KEY.decode()})")
    data: dict[str, object] = json.loads(meta[METADATA_KEY])
    return data


def write_atomic(table: pa.Table, out: Path) -> None:
    """Write Parquet to a temporary file in the target folder, then rename it into place:
    the target holds the whole file or is left as it was."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise EncodeError(f"{out}: the output folder {folder} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise EncodeError(f"{out}: cannot write in {folder}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise EncodeError(f"{out}: cannot write the output: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@dataclass
class EncodeSummary:
    """What `encode_file` wrote."""

    out: Path
    records: int
    fingerprint: str
    fields: dict[str, int]
    """Bloom-filter field -> bits in the output."""
    tokens: list[str]
    load: LoadResult
    """The ingest result of the extract (rows read, rejects, quality), as ingest reports it."""
    events: dict[str, Path] = field(default_factory=dict)
    """Event table -> file written beside the output (with ``events=True``)."""


# Raw person_record columns whose values must not appear in anything that leaves the partner.
IDENTIFIER_COLUMNS = (
    "local_person_id",
    "full_name",
    "given_name",
    "middle_names",
    "family_name",
    "address",
    "postcode",
    "nhs_number",
    "ni_number",
    "ssn",
    "phone",
    "email",
)
# Names shorter than this are too common as parts of ordinary words to test by containment.
MIN_CONTAINED = 3
_EVENT_SKIP = {"source", "event_id", "record_id", "load_id", "source_row"}


def _event_tables(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """Event and detail tables with rows of `source`: table -> SELECT keyed by record_id."""
    selects: dict[str, str] = {}
    for name, table in TABLES.items():
        if table.kind not in ("event", "detail"):
            continue
        cols = [f.name for f in table.fields if f.name not in ("load_id", "source_row")]
        if table.kind == "event":
            sql = f"SELECT {', '.join(quote_ident(c) for c in cols)} FROM {name} WHERE source = ?"
        else:
            rest = ", ".join(f"d.{quote_ident(c)}" for c in cols if c != "source")
            sql = (
                f"SELECT d.source, e.record_id, {rest} "
                f"FROM {name} d JOIN event e USING (source, event_id) WHERE d.source = ?"
            )
        count = con.execute(f"SELECT count(*) FROM ({sql})", [source]).fetchall()[0][0]
        if count:
            selects[name] = sql
    return selects


def check_no_identifiers(
    con: duckdb.DuckDBPyConnection, table: str, select_sql: str, source: str
) -> None:
    """Refuse an event table when a column holds a plaintext identifier of its own record.

    A value counts when the column's text equals, or contains, one of the record's raw
    identifiers (names of at least 3 letters, numbers, postcode, phone, email, address)
    or equals its birth date. The error names the table and column, never the value."""
    described = con.execute(f"SELECT * FROM ({select_sql}) LIMIT 0", [source]).description
    columns = [str(d[0]) for d in described or [] if d[0] not in _EVENT_SKIP]
    ident = ", ".join(f"lower(trim(CAST(p.{c} AS VARCHAR)))" for c in IDENTIFIER_COLUMNS)
    for column in columns:
        text = f"lower(trim(CAST(t.{quote_ident(column)} AS VARCHAR)))"
        hits = con.execute(
            f"""
            SELECT count(*), min(t.record_id)
            FROM ({select_sql}) t JOIN person_record p USING (source, record_id)
            WHERE {text} <> '' AND (
                CAST(p.birth_date AS VARCHAR) = {text}
                OR len(list_filter([{ident}], lambda v: length(v) >= {MIN_CONTAINED}
                                   AND contains({text}, v))) > 0)
            """,
            [source],
        ).fetchall()[0]
        if hits[0]:
            raise EncodeError(
                f"table {table}, column {column}: {hits[0]} row(s) hold a plaintext identifier "
                f"of their own person record (first: record_id {hits[1]}); remove or map that "
                "column differently before sharing events"
            )


def encode_file(
    spec: MappingSpec | Path | str,
    file: Path | str,
    *,
    key: LinkageKey,
    schema: EncodingSchema | None = None,
    out: Path,
    events: bool = False,
) -> EncodeSummary:
    """Map, validate and standardise an extract exactly as ``sectorlink ingest`` does, then
    encode its person records and write them atomically to `out` (Parquet).

    Ingest runs into an in-memory warehouse, so no plaintext copy is left on disk. With
    `events`, the source's event and detail rows go beside `out` as
    ``OUT.<table>.parquet`` (keyed by source and record_id), refused when a column holds a
    plaintext identifier of its record.

    Raises:
        SourceError: the spec or the file is unusable (the same errors as ingest).
        EncodeError: nothing to encode, an identifier in the events, an unwritable output.
    """
    schema = schema or load_schema(None)
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise EncodeError(f"{out}: the output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise EncodeError(f"{out}: the output folder {folder} is not writable")
    if not isinstance(spec, MappingSpec):
        spec = load_spec(spec)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        ensure_schema(con)
        result = ingest(spec, file, con=con)
        if spec.person is None:
            raise EncodeError(
                f"{spec.path or spec.source}: the spec maps no person records, so there is "
                "nothing to encode"
            )
        source = "(SELECT * FROM person_record WHERE source = " + _lit(spec.source) + ")"
        table = encode_records(con, key, schema, table=source)
        if table.num_rows == 0:
            raise EncodeError(
                f"{file}: no person record passed validation ({result.rows_rejected} rejected); "
                "nothing to encode"
            )
        event_tables = _event_tables(con, spec.source) if events else {}
        event_data: dict[str, pa.Table] = {}
        for name, sql in event_tables.items():
            check_no_identifiers(con, name, sql, spec.source)
            event_data[name] = con.sql(sql, params=[spec.source]).to_arrow_table()
    finally:
        con.close()
    written: dict[str, Path] = {}
    for name, data in event_data.items():
        path = out.with_name(f"{out.stem}.{name}.parquet")
        write_atomic(data, path)
        written[name] = path
    write_atomic(table, out)
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    return EncodeSummary(
        out=out,
        records=table.num_rows,
        fingerprint=str(meta["schema_fingerprint"]),
        fields={n: int(f["bits"]) for n, f in meta["fields"].items()},
        tokens=list(schema.tokens),
        load=result,
        events=written,
    )


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
