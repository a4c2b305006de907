"""Encode a partner's person records into keyed Bloom filters and keyed exact tokens.

The records go through the same mapping (``sources.loader.ingest``) and the same
standardisation (``identity.standardise``) as plain ingest; only then are identifiers
turned into tokens (in SQL), each distinct token hashed once (in Python), and record
filters built on packed 64-bit words (numpy and a compiled loop). The encodings hold only
the contract's columns: source, record_id, ``bf_<field>`` and ``tok_<name>``. Beside them
(``encode_extracts``) go the partner's common-model rows without their identifiers and a
manifest describing them (``sectorlink.pprl.package``: what travels and why).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sectorlink.identity import postcodes
from sectorlink.identity.reference import register_reference_tables
from sectorlink.identity.standardise import standardised_sql
from sectorlink.model import TABLES, Table, identifier_columns, quote_ident
from sectorlink.pprl import bloom, package
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
from sectorlink.sources.loader import file_sha256
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
    """What `encode_extracts` (or `encode_file`) wrote."""

    out: Path
    records: int
    fingerprint: str
    fields: dict[str, int]
    """Bloom-filter field -> bits in the output."""
    tokens: list[str]
    loads: list[LoadResult]
    """The ingest result of each extract (rows read, rejects, quality), as ingest reports it."""
    source: str = ""
    tables: dict[str, Path] = field(default_factory=dict)
    """Model table -> the rows file written beside the encodings (none with rows=False)."""
    rows: dict[str, int] = field(default_factory=dict)
    """Model table -> rows in its file."""
    manifest: Path | None = None
    """The package's manifest (None when only the encodings were written)."""
    counts: dict[str, int] = field(default_factory=dict)
    """What the policy did -> rows (a marker sent, a postcode cut, a value withheld)."""
    bytes: dict[str, int] = field(default_factory=dict)
    """File name -> bytes written: what leaves the partner."""

    @property
    def load(self) -> LoadResult:
        """The first extract's ingest result (the person-bearing one)."""
        return self.loads[0]


# Names shorter than this are too common as parts of ordinary words to test by containment.
MIN_CONTAINED = 3
_CHECK_SKIP = {"source", "event_id", "record_id", "load_id", "source_row"}


def _contained_identifiers() -> tuple[str, ...]:
    """The person record's identifier columns looked for in what travels: the catalogue's
    identifiers less the quasi-identifiers (title, sex, birth date and year), whose values
    are too common to search other text for ('male' is part of 'female'); the birth date
    is tested whole."""
    return identifier_columns("person_record", quasi=False)


SHARED = "sl_shared"
"""The in-memory table holding what will travel of one model table while it is checked."""
MISTAKE_SHARE = 0.01
"""A column in which at least this share of values holds its own record's identifier is a
mapping mistake (a name column carried as an attribute), refused; below it the values are
coincidences ('The Black Horse' for Ms Black), withheld one by one and counted."""


def check_no_identifiers(con: duckdb.DuckDBPyConnection, table: str, source: str) -> int:
    """Look for plaintext identifiers of a row's own person record in what will travel of
    `table` (held in the table SHARED); refuse a column where they are systematic, withhold
    the values (set them empty) where they are coincidences. Returns how many were withheld.

    Free-text columns are tested (text, JSON values and lists without a code set: a coded
    value comes from the model's code set, and 'dan' is part of 'ae_attendance'). A value
    counts when it equals its record's birth date, contains one of its one-word identifiers
    (a name of at least 3 letters, a number, an email) as a whole word, or contains one with
    spaces (an address, a postcode) anywhere. The error names the table and column, never
    the value.

    Raises:
        EncodeError: a column where MISTAKE_SHARE or more of the values hold one.
    """
    fields = {f.name: f for f in TABLES[table].fields}
    described = con.execute(f"SELECT * FROM {SHARED} LIMIT 0").description
    columns = [
        name
        for name in (str(d[0]) for d in described or [])
        if name not in _CHECK_SKIP
        and name in fields
        and fields[name].type in ("string", "json", "string_list")
        and not fields[name].code_set
    ]
    record = (
        f"(SELECT d.*, e.record_id FROM {SHARED} d "
        "JOIN event e ON e.source = d.source AND e.event_id = d.event_id)"
        if TABLES[table].kind == "detail"
        else SHARED
    )
    key = " AND ".join(
        f"s.{quote_ident(k)} = h.{quote_ident(k)}" for k in TABLES[table].primary_key
    )
    ident = ", ".join(f"lower(trim(CAST(p.{c} AS VARCHAR)))" for c in _contained_identifiers())
    withheld = 0
    for column in columns:
        value = f"t.{quote_ident(column)}"
        if fields[column].type == "json":  # its values, not its keys ('AttendanceCategory')
            value = f"array_to_string(json_extract_string({value}, '$.*'), ' | ')"
        elif fields[column].type == "string_list":
            value = f"array_to_string({value}, ' | ')"
        text = f"lower(trim(CAST({value} AS VARCHAR)))"
        words = rf"string_split_regex({text}, '[^0-9a-z@.''_-]+')"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE sl_hits AS
            SELECT t.* FROM {record} t JOIN person_record p USING (source, record_id)
            WHERE {text} <> '' AND (
                CAST(p.birth_date AS VARCHAR) = {text}
                OR len(list_filter([{ident}], lambda v: length(v) >= {MIN_CONTAINED}
                       AND CASE WHEN contains(v, ' ') THEN contains({text}, v)
                                ELSE list_contains({words}, v) END)) > 0)"""
        )
        hits, first = con.execute("SELECT count(*), min(record_id) FROM sl_hits").fetchall()[0]
        if not hits:
            continue
        filled = con.execute(f"SELECT count(*) FROM {record} t WHERE {text} <> ''").fetchall()[0][0]
        if hits >= MISTAKE_SHARE * filled:
            raise EncodeError(
                f"table {table}, column {column}: {hits} of {filled} value(s) hold a plaintext "
                f"identifier of their own person record (first: record_id {first}); remove or "
                "map that column differently before sharing it"
            )
        con.execute(
            f"UPDATE {SHARED} s SET {quote_ident(column)} = NULL FROM sl_hits h WHERE {key}"
        )
        withheld += int(hits)
    con.execute("DROP TABLE IF EXISTS sl_hits")
    return withheld


def _shared_rows(
    con: duckdb.DuckDBPyConnection, key: LinkageKey, source: str, *, lookup: bool
) -> tuple[dict[str, pa.Table], dict[str, int]]:
    """What travels of every model table holding rows of `source` (package.py's policy),
    each checked for plaintext identifiers; and how many values each cut changed."""
    shared: dict[str, pa.Table] = {}
    counts: dict[str, int] = {}
    pseudonym_key = key.derive(f"pseudonym:{package.PSEUDONYMISED}")
    for name, table in TABLES.items():
        held = con.execute(
            f"SELECT count(*) FROM {quote_ident(name)} WHERE source = ?", [source]
        ).fetchall()[0][0]
        if not held:
            continue
        select = package.shared_select_sql(table, lookup=lookup)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {SHARED} AS {select}", [source])
        if name != "person_record" and table.kind in ("event", "detail"):
            withheld = check_no_identifiers(con, name, source)
            if withheld:
                counts[f"{name}: values holding their own record's identifier, withheld"] = withheld
        rows = con.sql(f"SELECT * FROM {SHARED}").to_arrow_table()
        counts.update(_count_cuts(con, table, source))
        con.execute(f"DROP TABLE {SHARED}")
        if package.PSEUDONYMISED in rows.column_names:
            index = rows.column_names.index(package.PSEUDONYMISED)
            rows = rows.set_column(
                index,
                package.PSEUDONYMISED,
                _hash_column(rows.column(package.PSEUDONYMISED), pseudonym_key),
            )
        meta = package.rows_metadata(name, source, rows.num_rows)
        shared[name] = rows.replace_schema_metadata(meta)
    return shared, counts


def _count_cuts(con: duckdb.DuckDBPyConnection, table: Table, source: str) -> dict[str, int]:
    """How many values of `table` were cut or replaced by the package's policy."""
    counts: dict[str, int] = {}
    name = table.name
    if name == package.MARKER_COLUMN[0]:
        marker = package.no_fixed_abode_sql("address", "postcode")
        counts["person_record.postcode: no fixed abode marker"] = _scalar(
            con, f"SELECT count(*) FROM person_record WHERE source = ? AND {marker}", source
        )
    for column in package.COARSENED_QUASI.get(name, ()):
        counts[f"{name}.{column}: cut to sector"] = _scalar(
            con,
            f"SELECT count({quote_ident(column)}) FROM {quote_ident(name)} WHERE source = ?",
            source,
        )
    if name == package.AT_HOME:
        placed = con.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE small_area IS NULL) FROM {SHARED} s
            JOIN (SELECT t.source, t.event_id FROM event t
                  JOIN person_record p USING (source, record_id)
                  WHERE t.source = ? AND {package.at_home_sql()}) h USING (source, event_id)""",
            [source],
        ).fetchall()[0]
        counts["event: at the person's home postcode, placed by small area only"] = int(
            placed[0] - placed[1]
        )
        counts["event: at the person's home postcode, left unplaced (no small area)"] = int(
            placed[1]
        )
    return {k: v for k, v in counts.items() if v}


def _load_lookup(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The partner's postcode lookup as LOOKUP_TABLE (postcode_key, small_area)."""
    if not path.is_file():
        raise EncodeError(f"{path}: the postcode lookup does not exist")
    try:
        con.execute(
            "CREATE TEMP TABLE lookup_in AS SELECT * FROM read_csv(?, all_varchar = true)",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise EncodeError(f"{path}: cannot be read as CSV ({exc})") from None
    columns = {str(d[0]) for d in con.execute("SELECT * FROM lookup_in LIMIT 0").description or []}
    missing = [c for c in ("postcode", "small_area") if c not in columns]
    if missing:
        raise EncodeError(f"{path}: the postcode lookup has no column {', '.join(missing)}")
    con.execute(
        f"""CREATE TEMP TABLE {package.LOOKUP_TABLE} AS
        SELECT {postcodes.compact("postcode")} AS postcode_key, any_value(small_area) AS small_area
        FROM lookup_in WHERE nullif(trim(small_area), '') IS NOT NULL GROUP BY ALL"""
    )
    con.execute("DROP TABLE lookup_in")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, source: str) -> int:
    return int(con.execute(sql, [source]).fetchall()[0][0])


def encode_file(
    spec: MappingSpec | Path | str,
    file: Path | str,
    *,
    key: LinkageKey,
    schema: EncodingSchema | None = None,
    out: Path,
    rows: bool = True,
    postcodes_file: Path | str | None = None,
) -> EncodeSummary:
    """`encode_extracts` for one extract."""
    return encode_extracts(
        [(spec, file)], key=key, schema=schema, out=out, rows=rows, postcodes_file=postcodes_file
    )


def encode_extracts(
    extracts: Sequence[tuple[MappingSpec | Path | str, Path | str]],
    *,
    key: LinkageKey,
    schema: EncodingSchema | None = None,
    out: Path,
    rows: bool = True,
    postcodes_file: Path | str | None = None,
) -> EncodeSummary:
    """Map, validate and standardise a partner's extracts exactly as ``sectorlink ingest``
    does, then encode its person records to `out` (Parquet) and, with `rows`, write its
    common-model rows without their identifiers beside it, with a manifest
    (``sectorlink.pprl.package``: what travels and why).

    `extracts` are (spec, file) pairs of one source (a partner's person file and the
    event files that refer to it); person-bearing ones are ingested first, all into one
    in-memory warehouse, so events are checked against their person records and no
    plaintext copy is left on disk. Every file is written to a temporary name and moved
    into place at the end, the manifest last: a package is whole, or its manifest does
    not match it and the hub refuses it.

    `postcodes_file` is a public postcode-to-small-area lookup (CSV with `postcode` and
    `small_area` columns, as ONS's NSPL gives): an event at the person's own home postcode
    travels as that postcode's small area; without it such an event travels unplaced.

    Raises:
        SourceError: a spec or a file is unusable (the same errors as ingest).
        EncodeError: specs of different sources, nothing to encode, a plaintext
            identifier in what would travel, an unwritable output.
    """
    if not extracts:
        raise EncodeError("give at least one spec and extract")
    schema = schema or load_schema(None)
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise EncodeError(f"{out}: the output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise EncodeError(f"{out}: the output folder {folder} is not writable")
    pairs = [(s if isinstance(s, MappingSpec) else load_spec(s), Path(f)) for s, f in extracts]
    sources = sorted({s.source for s, _ in pairs})
    if len(sources) > 1:
        raise EncodeError(
            f"the specs are of different sources ({', '.join(sources)}); encode each "
            "partner's data set on its own"
        )
    source = sources[0]
    # person-bearing extracts first, so events find their person records (as the demo loads)
    pairs.sort(key=lambda pair: pair[0].person is None)
    if pairs[0][0].person is None:
        raise EncodeError(
            f"{pairs[0][0].path or source}: no spec maps person records, so there is nothing "
            "to encode; give the partner's person file with its event files"
        )
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        ensure_schema(con)
        loads = [ingest(spec, file, con=con) for spec, file in pairs]
        records = "(SELECT * FROM person_record WHERE source = " + _lit(source) + ")"
        table = encode_records(con, key, schema, table=records)
        if table.num_rows == 0:
            rejected = sum(r.rows_rejected for r in loads)
            raise EncodeError(
                f"{pairs[0][1]}: no person record passed validation ({rejected} rejected); "
                "nothing to encode"
            )
        lookup = postcodes_file is not None
        if postcodes_file is not None:
            _load_lookup(con, Path(postcodes_file))
        shared, counts = _shared_rows(con, key, source, lookup=lookup) if rows else ({}, {})
    finally:
        con.close()
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    summary = EncodeSummary(
        out=out,
        records=table.num_rows,
        fingerprint=str(meta["schema_fingerprint"]),
        fields={n: int(f["bits"]) for n, f in meta["fields"].items()},
        tokens=list(schema.tokens),
        loads=loads,
        source=source,
        counts=counts,
    )
    if not rows:
        write_atomic(table, out)
        summary.bytes = {out.name: out.stat().st_size}
        return summary
    _write_package(summary, table, shared, pairs, loads)
    return summary


def _write_package(
    summary: EncodeSummary,
    encodings: pa.Table,
    shared: dict[str, pa.Table],
    pairs: list[tuple[MappingSpec, Path]],
    loads: list[LoadResult],
) -> None:
    """Write every file under a temporary name, then move them into place: rows files,
    the encodings, the manifest last."""
    out = summary.out
    manifest_path, table_paths = package.package_paths(out)
    staged: list[tuple[Path, Path]] = []
    try:
        files: list[package.PackagedFile] = []
        for role, data, target in [("encodings", encodings, out)] + [
            (name, data, table_paths[name]) for name, data in shared.items()
        ]:
            tmp = _temp_name(target)
            staged.append((tmp, target))
            pq.write_table(data, tmp, compression="zstd")
            files.append(
                package.PackagedFile(
                    role=role,
                    path=target,
                    rows=data.num_rows,
                    sha256=file_sha256(tmp),
                    bytes=tmp.stat().st_size,
                    blocks=package.block_digests(data),
                )
            )
        extracts = [
            {
                "spec": spec.path.name if spec.path else None,
                "file": file.name,
                "rows_read": load.rows_read,
                "rows_rejected": load.rows_rejected,
            }
            for (spec, file), load in zip(pairs, loads, strict=True)
        ]
        document = package.manifest_json(
            source=summary.source,
            fingerprint=summary.fingerprint,
            files=files,
            counts=summary.counts,
            extracts=extracts,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        tmp_manifest = _temp_name(manifest_path)
        staged.append((tmp_manifest, manifest_path))
        tmp_manifest.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        raise EncodeError(f"{out}: cannot write the package: {exc.strerror or exc}") from None
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
    summary.tables = {name: table_paths[name] for name in shared}
    summary.rows = {name: data.num_rows for name, data in shared.items()}
    summary.manifest = manifest_path
    summary.bytes = {f.path.name: f.bytes for f in files}
    summary.bytes[manifest_path.name] = manifest_path.stat().st_size


def _temp_name(target: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
