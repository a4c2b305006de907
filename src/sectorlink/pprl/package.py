"""What a partner sends in privacy-preserving mode besides its encodings, and how it is
described and checked.

A partner's package is three kinds of file, side by side:

* ``NAME.parquet``: the encodings (``source``, ``record_id``, ``bf_*``, ``tok_*``);
* ``NAME.<table>.parquet``: the partner's common-model rows of one table (events, their
  details, properties and inspections, and its person records without their identifiers),
  keyed by the partner's own record id, so the hub's person index joins them;
* ``NAME.manifest.json``: the package's contents: per file its rows, bytes, SHA-256 and
  a digest per block of rows, the columns withheld, and counts of the values cut.

What travels (docs/pprl-hub.md, "What travels beside the encodings", says why):

* every column of every model table **except the columns the model marks as identifiers**
  (``Field.identifier``: names, dates of birth, birth year, sex, address, postcode,
  national numbers, phone, email, the partner's person id) and the hub's ``load_id``;
* an event's place (postcode, coordinates, small area) travels as recorded: it is what
  the analyses place events with, shared under the agreement covering the events; but an
  event whose postcode is the person's own home postcode (an ambulance call-out at home,
  a lead test recorded at the home) is placed at the home's small area only: its
  postcode and coordinates are withheld and its small area is the one given, or the
  one a public postcode lookup the partner holds gives (``encode --postcodes``);
* a property, which in the lead programme is a tested child's home, travels as its small
  area and attributes: ``property.address``, ``property.latitude`` and
  ``property.longitude`` are withheld, ``property.postcode`` is cut to its sector (UK) or
  three-digit ZIP, and every ``property_id`` (a UPRN anyone can look up) travels as a
  keyed pseudonym, so a test, its property and the property's inspections still join;
* the one value of an identifier column that names no place and no person: the NHS
  pseudo-postcode ``ZZ99 3VZ`` (no fixed abode) in ``person_record.postcode``, where the
  record's address or postcode says no fixed abode; the hospital's own homelessness
  marker (the homeless-care analysis) reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from sectorlink.identity import postcodes
from sectorlink.model import TABLES, Table, quote_ident
from sectorlink.model import identifier_columns as model_identifier_columns

PACKAGE_FORMAT = "sectorlink-pprl-package/1"
ROWS_METADATA_KEY = b"sectorlink.pprl.rows"
BLOCK_ROWS = 10_000
"""Rows per block digest: a changed file is reported with the rows that differ."""

# The NHS Data Dictionary's pseudo-postcode for no fixed abode, and the addresses front
# desks write for it: the same rule as insights.context's record flag (which the hub's
# homeless-care analysis reads), kept here because pprl must not import insights.
NO_FIXED_ABODE_POSTCODE = "ZZ99 3VZ"
NO_FIXED_ABODE_ADDRESSES = ("nfa", "no fixed abode", "no fixed address")

PSEUDONYMISED = "property_id"
"""Travels as a keyed pseudonym in every table holding it."""
WITHHELD_QUASI = {"property": ("address", "latitude", "longitude")}
COARSENED_QUASI = {"property": ("postcode",)}
AT_HOME = "event"
"""The table whose rows placed at the person's own home postcode travel as a small area."""
AT_HOME_WITHHELD = ("postcode", "latitude", "longitude")
LOOKUP_TABLE = "sl_postcode_area"
"""The partner's public postcode lookup in its in-memory warehouse: (postcode_key, small_area)."""
MARKER_COLUMN = ("person_record", "postcode")
"""An identifier column that carries the no-fixed-abode pseudo-postcode only."""

PSEUDONYM_PATTERN = "^[0-9a-f]{32}$"
# A UK postcode sector ('NG1 5') or a three-digit ZIP prefix: what a cut postcode looks like.
COARSE_POSTCODE_PATTERN = r"^([A-Z]{1,2}[0-9][A-Z0-9]? [0-9]|[0-9]{3})$"


class PackageError(ValueError):
    """A package that cannot be loaded; says which file, and where in it."""

    def __init__(
        self, message: str, *, file: Path, column: str | None = None, row: int | None = None
    ) -> None:
        where = str(file)
        if row is not None:
            where += f", row {row:,}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.column = column
        self.row = row


def identifier_columns(table: Table) -> tuple[str, ...]:
    """The columns the model marks as identifying a person (the catalogue's list)."""
    return model_identifier_columns(table.name)


def withheld_columns(table: Table) -> tuple[str, ...]:
    """Columns that never leave the partner: identifiers (except the marker column), the
    hub's own load id, and the quasi-identifiers withheld for this table."""
    marker = {MARKER_COLUMN[1]} if table.name == MARKER_COLUMN[0] else set()
    drop = (set(identifier_columns(table)) - marker) | {"load_id"}
    drop |= set(WITHHELD_QUASI.get(table.name, ()))
    return tuple(f.name for f in table.fields if f.name in drop)


def shared_columns(table: Table) -> tuple[str, ...]:
    """The model columns of `table` that travel, in the model's order."""
    withheld = set(withheld_columns(table))
    return tuple(f.name for f in table.fields if f.name not in withheld)


def coarse_postcode_sql(expr: str) -> str:
    """A postcode cut to its UK sector ('NG1 5') or three-digit ZIP; NULL otherwise."""
    c = postcodes.compact(expr)
    return f"coalesce({postcodes.sector(c)}, {postcodes.district(c)})"


def no_fixed_abode_sql(address: str, postcode: str) -> str:
    """TRUE where a person record says no fixed abode (its postcode or its address)."""
    addresses = ", ".join(f"'{a}'" for a in NO_FIXED_ABODE_ADDRESSES)
    return (
        f"(upper(replace({postcode}, ' ', '')) = '{NO_FIXED_ABODE_POSTCODE.replace(' ', '')}' "
        f"OR lower(trim({address})) IN ({addresses}))"
    )


def at_home_sql() -> str:
    """TRUE for an event whose postcode is its person record's own (home) postcode."""
    home = postcodes.compact("p.postcode")
    return f"({postcodes.compact('t.postcode')} = {home} AND {home} <> '')"


def shared_select_sql(table: Table, *, lookup: bool = False) -> str:
    """The SELECT (parameter: the source) of what travels of `table`, from a partner's
    in-memory warehouse (with `lookup`, one holding LOOKUP_TABLE). Pseudonyms are made
    afterwards, in Python, with the key."""
    columns = shared_columns(table)
    exprs: list[str] = []
    joins = ""
    if table.name == AT_HOME:
        joins = " LEFT JOIN person_record p ON p.source = t.source AND p.record_id = t.record_id"
        if lookup:
            joins += (
                f" LEFT JOIN {LOOKUP_TABLE} g ON g.postcode_key = {postcodes.compact('t.postcode')}"
            )
    for name in columns:
        col = f"t.{quote_ident(name)}"
        if table.name == AT_HOME and name in AT_HOME_WITHHELD:
            exprs.append(f"CASE WHEN {at_home_sql()} THEN NULL ELSE {col} END AS {name}")
        elif table.name == AT_HOME and name == "small_area":
            area = f"coalesce({col}, g.small_area)" if lookup else col
            exprs.append(f"CASE WHEN {at_home_sql()} THEN {area} ELSE {col} END AS {name}")
        elif (table.name, name) == MARKER_COLUMN:
            marker = no_fixed_abode_sql("t.address", "t.postcode")
            exprs.append(f"CASE WHEN {marker} THEN '{NO_FIXED_ABODE_POSTCODE}' END AS {name}")
        elif name in COARSENED_QUASI.get(table.name, ()):
            exprs.append(f"{coarse_postcode_sql(col)} AS {name}")
        else:
            exprs.append(f"{col} AS {quote_ident(name)}")
    order = ", ".join(f"t.{quote_ident(k)}" for k in table.primary_key)
    return (
        f"SELECT {', '.join(exprs)} FROM {quote_ident(table.name)} t{joins} "
        f"WHERE t.source = ? ORDER BY {order}"
    )


def package_paths(encodings: Path) -> tuple[Path, dict[str, Path]]:
    """The manifest's path and each model table's rows file beside `encodings`."""
    stem = encodings.stem
    manifest = encodings.with_name(f"{stem}.manifest.json")
    return manifest, {name: encodings.with_name(f"{stem}.{name}.parquet") for name in TABLES}


def block_digests(table: pa.Table) -> list[str]:
    """MD5 of each block of BLOCK_ROWS rows (as DuckDB prints them), in file order.

    Only used to say *where* a file differs once its SHA-256 has refused it, so a
    difference in how two versions print a value can mislocate, never admit, a change."""
    if table.num_rows == 0:
        return []
    con = duckdb.connect()
    try:
        indexed = table.append_column("__i", pa.array(range(table.num_rows), pa.int64()))
        con.register("t", indexed)
        cols = ", ".join(
            f"coalesce(CAST({quote_ident(c)} AS VARCHAR), '\\N')" for c in table.column_names
        )
        rows = con.execute(
            f"""SELECT __i // {BLOCK_ROWS} AS b,
                   md5(string_agg(concat_ws(chr(31), {cols}), chr(30) ORDER BY __i))
            FROM t GROUP BY b ORDER BY b"""
        ).fetchall()
    finally:
        con.close()
    return [str(r[1]) for r in rows]


def rows_metadata(table: str, source: str, rows: int) -> dict[bytes, bytes]:
    """The Parquet metadata that names a rows file's table and source."""
    info = {"format": PACKAGE_FORMAT, "table": table, "source": source, "rows": rows}
    return {ROWS_METADATA_KEY: json.dumps(info, sort_keys=True).encode()}


@dataclass
class PackagedFile:
    """One file of a package as its manifest describes it."""

    role: str
    """`encodings` or a model table's name."""
    path: Path
    rows: int
    sha256: str
    bytes: int
    blocks: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "blocks": self.blocks,
        }


def manifest_json(
    *,
    source: str,
    fingerprint: str,
    files: Sequence[PackagedFile],
    counts: dict[str, int],
    extracts: list[dict[str, Any]],
    created_at: str,
) -> dict[str, Any]:
    """The manifest: what is in the package, what was withheld and what was cut."""
    tables = {f.role: f for f in files if f.role != "encodings"}
    encodings = next(f for f in files if f.role == "encodings")
    return {
        "format": PACKAGE_FORMAT,
        "source": source,
        "created_at": created_at,
        "schema_fingerprint": fingerprint,
        "block_rows": BLOCK_ROWS,
        "encodings": encodings.to_json(),
        "tables": {
            name: {**f.to_json(), "columns": list(shared_columns(TABLES[name]))}
            for name, f in tables.items()
        },
        "withheld": {
            name: list(withheld_columns(TABLES[name])) for name in tables if name in TABLES
        },
        "pseudonymised": [
            f"{name}.{PSEUDONYMISED}"
            for name in tables
            if PSEUDONYMISED in shared_columns(TABLES[name])
        ],
        "counts": counts,
        "extracts": extracts,
    }


_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest at `path`, its shape checked (not yet its files)."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackageError(f"cannot read the manifest: {exc.strerror}", file=path) from None
    except (ValueError, UnicodeDecodeError):
        raise PackageError("the manifest is not valid JSON (truncated?)", file=path) from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACKAGE_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise PackageError(f"package format {found!r} is not {PACKAGE_FORMAT!r}", file=path)
    for key in ("source", "encodings", "tables"):
        if key not in manifest:
            raise PackageError(f"the manifest has no {key!r}", file=path)
    entries = [("encodings", manifest["encodings"]), *manifest["tables"].items()]
    for role, entry in entries:
        if role != "encodings" and role not in TABLES:
            raise PackageError(f"lists {role!r}, which is not a table of the model", file=path)
        if not isinstance(entry, dict) or not all(
            k in entry for k in ("file", "rows", "sha256", "bytes")
        ):
            raise PackageError(f"its entry for {role} lacks file, rows, bytes or sha256", file=path)
        if not _NAME.match(str(entry["file"])):
            # a name, not a path: a manifest cannot point the hub at a file elsewhere
            raise PackageError(f"its entry for {role} names {entry['file']!r}", file=path)
    return manifest


def check_changed(path: Path, entry: dict[str, Any], actual_sha: str, block_rows: int) -> None:
    """Raise for a file whose SHA-256 differs from its manifest entry, saying where."""
    if actual_sha == entry["sha256"]:
        return
    size = path.stat().st_size
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError):
        raise PackageError(
            f"is not the file the partner wrote: {size:,} bytes where the manifest says "
            f"{int(entry['bytes']):,}, and not readable as Parquet (truncated or corrupted)",
            file=path,
        ) from None
    if table.num_rows != int(entry["rows"]):
        raise PackageError(
            f"holds {table.num_rows:,} rows where the manifest says {int(entry['rows']):,} "
            "(truncated or changed after encoding); nothing loaded",
            file=path,
        )
    expected = list(entry.get("blocks") or [])
    for index, digest in enumerate(block_digests(table)):
        if index >= len(expected) or digest != expected[index]:
            first = index * block_rows + 1
            last = min((index + 1) * block_rows, table.num_rows)
            raise PackageError(
                f"rows {first:,}-{last:,} differ from what the partner wrote (its SHA-256 "
                "does not match the manifest); changed after encoding? Nothing loaded",
                file=path,
                row=first,
            )
    raise PackageError(
        "its SHA-256 does not match the manifest (changed after encoding: the rows read the "
        "same, so its metadata or layout changed); nothing loaded",
        file=path,
    )
