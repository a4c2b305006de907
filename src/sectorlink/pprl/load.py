"""Load encoded extracts (made by ``sectorlink encode``) into the hub's warehouse.

An encoded file holds only ``source``, ``record_id``, keyed Bloom filters (``bf_*``) and
keyed exact tokens (``tok_*``), with the encoding's keyed fingerprint in its Parquet
metadata. Every file is checked in full before anything is written; the files of one
call load in one transaction, so a bad file leaves the warehouse exactly as it was.
Encodings made with a different key or schema than those already in the warehouse are
refused: they would link nothing, silently.

A partner's package (``sectorlink encode``: encodings, its common-model rows without
identifiers, a manifest; ``sectorlink.pprl.package``) loads whole: every file's SHA-256 and
rows are checked against the manifest, every column against the model's identifier marks
and every key against the encodings, and the rows go into the same warehouse tables as
plain ingest (``event``, the detail tables, ``property``...) in the same transaction as the
encodings, so the analyses read them unchanged.
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

from sectorlink.model import TABLES, quote_ident, scalar
from sectorlink.model.catalogue import table_definition
from sectorlink.model.ddl import add_column_sql, create_table_sql
from sectorlink.model.types import DUCKDB_TYPES
from sectorlink.pprl import package
from sectorlink.pprl.package import PackageError
from sectorlink.sources.loader import file_sha256
from sectorlink.warehouse.store import DEFAULT_WAREHOUSE, connect, table_exists

ENCODED_TABLE = "encoded_person"
ENCODING_TABLE = "encoding_fingerprint"
METADATA_KEY = b"sectorlink.pprl"
FORMAT = "sectorlink-pprl/1"
TOKEN_PATTERN = "^[0-9a-f]{32}$"
_COLUMN = re.compile(r"^(bf|tok)_[a-z][a-z0-9_]*$")


class EncodedFileError(PackageError):
    """An encoded file that cannot be loaded; says which file, and where in it."""


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
class SharedRows:
    """One model table's rows of a package, read and checked."""

    table: str
    path: Path
    data: pa.Table
    sha256: str


@dataclass
class EncodedPackage:
    """A partner's package: its encodings and its rows, checked against its manifest."""

    manifest_path: Path
    manifest: dict[str, Any]
    sha256: str
    """Of the manifest, which holds every other file's SHA-256: the package's identity."""
    encodings: EncodedExtract
    rows: dict[str, SharedRows]

    def files(self) -> dict[str, Path]:
        """Role -> path of every file, for the audit log."""
        found = {"manifest": self.manifest_path, "encodings": self.encodings.path}
        return found | {name: r.path for name, r in self.rows.items()}


@dataclass
class EncodedLoad:
    file: Path
    status: Literal["loaded", "skipped"]
    sources: list[str]
    records: int
    load_id: str | None = None
    replaced: int = 0
    notes: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    """Model table -> rows loaded from the package (empty for encodings alone)."""
    files: dict[str, Path] = field(default_factory=dict)
    """Role -> file read (manifest, encodings, each table)."""


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
    if raw and package.ROWS_METADATA_KEY in raw:
        raise EncodedFileError(
            "this is one table of a partner's package; give the package's manifest "
            "(NAME.manifest.json) or its encodings file, so it is checked whole",
            file=path,
        )
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


def find_package(path: Path | str) -> Path | None:
    """The manifest of the package `path` belongs to (a manifest itself, or the encodings
    file beside one); None for an encodings file sent alone."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return path
    manifest, _ = package.package_paths(path)
    return manifest if manifest.exists() else None


def read_package(manifest_path: Path | str) -> EncodedPackage:
    """Read a package and check all of it; raise PackageError (or EncodedFileError for the
    encodings) naming the file, and the row and column where there is one."""
    manifest_path = Path(manifest_path)
    if not manifest_path.is_file():
        raise PackageError("manifest not found", file=manifest_path)
    manifest = package.read_manifest(manifest_path)
    block_rows = int(manifest.get("block_rows") or package.BLOCK_ROWS)
    source = str(manifest["source"])

    def checked(entry: dict[str, Any]) -> tuple[Path, str]:
        path = manifest_path.with_name(str(entry["file"]))
        if not path.is_file():
            raise PackageError(
                f"listed in the manifest ({manifest_path.name}) but missing", file=path
            )
        sha = file_sha256(path)
        package.check_changed(path, entry, sha, block_rows)
        return path, sha

    enc_path, _ = checked(manifest["encodings"])
    encodings = read_encoded(enc_path)
    if encodings.sources != [source]:
        raise PackageError(
            f"holds records of {', '.join(encodings.sources)} but the manifest is of {source}",
            file=enc_path,
        )
    if encodings.fingerprint != manifest.get("schema_fingerprint"):
        raise PackageError("its encoding fingerprint differs from the manifest's", file=enc_path)
    rows: dict[str, SharedRows] = {}
    for name in TABLES:  # model order: person records and events before their details
        entry = manifest["tables"].get(name)
        if entry is None:
            continue
        path, sha = checked(entry)
        try:
            data = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise PackageError(f"not a readable Parquet file: {exc}", file=path) from None
        rows[name] = SharedRows(name, path, data, sha)
    _check_rows(source, encodings, rows)
    return EncodedPackage(manifest_path, manifest, file_sha256(manifest_path), encodings, rows)


def _check_rows(source: str, encodings: EncodedExtract, rows: dict[str, SharedRows]) -> None:
    """Columns against what may travel, values against their model types, keys against
    the encodings and the events, in one DuckDB session over the Arrow tables."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("enc_ids", encodings.table.select(["record_id"]))
        for name, shared in rows.items():
            _check_columns_of(shared)
            indexed = shared.data.append_column(
                "__row", pa.array(range(1, shared.data.num_rows + 1), pa.int64())
            )
            con.register(f"in_{name}", indexed)
        for shared in rows.values():
            _check_values(con, source, shared, has_events="event" in rows)
    finally:
        con.close()


def _check_columns_of(shared: SharedRows) -> None:
    table = TABLES[shared.table]
    allowed = set(package.shared_columns(table))
    identifiers = set(package.identifier_columns(table))
    for column in shared.data.column_names:
        if column in allowed:
            continue
        why = (
            "an identifier (the model marks it so): it never travels"
            if column in identifiers
            else "not a column that travels in this table"
        )
        raise PackageError(f"is {why}; refused", file=shared.path, column=column)
    for key in table.primary_key:
        if key not in shared.data.column_names:
            raise PackageError("key column missing", file=shared.path, column=key)


def _first_bad(con: duckdb.DuckDBPyConnection, table: str, where: str) -> int | None:
    first = scalar(con, f"SELECT min(__row) FROM in_{table} WHERE {where}")
    return None if first is None else int(first)


def _check_values(
    con: duckdb.DuckDBPyConnection, source: str, shared: SharedRows, *, has_events: bool
) -> None:
    name, path = shared.table, shared.path
    table = TABLES[name]
    fields = {f.name: f for f in table.fields}
    checks: list[tuple[str, str, str]] = [
        (
            "source",
            f"source IS DISTINCT FROM '{source.replace(chr(39), chr(39) * 2)}'",
            f"is not the package's source {source}",
        ),
    ]
    for column in shared.data.column_names:
        f = fields[column]
        col = quote_ident(column)
        if f.required:
            checks.append((column, f"{col} IS NULL", "empty, but the model requires it"))
        kind = DUCKDB_TYPES[f.type]
        checks.append(
            (
                column,
                f"{col} IS NOT NULL AND TRY_CAST({col} AS {kind}) IS NULL",
                f"not a valid {f.type}",
            )
        )
    if (name, "postcode") == package.MARKER_COLUMN and "postcode" in fields:
        checks.append(
            (
                "postcode",
                f"postcode IS NOT NULL AND postcode <> '{package.NO_FIXED_ABODE_POSTCODE}'",
                f"holds a postcode; only the no-fixed-abode marker "
                f"{package.NO_FIXED_ABODE_POSTCODE} travels here",
            ),
        )
    for column in package.COARSENED_QUASI.get(name, ()):
        checks.append(
            (
                column,
                f"{quote_ident(column)} IS NOT NULL AND NOT regexp_matches("
                f"{quote_ident(column)}, '{package.COARSE_POSTCODE_PATTERN}')",
                "is not cut to a postcode sector or three-digit ZIP",
            ),
        )
    if package.PSEUDONYMISED in shared.data.column_names:
        checks.append(
            (
                package.PSEUDONYMISED,
                f"{package.PSEUDONYMISED} IS NOT NULL AND NOT regexp_matches("
                f"{package.PSEUDONYMISED}, '{package.PSEUDONYM_PATTERN}')",
                "is not a keyed pseudonym (32 hex digits); a plain property id?",
            ),
        )
    if "record_id" in fields and table.kind in ("person", "event"):
        checks.append(
            (
                "record_id",
                "record_id NOT IN (SELECT record_id FROM enc_ids)",
                "refers to a record that is not in the package's encodings",
            ),
        )
    if table.kind == "detail":
        events = "SELECT event_id FROM in_event" if has_events else "SELECT NULL"
        checks.append(
            (
                "event_id",
                f"event_id NOT IN ({events})",
                "refers to an event that is not in the package's events",
            ),
        )
    for column, where, message in checks:
        row = _first_bad(con, name, where)
        if row is not None:
            raise PackageError(message, file=path, column=column, row=row)
    keys = ", ".join(quote_ident(k) for k in table.primary_key)
    dup = con.execute(
        f"""SELECT list(__row ORDER BY __row)[1:2] FROM in_{name}
            GROUP BY {keys} HAVING count(*) > 1 ORDER BY min(__row) LIMIT 1"""
    ).fetchall()
    if dup:
        first, second = dup[0][0]
        raise PackageError(
            f"the key ({keys}) appears twice (rows {first:,} and {second:,})",
            file=path,
            row=first,
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
    """Check every file, then load them all in one transaction: the encodings into
    ``encoded_person`` and a package's rows into the model's tables.

    A file may be a package's manifest, a package's encodings file (its manifest beside it
    is found and the whole package loaded) or an encodings file sent alone. A file or
    package already loaded (same content) is skipped unless ``replace``; a record, event
    or property sent again replaces the earlier row of the same key.

    Example:
        >>> files = ["council.enc.manifest.json", "ae.enc.parquet"]
        >>> load_encoded(files, warehouse="hub.duckdb")  # doctest: +SKIP
    """
    return load_checked(read_all(files), warehouse=warehouse, con=con, replace=replace)


def load_checked(
    items: Sequence[EncodedExtract | EncodedPackage],
    *,
    warehouse: Path | str = DEFAULT_WAREHOUSE,
    con: duckdb.DuckDBPyConnection | None = None,
    replace: bool = False,
) -> list[EncodedLoad]:
    """`load_encoded` for files already read and checked by `read_all` (the CLI reads them
    before the access check, so it names the data sets and hashes without reading twice)."""
    own = con is None
    if con is None:
        con = connect(warehouse)
    try:
        extracts = [i.encodings if isinstance(i, EncodedPackage) else i for i in items]
        check_same_encoding(extracts, warehouse_fingerprint(con))
        return _load(con, list(items), replace)
    finally:
        if own:
            con.close()


def read_all(files: Sequence[Path | str]) -> list[EncodedExtract | EncodedPackage]:
    """Read and check every file (a package whole); nothing is written."""
    if not files:
        raise ValueError("give at least one encoded file")
    items: list[EncodedExtract | EncodedPackage] = []
    seen: set[Path] = set()
    for f in files:
        manifest = find_package(f)
        key = (manifest or Path(f)).resolve()
        if key in seen:  # a package's manifest and its encodings named together
            continue
        seen.add(key)
        items.append(read_package(manifest) if manifest else read_encoded(f))
    return items


def _load(
    con: duckdb.DuckDBPyConnection,
    items: list[EncodedExtract | EncodedPackage],
    replace: bool,
) -> list[EncodedLoad]:
    results: list[EncodedLoad] = []
    first = items[0].encodings if isinstance(items[0], EncodedPackage) else items[0]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(create_table_sql(table_definition(ENCODING_TABLE)))
        con.execute(create_table_sql(table_definition(ENCODED_TABLE)))
        for item in items:
            if isinstance(item, EncodedPackage):
                results.append(_load_one(con, item.encodings, replace, item))
            else:
                results.append(_load_one(con, item, replace))
        if not con.execute(f"SELECT 1 FROM {ENCODING_TABLE}").fetchall():
            con.execute(
                f"INSERT INTO {ENCODING_TABLE} VALUES (?, ?, ?)",
                [first.fingerprint, json.dumps(first.bits), _now()],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return results


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _load_one(
    con: duckdb.DuckDBPyConnection,
    extract: EncodedExtract,
    replace: bool,
    pkg: EncodedPackage | None = None,
) -> EncodedLoad:
    started = _now()
    sources = extract.sources
    source_label = ",".join(sources)
    # a package is known by its manifest, which holds every other file's SHA-256
    sha = pkg.sha256 if pkg else extract.sha256
    path = pkg.manifest_path if pkg else extract.path
    files = pkg.files() if pkg else {"encodings": extract.path}
    previous = con.execute(
        "SELECT load_id FROM load WHERE source = ? AND file_sha256 = ? AND superseded_by IS NULL",
        [source_label, sha],
    ).fetchall()
    if previous and not replace:
        return EncodedLoad(path, "skipped", sources, extract.table.num_rows, files=files)
    load_id = "enc-" + uuid.uuid4().hex[:12]
    existing = {r[0] for r in con.execute(f"DESCRIBE {ENCODED_TABLE}").fetchall()}
    encoded = table_definition(ENCODED_TABLE)
    for col in extract.table.column_names:
        if col not in existing:  # a field encoded for the first time: bf_* or tok_*
            con.execute(add_column_sql(encoded, col))
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
    rows_loaded = {
        name: _insert_rows(con, r, load_id) for name, r in (pkg.rows if pkg else {}).items()
    }
    if previous:
        con.execute(
            "UPDATE load SET superseded_by = ? WHERE load_id = ?", [load_id, previous[0][0]]
        )
    rows = extract.table.num_rows
    written = {ENCODED_TABLE: rows, **rows_loaded}
    size = sum(p.stat().st_size for p in files.values())
    con.execute(
        "INSERT INTO load VALUES (?, ?, NULL, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, NULL)",
        [
            load_id,
            source_label,
            extract.fingerprint,
            str(path),
            sha,
            size,
            rows + sum(rows_loaded.values()),
            int(replaced),
            json.dumps(written),
            started,
            _now(),
        ],
    )
    notes = (
        []
        if pkg
        else [f"{extract.path}: no package manifest beside it, so encodings only (no events)"]
    )
    return EncodedLoad(
        path, "loaded", sources, rows, load_id, int(replaced), notes, rows_loaded, files
    )


def _insert_rows(con: duckdb.DuckDBPyConnection, shared: SharedRows, load_id: str) -> int:
    """Put one table's rows into the warehouse table plain ingest writes, replacing rows of
    the same key (and, for an event sent again, its old details)."""
    table = TABLES[shared.table]
    name = quote_ident(table.name)
    types = {f.name: DUCKDB_TYPES[f.type] for f in table.fields}
    con.register("sl_rows_in", shared.data)
    try:
        keys = ", ".join(quote_ident(k) for k in table.primary_key)
        con.execute(f"DELETE FROM {name} WHERE ({keys}) IN (SELECT ({keys}) FROM sl_rows_in)")
        if table.name == "event":
            for detail in (t for t in TABLES.values() if t.kind == "detail"):
                con.execute(
                    f"""DELETE FROM {quote_ident(detail.name)} WHERE (source, event_id) IN
                        (SELECT (source, event_id) FROM sl_rows_in)"""
                )
        select = ", ".join(
            f"CAST({quote_ident(c)} AS {types[c]}) AS {quote_ident(c)}"
            for c in shared.data.column_names
        )
        con.execute(
            f"INSERT INTO {name} BY NAME SELECT {select}, '{load_id}' AS load_id FROM sl_rows_in"
        )
    finally:
        con.unregister("sl_rows_in")
    return int(shared.data.num_rows)
