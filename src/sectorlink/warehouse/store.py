"""Open the DuckDB warehouse and make sure the model tables exist."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from sectorlink.model.catalogue import table_definition, tables_of
from sectorlink.model.ddl import add_column_sql, create_table_sql, model_ddl
from sectorlink.model.sql import table_exists

DEFAULT_WAREHOUSE = Path("sectorlink.duckdb")
CHECKPOINT_THRESHOLD = "1GB"

# Lineage and load bookkeeping beside the model tables: every table the catalogue says the
# warehouse writes (model.hub_tables).
HUB_DDL = tuple(create_table_sql(t) for t in tables_of("warehouse"))

# Columns added to hub and model tables after warehouses were made with them.
HUB_ADDED_COLUMNS = (("rejects", "code"), ("person_record", "alias"))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the model and hub tables that do not exist yet, and add the columns a
    warehouse made by an older version lacks (a reject's code, a person's alias)."""
    for statement in (*model_ddl(), *HUB_DDL):
        con.execute(statement)
    for table, column in HUB_ADDED_COLUMNS:
        con.execute(add_column_sql(table_definition(table), column))


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


__all__ = [
    "CHECKPOINT_THRESHOLD",
    "DEFAULT_WAREHOUSE",
    "HUB_DDL",
    "WarehouseError",
    "connect",
    "ensure_schema",
    "table_exists",
]
