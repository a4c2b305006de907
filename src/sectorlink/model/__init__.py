"""The common data model: tables, fields, code sets and crosswalks, defined once.

DuckDB DDL, Table Schema exports and docs/data-model.md are all derived from here.
"""

from sectorlink.model.codesets import CODE_SETS, EVENT_TYPE_DOMAINS, get_code_set
from sectorlink.model.ddl import create_table_sql, model_ddl, quote_ident
from sectorlink.model.export import data_model_markdown, export_schemas, table_schema
from sectorlink.model.tables import DETAIL_TABLES, TABLES, get_table
from sectorlink.model.types import (
    FOLD_CODE_SQL,
    Code,
    CodeSet,
    Field,
    Table,
    collapse_space_sql,
    fold_code,
)

__all__ = [
    "CODE_SETS",
    "DETAIL_TABLES",
    "EVENT_TYPE_DOMAINS",
    "FOLD_CODE_SQL",
    "TABLES",
    "Code",
    "CodeSet",
    "Field",
    "Table",
    "collapse_space_sql",
    "create_table_sql",
    "data_model_markdown",
    "export_schemas",
    "fold_code",
    "get_code_set",
    "get_table",
    "model_ddl",
    "quote_ident",
    "table_schema",
]
