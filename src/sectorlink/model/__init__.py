"""The common data model and every other table the hub writes, defined once.

`model.tables` holds the tables partners map their extracts to; `model.hub_tables` and
`model.insight_tables` the hub's own; `model.catalogue` puts them together. DuckDB DDL,
Table Schema exports, docs/data-model.md and the identifier and linkage column lists are
all derived from there. `model.sql` holds the SQL helpers every package shares.
"""

from sectorlink.model.catalogue import (
    CATALOGUE,
    FrameMismatch,
    check_frame,
    columns_with_role,
    identifier_columns,
    table_definition,
)
from sectorlink.model.codesets import CODE_SETS, EVENT_TYPE_DOMAINS, get_code_set
from sectorlink.model.ddl import add_column_sql, create_table_sql, model_ddl
from sectorlink.model.export import data_model_markdown, export_schemas, table_schema
from sectorlink.model.sql import quote_ident, quote_literal, scalar, table_exists
from sectorlink.model.tables import DETAIL_TABLES, TABLES, get_table
from sectorlink.model.types import (
    FOLD_CODE_SQL,
    Code,
    CodeSet,
    ColumnPattern,
    Field,
    Table,
    collapse_space_sql,
    fold_code,
)

__all__ = [
    "CATALOGUE",
    "CODE_SETS",
    "DETAIL_TABLES",
    "EVENT_TYPE_DOMAINS",
    "FOLD_CODE_SQL",
    "TABLES",
    "Code",
    "CodeSet",
    "ColumnPattern",
    "Field",
    "FrameMismatch",
    "Table",
    "add_column_sql",
    "check_frame",
    "collapse_space_sql",
    "columns_with_role",
    "create_table_sql",
    "data_model_markdown",
    "export_schemas",
    "fold_code",
    "get_code_set",
    "get_table",
    "identifier_columns",
    "model_ddl",
    "quote_ident",
    "quote_literal",
    "scalar",
    "table_definition",
    "table_exists",
    "table_schema",
]
