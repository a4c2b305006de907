"""The linkage tables in the warehouse, and the one transaction that publishes a run.

A run writes everything into ``*__staging`` tables first; :func:`publish` swaps them in
and appends to the history tables in a single transaction. A run stopped at any point
before that leaves the previous person index exactly as it was.
"""

from __future__ import annotations

import duckdb

from sectorlink.model.catalogue import table_definition, tables_of
from sectorlink.model.ddl import create_table_sql
from sectorlink.model.sql import table_exists

# The person index: one row per person record, replaced whole by each run.
PERSON_INDEX = "person_index"
# Scored pairs of the latest run (those above a low floor), replaced whole by each run.
LINKAGE_PAIRS = "linkage_pairs"
# Identifier quality of the latest run (values nulled as invalid, per source).
IDENTIFIER_QUALITY = "linkage_identifier_quality"
# Appended to by every run.
LINKAGE_RUN = "linkage_run"
PERSON_KEY_HISTORY = "person_key_history"

STAGING_SUFFIX = "__staging"

# Defined in model.hub_tables: what each table holds, and whether a run replaces it whole
# or appends to it.
TABLE_DOCS: dict[str, str] = {t.name: t.description for t in tables_of("linkage")}
REPLACED: tuple[str, ...] = tuple(
    t.name for t in tables_of("linkage") if t.lifecycle.startswith("replaced")
)
APPENDED: tuple[str, ...] = tuple(
    t.name for t in tables_of("linkage") if t.lifecycle.startswith("appended")
)


def _create(name: str, *, as_name: str | None = None, if_not_exists: bool = True) -> str:
    return create_table_sql(table_definition(name), name=as_name, if_not_exists=if_not_exists)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the linkage tables that do not exist yet (empty)."""
    for name in (*REPLACED, *APPENDED):
        con.execute(_create(name))


def staging(name: str) -> str:
    return name + STAGING_SUFFIX


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Remove staging tables a stopped run left behind."""
    for name in (*REPLACED, *APPENDED):
        con.execute(f"DROP TABLE IF EXISTS {staging(name)}")


def create_staging(con: duckdb.DuckDBPyConnection) -> None:
    drop_staging(con)
    for name in (*REPLACED, *APPENDED):
        con.execute(_create(name, as_name=staging(name), if_not_exists=False))


def publish(con: duckdb.DuckDBPyConnection) -> None:
    """Swap the staged tables in and append the staged history, all or nothing."""
    con.execute("BEGIN TRANSACTION")
    try:
        for name in REPLACED:
            con.execute(f"DROP TABLE IF EXISTS {name}")
            con.execute(f"ALTER TABLE {staging(name)} RENAME TO {name}")
        for name in APPENDED:
            con.execute(f"INSERT INTO {name} SELECT * FROM {staging(name)}")
            con.execute(f"DROP TABLE {staging(name)}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def has_index(con: duckdb.DuckDBPyConnection) -> bool:
    return table_exists(con, PERSON_INDEX)
