"""Load encoded extracts (made by ``sectorlink encode``) into the hub's warehouse.

An encoded file holds only ``source``, ``record_id``, keyed Bloom filters (``bf_*``) and
keyed exact tokens (``tok_*``), with the encoding's keyed fingerprint in its Parquet
metadata. Every file is checked in full before anything is written; the files of one
call load in one transaction, so a bad file leaves the warehouse exactly as it was.
Encodings made with a different key or schema than those already in the warehouse are
refused: they would link nothing, silently.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sectorlink.sources.loader import file_sha256
from sectorlink.warehouse.store import DEFAULT_WAREHOUSE, connect, table_exists

ENCODED_TABLE = "encoded_person"
ENCODING_TABLE = "encoding_fingerprint"
METADATA_KEY = b"sectorlink.pprl"
FORMAT = "sectorlink-pprl/1"
TOKEN_PATTERN = "^[0-9a-f]{32}$"
_COLUMN = re.compile(r"^(bf|tok)_[a-z][a-z0-9_]*$")


class EncodedFileError(ValueError):
    """An encoded file that cannot be loaded; says which file, and where in it."""

    def __init__(
        self, message: str, *, file: Path, column: str | None = None, row: int | None = None
    ) -> None:
        where = str(file)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.column = column
        self.row = row


@dataclass
class EncodedExtract:
    """One encoded file, read and checked."""

    path: Path
    table: pa.Table
    fingerprint: str
    bits: dict[str, int]
    sha256: str

    @property
    def sources(self) -> list[str]:
        return sorted(pc.unique(self.table["source"]).to_pylist())


@dataclass
class EncodedLoad:
    file: Path
    status: Literal["loaded", "skipped"]
    sources: list[str]
    records: int
    load_id: str | None = None
    replaced: int = 0
    notes: list[str] = field(default_factory=list)


def read_encoded(path: Path | str) -> EncodedExtract:
    """Read and check one encoded file; raise :class:`EncodedFileError` on any problem."""
    path = Path(path)
    if not path.exists():
        raise EncodedFileError("file not found", file=path)
    if path.is_dir():
        raise EncodedFileError("this is a folder; give the encoded .parquet file", file=path)
    try:
        parquet = pq.ParquetFile(path)
        table = parquet.read()
    except (pa.ArrowException, OSError) as exc:
        raise EncodedFileError(
            f"not a readable Parquet file (truncated or corrupted?): {exc}", file=path
        ) from None
    meta = _metadata(path, parquet.schema_arrow.metadata)
    bits = _check_columns(path, table, meta)
    if table.num_rows == 0:
        raise EncodedFileError("the file holds no records", file=path)
    if meta.get("records") not in (None, table.num_rows):
        raise EncodedFileError(
            f"holds {table.num_rows:,} records but was written with {meta['records']:,}",
            file=path,
        )
    _check_keys(path, table)
    return EncodedExtract(path, table, str(meta["schema_fingerprint"]), bits, file_sha256(path))


def _metadata(path: Path, raw: dict[bytes, bytes] | None) -> dict[str, Any]:
    if not raw or METADATA_KEY not in raw:
        raise EncodedFileError(
            "no sectorlink encoding metadata: this file was not written by `sectorlink encode`",
            file=path,
        )
    try:
        meta = json.loads(raw[METADATA_KEY])
    except ValueError:
        raise EncodedFileError("its encoding metadata is not valid JSON", file=path) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise EncodedFileError(f"encoding format {found!r} is not {FORMAT!r}", file=path)
    if not meta.get("schema_fingerprint"):
        raise EncodedFileError("its encoding metadata has no schema fingerprint", file=path)
    return meta


def _check_columns(path: Path, table: pa.Table, meta: dict[str, Any]) -> dict[str, int]:
    fields = meta.get("fields") or {}
    bits: dict[str, int] = {}
    for name in ("source", "record_id"):
        if name not in table.column_names:
            raise EncodedFileError("column missing", file=path, column=name)
        if not pa.types.is_string(table.schema.field(name).type):
            raise EncodedFileError("must be text", file=path, column=name)
    for col in table.column_names:
        if col in ("source", "record_id"):
            continue
        if not _COLUMN.match(col):
            raise EncodedFileError(
                "is not part of an encoding (only source, record_id, bf_* and tok_* columns "
                "may travel); a plaintext column left in by a mapping mistake? Refused",
                file=path,
                column=col,
            )
        kind = table.schema.field(col).type
        if col.startswith("bf_"):
            if not pa.types.is_fixed_size_binary(kind) or kind.byte_width % 8:
                raise EncodedFileError(
                    f"a Bloom filter column must be fixed-size binary of a multiple of 8 bytes, "
                    f"not {kind}",
                    file=path,
                    column=col,
                )
            declared = (fields.get(col[3:]) or {}).get("bits")
            if declared != kind.byte_width * 8:
                raise EncodedFileError(
                    f"filters are {kind.byte_width * 8} bits but the metadata says {declared}",
                    file=path,
                    column=col,
                )
            bits[col[3:]] = declared
        else:
            _check_tokens(path, table, col)
    if not bits and not any(c.startswith("tok_") for c in table.column_names):
        raise EncodedFileError("no encoded identifier columns (bf_* or tok_*)", file=path)
    return bits


def _check_tokens(path: Path, table: pa.Table, col: str) -> None:
    column = table[col]
    if not pa.types.is_string(column.type):
        raise EncodedFileError(
            f"a token column must be text, not {column.type}", file=path, column=col
        )
    bad = pc.invert(pc.fill_null(pc.match_substring_regex(column, TOKEN_PATTERN), True))
    if pc.any(bad).as_py():
        row = int(pc.index(bad, True).as_py())
        raise EncodedFileError(
            "holds a value that is not a keyed token (32 hex digits); refused in case it is "
            "a plaintext identifier",
            file=path,
            column=col,
            row=row + 1,
        )


def _check_keys(path: Path, table: pa.Table) -> None:
    for name in ("source", "record_id"):
        nulls = table[name].null_count
        if nulls:
            row = int(pc.index(pc.is_null(table[name]), True).as_py())
            raise EncodedFileError("empty value", file=path, column=name, row=row + 1)
    con = duckdb.connect()
    try:
        con.register("t", table.select(["source", "record_id"]))
        dup = con.execute(
            """SELECT source, record_id, list(rn ORDER BY rn)[1:2] FROM (
                   SELECT source, record_id, row_number() OVER () AS rn FROM t)
               GROUP BY ALL HAVING count(*) > 1 LIMIT 1"""
        ).fetchall()
    finally:
        con.close()
    if dup:
        source, record_id, rows = dup[0]
        raise EncodedFileError(
            f"record {source}/{record_id} appears twice (rows {rows[0]} and {rows[1]})",
            file=path,
            column="record_id",
        )


def warehouse_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    if not table_exists(con, ENCODING_TABLE):
        return None
    rows = con.execute(f"SELECT fingerprint FROM {ENCODING_TABLE} LIMIT 1").fetchall()
    return str(rows[0][0]) if rows else None


def check_same_encoding(extracts: Sequence[EncodedExtract], existing: str | None) -> None:
    """Refuse encodings from different keys or schemas in one warehouse."""
    reference = existing or extracts[0].fingerprint
    for extract in extracts:
        if extract.fingerprint != reference:
            against = (
                "the encodings already in the warehouse" if existing else str(extracts[0].path)
            )
            raise EncodedFileError(
                f"was encoded with a different key or encoding schema than {against} "
                f"(fingerprint {extract.fingerprint[:12]}… vs {reference[:12]}…); "
                "every partner must encode with the same shared key and schema file",
                file=extract.path,
            )


def load_encoded(
    files: Sequence[Path | str],
    *,
    warehouse: Path | str = DEFAULT_WAREHOUSE,
    con: duckdb.DuckDBPyConnection | None = None,
    replace: bool = False,
) -> list[EncodedLoad]:
    """Check every file, then load them all into ``encoded_person`` in one transaction.

    A file already loaded (same content) is skipped unless ``replace``; a record sent
    again replaces the earlier row of the same (source, record_id).

    Example:
        >>> files = ["council.enc.parquet", "ae.enc.parquet"]
        >>> load_encoded(files, warehouse="hub.duckdb")  # doctest: +SKIP
    """
    if not files:
        raise ValueError("give at least one encoded file")
    extracts = [read_encoded(f) for f in files]
    own = con is None
    if con is None:
        con = connect(warehouse)
    try:
        check_same_encoding(extracts, warehouse_fingerprint(con))
        return _load(con, extracts, replace)
    finally:
        if own:
            con.close()


def _load(
    con: duckdb.DuckDBPyConnection, extracts: list[EncodedExtract], replace: bool
) -> list[EncodedLoad]:
    results: list[EncodedLoad] = []
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"""CREATE TABLE IF NOT EXISTS {ENCODING_TABLE} (
                fingerprint VARCHAR NOT NULL, fields JSON NOT NULL, first_loaded TIMESTAMP)"""
        )
        con.execute(
            f"""CREATE TABLE IF NOT EXISTS {ENCODED_TABLE} (
                source VARCHAR NOT NULL, record_id VARCHAR NOT NULL, load_id VARCHAR NOT NULL)"""
        )
        for extract in extracts:
            results.append(_load_one(con, extract, replace))
        if not con.execute(f"SELECT 1 FROM {ENCODING_TABLE}").fetchall():
            con.execute(
                f"INSERT INTO {ENCODING_TABLE} VALUES (?, ?, ?)",
                [extracts[0].fingerprint, json.dumps(extracts[0].bits), _now()],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return results


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _load_one(
    con: duckdb.DuckDBPyConnection, extract: EncodedExtract, replace: bool
) -> EncodedLoad:
    started = _now()
    sources = extract.sources
    source_label = ",".join(sources)
    previous = con.execute(
        "SELECT load_id FROM load WHERE source = ? AND file_sha256 = ? AND superseded_by IS NULL",
        [source_label, extract.sha256],
    ).fetchall()
    if previous and not replace:
        return EncodedLoad(extract.path, "skipped", sources, extract.table.num_rows)
    load_id = "enc-" + uuid.uuid4().hex[:12]
    existing = {r[0] for r in con.execute(f"DESCRIBE {ENCODED_TABLE}").fetchall()}
    for col in extract.table.column_names:
        if col not in existing:
            kind = "BLOB" if col.startswith("bf_") else "VARCHAR"
            con.execute(f'ALTER TABLE {ENCODED_TABLE} ADD COLUMN "{col}" {kind}')
    con.register("sl_encoded_in", extract.table)
    try:
        replaced = con.execute(
            f"""DELETE FROM {ENCODED_TABLE} e USING sl_encoded_in n
                WHERE e.source = n.source AND e.record_id = n.record_id"""
        ).fetchall()[0][0]
        con.execute(
            f"""INSERT INTO {ENCODED_TABLE} BY NAME
                SELECT *, '{load_id}' AS load_id FROM sl_encoded_in"""
        )
    finally:
        con.unregister("sl_encoded_in")
    if previous:
        con.execute(
            "UPDATE load SET superseded_by = ? WHERE load_id = ?", [load_id, previous[0][0]]
        )
    rows = extract.table.num_rows
    con.execute(
        "INSERT INTO load VALUES (?, ?, NULL, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, NULL)",
        [
            load_id,
            source_label,
            extract.fingerprint,
            str(extract.path),
            extract.sha256,
            extract.path.stat().st_size,
            rows,
            int(replaced),
            json.dumps({ENCODED_TABLE: rows}),
            started,
            _now(),
        ],
    )
    return EncodedLoad(extract.path, "loaded", sources, rows, load_id, int(replaced))
