"""DuckDB DDL derived from the catalogue's table definitions."""

from __future__ import annotations

from sectorlink.model.sql import quote_ident
from sectorlink.model.tables import TABLES
from sectorlink.model.types import DUCKDB_TYPES, Table


def create_table_sql(
    table: Table,
    *,
    name: str | None = None,
    if_not_exists: bool = True,
    primary_key: bool | None = None,
) -> str:
    """CREATE TABLE for a catalogued table (`name` overrides its name, e.g. for staging).

    `primary_key` None follows the definition (`Table.declare_key`). The model's tables
    declare none: DuckDB backs a key with an in-memory index that slows bulk loads
    several-fold and holds gigabytes at a million people. Their keys are kept unique by
    ingest instead (duplicates in a file are rejected; an id sent again replaces the
    earlier row), and tests check that no key repeats. Columns a table gains as data
    arrive (`Table.column_patterns`) are added by their writer with `add_column_sql`.
    """
    columns = []
    for f in table.fields:
        not_null = " NOT NULL" if f.required else ""
        default = f" DEFAULT {f.default}" if f.default is not None else ""
        columns.append(f"    {quote_ident(f.name)} {DUCKDB_TYPES[f.type]}{not_null}{default}")
    declare = table.declare_key if primary_key is None else primary_key
    if declare and table.primary_key:
        key = ", ".join(quote_ident(k) for k in table.primary_key)
        columns.append(f"    PRIMARY KEY ({key})")
    guard = "IF NOT EXISTS " if if_not_exists else ""
    body = ",\n".join(columns)
    return f"CREATE TABLE {guard}{quote_ident(name or table.name)} (\n{body}\n)"


def add_column_sql(table: Table, column: str) -> str:
    """ALTER TABLE ... ADD COLUMN IF NOT EXISTS for a field or a pattern column (an
    encoded file's `bf_<field>`), typed as the definition says."""
    kind = DUCKDB_TYPES[table.column_type(column)]
    return (
        f"ALTER TABLE {quote_ident(table.name)} "
        f"ADD COLUMN IF NOT EXISTS {quote_ident(column)} {kind}"
    )


def model_ddl() -> list[str]:
    """CREATE TABLE statements for every model table, in dependency order."""
    return [create_table_sql(t) for t in TABLES.values()]
