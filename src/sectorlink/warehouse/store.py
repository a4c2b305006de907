"""Open the DuckDB warehouse and make sure the model tables exist."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from sectorlink.model import model_ddl

DEFAULT_WAREHOUSE = Path("sectorlink.duckdb")
CHECKPOINT_THRESHOLD = "1GB"

# Lineage and load bookkeeping, beside the model tables.
HUB_DDL = (
    """CREATE TABLE IF NOT EXISTS load (
        load_id VARCHAR PRIMARY KEY,
        source VARCHAR NOT NULL,
        spec_path VARCHAR,
        spec_sha256 VARCHAR NOT NULL,
        file_path VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        file_bytes BIGINT NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_rejected BIGINT NOT NULL,
        rows_replaced BIGINT NOT NULL,
        rows_written JSON NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        superseded_by VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS rejects (
        load_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        file_path VARCHAR NOT NULL,
        source_row BIGINT NOT NULL,
        target VARCHAR NOT NULL,
        column_name VARCHAR,
        reason VARCHAR NOT NULL,
        raw JSON NOT NULL,
        code VARCHAR
    )""",
    # An invalid value in a field its row can do without: stored as empty, the row loaded.
    """CREATE TABLE IF NOT EXISTS field_issues (
        load_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        file_path VARCHAR NOT NULL,
        source_row BIGINT NOT NULL,
        column_name VARCHAR,
        field VARCHAR NOT NULL,
        code VARCHAR NOT NULL,
        reason VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS load_quality (
        load_id VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        rows BIGINT NOT NULL,
        present BIGINT NOT NULL,
        valid BIGINT NOT NULL,
        rule VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS unmapped_code (
        load_id VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        column_name VARCHAR NOT NULL,
        local_value VARCHAR NOT NULL,
        rows BIGINT NOT NULL,
        first_row BIGINT NOT NULL
    )""",
)


# Columns added to hub tables after warehouses were made with them.
HUB_ADDED_COLUMNS = (("rejects", "code", "VARCHAR"),)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the model and hub tables that do not exist yet, and add the columns a
    warehouse made by an older version lacks (a reject's code)."""
    for statement in (*model_ddl(), *HUB_DDL):
        con.execute(statement)
    for table, column, kind in HUB_ADDED_COLUMNS:
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")


class WarehouseError(Exception):
    """The warehouse file cannot be opened: a folder, not a DuckDB file, or in use."""


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def _open_error(path: Path, exc: duckdb.Error) -> WarehouseError:
    message = str(exc)
    if path.is_dir():
        return WarehouseError(f"warehouse {path} is a folder; give a file, e.g. {path}/hub.duckdb")
    if "not a valid DuckDB database file" in message:
        return WarehouseError(
            f"warehouse {path} exists but is not a DuckDB database; give another path, or move "
            "that file away"
        )
    holder = _LOCK_HOLDER.search(message)
    if holder is not None or "Could not set lock" in message:
        who = f" (process {holder.group(2)}, {Path(holder.group(1)).name})" if holder else ""
        return WarehouseError(
            f"warehouse {path} is open for writing in another process{who}; DuckDB lets one "
            "process write at a time: close it (a notebook, sectorlink serve, another load) "
            "and run this again"
        )
    return WarehouseError(f"cannot open warehouse {path}: {message.splitlines()[0]}")


def connect(
    path: Path | str = DEFAULT_WAREHOUSE, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open (creating when needed) the warehouse file; its schema is made sure of on write.

    Raises:
        FileNotFoundError: `read_only` and the file does not exist.
        WarehouseError: the path is a folder, not a DuckDB file, or locked by another process.
    """
    path = Path(path)
    # Progress is shown by sectorlink's own (Rich) bars, not DuckDB's terminal bar.
    if read_only and not path.exists():
        raise FileNotFoundError(f"warehouse {path} does not exist; ingest an extract first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise _open_error(path, exc) from None
    if not read_only:
        ensure_schema(con)
        # DuckDB checkpoints whenever the write-ahead log passes 16 MB, so a region's
        # loads each paid for one (ingest of a 200k-person region: 12 -> 9.5 s of CPU
        # without them). The log is checkpointed when the connection closes.
        con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    con.execute("SET enable_progress_bar = false")
    return con


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    # fetchall closes the result; an open one would hold the connection's next statement.
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows and rows[0][0])
