"""Which organisation loaded each file into the warehouse, under which agreement."""

from __future__ import annotations

import datetime as dt

import duckdb

from sectorlink.model.catalogue import table_definition
from sectorlink.model.ddl import create_table_sql

LOAD_AUTHORITY = "load_authority"
DDL = create_table_sql(table_definition(LOAD_AUTHORITY))


def record_load_authority(
    con: duckdb.DuckDBPyConnection,
    *,
    load_id: str,
    organisation: str,
    basis: str,
    access_audit_entry: int,
    load_audit_entry: int,
    actor: str,
) -> None:
    """Record (or, for a reload, replace) who loaded `load_id` and on what basis
    (`owner` or the agreement's reference)."""
    con.execute(DDL)
    con.execute(
        f"INSERT OR REPLACE INTO {LOAD_AUTHORITY} VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            organisation,
            basis,
            access_audit_entry,
            load_audit_entry,
            actor,
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
        ],
    )
