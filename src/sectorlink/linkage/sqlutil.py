"""The SQL helpers linkage uses, defined once in :mod:`sectorlink.model.sql`."""

from __future__ import annotations

from sectorlink.model.sql import (
    literal_list,
    quote_ident,
    quote_literal,
    rows,
    scalar,
    table_exists,
)

__all__ = ["literal_list", "quote_ident", "quote_literal", "rows", "scalar", "table_exists"]
