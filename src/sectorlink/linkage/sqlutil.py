"""Small helpers for running SQL on DuckDB connections."""

from __future__ import annotations

from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row, or None.

    Uses fetchall: in DuckDB 2 a result read with fetchone stays open and blocks the
    connection's next statement.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """Every row of ``sql`` as a dict keyed by column name (for report templates)."""
    rel = con.sql(sql)
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
    )


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
