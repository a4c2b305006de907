"""DuckDB DDL derived from the model tables."""

from __future__ import annotations

from sectorlink.model.tables import TABLES
from sectorlink.model.types import DUCKDB_TYPES, Table


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (a column name from a partner's file may hold anything)."""
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(
    table: Table,
    *,
    name: str | None = None,
    if_not_exists: bool = True,
    primary_key: bool = False,
) -> str:
    """CREATE TABLE for a model table.

    The warehouse declares no PRIMARY KEY by default: DuckDB backs one with an in-memory
    index that slows bulk loads several-fold and holds gigabytes at a million people.
    Keys are kept unique by ingest instead (duplicates in a file are rejected; an id sent
    again replaces the earlier row), and tests check that no key repeats.
    """
    columns = []
    for f in table.fields:
        not_null = " NOT NULL" if f.required else ""
        columns.append(f"    {quote_ident(f.name)} {DUCKDB_TYPES[f.type]}{not_null}")
    if primary_key:
        key = ", ".join(quote_ident(k) for k in table.primary_key)
        columns.append(f"    PRIMARY KEY ({key})")
    guard = "IF NOT EXISTS " if if_not_exists else ""
    body = ",\n".join(columns)
    return f"CREATE TABLE {guard}{quote_ident(name or table.name)} (\n{body}\n)"


def model_ddl() -> list[str]:
    """CREATE TABLE statements for every model table, in dependency order."""
    return [create_table_sql(t) for t in TABLES.values()]
