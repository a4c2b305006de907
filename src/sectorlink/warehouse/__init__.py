"""The DuckDB warehouse: one file holding the common model, lineage and linkage output."""

from sectorlink.warehouse.store import (
    DEFAULT_WAREHOUSE,
    WarehouseError,
    connect,
    ensure_schema,
    table_exists,
)

__all__ = ["DEFAULT_WAREHOUSE", "WarehouseError", "connect", "ensure_schema", "table_exists"]
