"""The `alert` table: care-coordination alerts, kept in the warehouse across runs.

Its own write connection (not `ctx.keep`, which replaces a table whole): alerts are
inserted once, keyed by the organisation, the attendance's source and its event id, and
afterwards only their delivery, acknowledgement and withdrawal columns change. The alert
id is derived from that key, so a rerun, a reloaded extract or a re-linkage finds the
same alert instead of making a second one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from sectorlink.model.catalogue import table_definition
from sectorlink.model.ddl import create_table_sql
from sectorlink.model.sql import table_exists
from sectorlink.warehouse.store import connect

ALERT_TABLE = "alert"
# Defined in the catalogue (model.insight_tables), as are what each column holds.
ALERT_COLUMNS = table_definition(ALERT_TABLE).field_names
DDL = create_table_sql(table_definition(ALERT_TABLE))


class AlertNotFound(LookupError):
    """No alert with that id for that organisation."""


class AlertWithdrawn(ValueError):
    """The alert was withdrawn (its link no longer holds) and cannot be acknowledged."""


def utc_now() -> dt.datetime:
    """Now in UTC, without a zone (the warehouse's TIMESTAMP columns hold UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def alert_id(organisation: str, source: str, event_id: str) -> str:
    """The alert's id: the same for the same provider and attendance, whenever raised."""
    key = "\x1f".join((organisation.strip().casefold(), source, event_id))
    return "AL-" + hashlib.sha256(key.encode()).hexdigest()[:20]


@contextmanager
def open_store(warehouse: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection to the warehouse with the alert table made sure of."""
    con = connect(warehouse)
    try:
        con.execute(DDL).fetchall()
        yield con
    finally:
        con.close()


@contextmanager
def read_store(warehouse: Path | str) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection, or None when the warehouse holds no alert table yet."""
    con = connect(warehouse, read_only=True)
    try:
        yield con if table_exists(con, ALERT_TABLE) else None
    finally:
        con.close()


def existing(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every alert's key columns and state."""
    return con.execute(
        f"""SELECT alert_id, organisation, source, event_id, arrival_time, withdrawn_at
        FROM {ALERT_TABLE}"""
    ).df()


def insert(con: duckdb.DuckDBPyConnection, alerts: pd.DataFrame) -> int:
    """Insert alerts not already there (by alert id); returns how many were new."""
    if alerts.empty:
        return 0
    columns = [c for c in ALERT_COLUMNS if c in alerts.columns]
    con.register("_new_alerts", alerts[columns])
    try:
        row = con.execute(
            f"""INSERT INTO {ALERT_TABLE} ({", ".join(columns)})
            SELECT {", ".join(columns)} FROM _new_alerts n
            WHERE NOT EXISTS (SELECT 1 FROM {ALERT_TABLE} a WHERE a.alert_id = n.alert_id)"""
        ).fetchone()
        return int(row[0]) if row else 0
    finally:
        con.unregister("_new_alerts")


def set_withdrawn(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str], *, reason: str, at: dt.datetime
) -> None:
    if ids:
        con.execute(
            f"""UPDATE {ALERT_TABLE} SET withdrawn_at = ?, withdrawn_reason = ?
            WHERE alert_id IN (SELECT unnest(?::VARCHAR[])) AND withdrawn_at IS NULL""",
            [at, reason, list(ids)],
        ).fetchall()


def reinstate(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> None:
    if ids:
        con.execute(
            f"""UPDATE {ALERT_TABLE} SET withdrawn_at = NULL, withdrawn_reason = NULL
            WHERE alert_id IN (SELECT unnest(?::VARCHAR[]))""",
            [list(ids)],
        ).fetchall()


def alerts_for(
    con: duckdb.DuckDBPyConnection,
    organisation: str,
    *,
    since: dt.date | None = None,
    include_withdrawn: bool = True,
    created_on: dt.date | None = None,
) -> pd.DataFrame:
    """One organisation's alerts, oldest attendance first."""
    where = ["lower(organisation) = lower(?)"]
    params: list[Any] = [organisation.strip()]
    if since is not None:
        where.append("arrival_time >= ?")
        params.append(since)
    if not include_withdrawn:
        where.append("withdrawn_at IS NULL")
    if created_on is not None:
        where.append("(created_at::DATE = ? OR withdrawn_at::DATE = ?)")
        params += [created_on, created_on]
    return con.execute(
        f"""SELECT * FROM {ALERT_TABLE} WHERE {" AND ".join(where)}
        ORDER BY arrival_time, alert_id""",
        params,
    ).df()


def mark_delivered(con: duckdb.DuckDBPyConnection, ids: Sequence[str], at: dt.datetime) -> None:
    if ids:
        con.execute(
            f"""UPDATE {ALERT_TABLE} SET delivered_at = ?
            WHERE alert_id IN (SELECT unnest(?::VARCHAR[])) AND delivered_at IS NULL""",
            [at, list(ids)],
        ).fetchall()


def acknowledge(
    warehouse: Path | str, organisation: str, alert: str, *, by: str, at: dt.datetime | None = None
) -> dict[str, Any]:
    """Mark one of `organisation`'s alerts acknowledged (the first time counts).

    Raises:
        AlertNotFound: no such alert for this organisation (another's alert is not found
            either: the caller checks who may ask before calling).
        AlertWithdrawn: the alert was withdrawn.
    """
    with open_store(warehouse) as con:
        row = con.execute(
            f"SELECT withdrawn_at FROM {ALERT_TABLE} WHERE alert_id = ? AND "
            "lower(organisation) = lower(?)",
            [alert, organisation.strip()],
        ).fetchone()
        if row is None:
            raise AlertNotFound(f"{organisation} has no alert {alert!r}")
        if row[0] is not None:
            raise AlertWithdrawn(f"alert {alert} was withdrawn on {row[0]:%Y-%m-%d %H:%M} UTC")
        moment = at or utc_now()
        con.execute(
            f"""UPDATE {ALERT_TABLE} SET acknowledged_at = ?, acknowledged_by = ?,
                   delivered_at = coalesce(delivered_at, ?)
            WHERE alert_id = ? AND acknowledged_at IS NULL""",
            [moment, by, moment, alert],
        ).fetchall()
        frame = con.execute(f"SELECT * FROM {ALERT_TABLE} WHERE alert_id = ?", [alert]).df()
    return dict(frame.iloc[0])
