"""The SQL helpers every package uses: quoting, literal lists, one value, rows, whether a
table exists.

Defined once here, at the bottom of the import order (`model`), so the warehouse, linkage,
the encoders and the analyses all quote and read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (a column name from a partner's file may hold anything)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Quote a string as an SQL literal (for SQL that cannot take a parameter)."""
    return "'" + text.replace("'", "''") + "'"


def literal_list(values: Iterable[str]) -> str:
    """`('a', 'b')`: string literals for an `IN` list (an empty list matches nothing)."""
    quoted = [quote_literal(v) for v in values]
    return "(" + (", ".join(quoted) if quoted else "NULL") + ")"


def integer_array(values: Iterable[int]) -> str:
    """`[1, 2]::INTEGER[]`: whole numbers as a DuckDB list literal, sorted and distinct,
    for `list_contains` (an empty list holds nothing)."""
    return "[" + ", ".join(str(int(v)) for v in sorted(set(values))) + "]::INTEGER[]"


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row, or None.

    Uses fetchall: in DuckDB 2 a result read with fetchone stays open and blocks the
    connection's next statement.
    """
    result = con.execute(sql, params or []).fetchall()
    return result[0][0] if result else None


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """Every row of ``sql`` as a dict keyed by column name (for report templates)."""
    rel = con.sql(sql)
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view called `name` exists in any attached database."""
    return bool(
        scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
    )
