"""The Parquet reader: typed columns staged as the text a CSV would hold."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sectorlink.model import quote_ident, scalar
from sectorlink.sources.errors import FileFormatError
from sectorlink.sources.readers.staged import STAGING, StagedFile, check_header
from sectorlink.sources.reasons import FileErrorCode


def stage_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> StagedFile:
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise FileFormatError(
            f"not a readable Parquet file: {str(exc).splitlines()[0]}",
            file=path,
            code=FileErrorCode.PARQUET_UNREADABLE,
        ) from None
    header = [str(r[0]) for r in described]
    types = {str(r[0]): str(r[1]) for r in described}
    check_header(path, header)
    columns = {name: f"c{i}" for i, name in enumerate(header)}
    select = ", ".join(
        f"{_parquet_text(quote_ident(name), types[name])} AS {c}" for name, c in columns.items()
    )
    unmappable = {
        name: kind
        for name, kind in types.items()
        if kind in ("BLOB", "BIT")
        or kind.endswith("]")
        or kind.startswith(("STRUCT", "MAP", "UNION"))
    }
    con.execute(f"DROP TABLE IF EXISTS {STAGING}_raw")
    try:
        con.execute(
            f"CREATE TEMP TABLE {STAGING}_raw AS SELECT {select} FROM read_parquet(?)", [str(path)]
        )
    except duckdb.Error as exc:
        raise FileFormatError(
            f"cannot read the Parquet data: {str(exc).splitlines()[0]}",
            file=path,
            code=FileErrorCode.PARQUET_UNREADABLE,
        ) from None
    # Parquet has no header row: rows are numbered from 1.
    con.execute(f"CREATE TEMP VIEW {STAGING} AS SELECT rowid + 1 AS __row, * FROM {STAGING}_raw")
    rows = scalar(con, f"SELECT count(*) FROM {STAGING}_raw")
    return StagedFile(
        path=path,
        format="parquet",
        columns=columns,
        rows=int(rows or 0),
        unmappable=unmappable,
    )


def _parquet_text(column: str, kind: str) -> str:
    """A Parquet value as text. A whole number held as a float (pandas stores an integer
    column with gaps as float64, so an NHS number arrives as 9434765919.0) is written as an
    integer, as Excel's numbers are."""
    if kind not in ("DOUBLE", "FLOAT"):
        return f"CAST({column} AS VARCHAR)"
    return (
        f"CASE WHEN isfinite({column}) AND {column} = trunc({column}) "
        f"AND abs({column}) < 9007199254740992 THEN CAST(CAST({column} AS BIGINT) AS VARCHAR) "
        f"ELSE CAST({column} AS VARCHAR) END"
    )
