"""Every table the hub writes, in one place: the common model's, the warehouse's, linkage's,
the encodings', the analyses', and the linkage input the hub builds per run.

The DDL (`model.ddl`), the Table Schema export and docs/data-model.md (`model.export`) and
the column lists code relies on (`identifier_columns`, `columns_with_role`) all come from
here. To add a table: define it in `model.tables` (a partner-mapped table),
`model.hub_tables` or `model.insight_tables`, add it to that module's tuple, and
regenerate the docs (`sectorlink model docs`).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from sectorlink.model.hub_tables import (
    DERIVED_TABLES,
    LINKAGE_INPUT,
    LINKAGE_TABLES,
    PPRL_TABLES,
    WAREHOUSE_TABLES,
)
from sectorlink.model.insight_tables import INSIGHT_TABLES
from sectorlink.model.tables import TABLES
from sectorlink.model.types import FieldType, Layer, Table

CATALOGUE: dict[str, Table] = {
    t.name: t
    for t in (
        *TABLES.values(),
        *WAREHOUSE_TABLES,
        *LINKAGE_TABLES,
        *PPRL_TABLES,
        *INSIGHT_TABLES,
        *DERIVED_TABLES,
    )
}

LAYER_TITLES: dict[Layer, str] = {
    "model": "The common model (mapped from partner extracts)",
    "warehouse": "Load bookkeeping (warehouse)",
    "linkage": "The person index (linkage)",
    "pprl": "Encodings (privacy-preserving linkage)",
    "insights": "Analysis results (insights)",
    "identity": "Built per run, never stored",
}


def table_definition(name: str) -> Table:
    """The definition of any table the hub writes.

    Raises:
        KeyError: no such table, with the known names.
    """
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise KeyError(f"no table {name!r} in the catalogue; known tables: {known}") from None


def tables_of(layer: Layer) -> tuple[Table, ...]:
    """The catalogued tables `layer` writes, in definition order."""
    return tuple(t for t in CATALOGUE.values() if t.layer == layer)


def identifier_columns(table: str = "person_record", *, quasi: bool = True) -> tuple[str, ...]:
    """The columns of `table` that identify a person, in table order.

    `quasi=False` leaves out those that only describe a person (title, sex, birth date,
    birth year): identifying with others, and values too common to search other text for.
    """
    return tuple(
        f.name for f in table_definition(table).fields if f.identifier and (quasi or not f.quasi)
    )


def columns_with_role(role: str, table: str = LINKAGE_INPUT.name) -> tuple[str, ...]:
    """The columns of `table` (default: the linkage input) that have `role`, in order.

    Raises:
        KeyError: no column of the table has that role (a misspelt role).
    """
    names = tuple(f.name for f in table_definition(table).fields if role in f.roles)
    if not names:
        raise KeyError(f"no column of {table} has the role {role!r}")
    return names


def standardise_reads() -> tuple[str, ...]:
    """The `person_record` columns the standardised identifiers are computed from, in
    `person_record` order."""
    used = {
        source
        for f in LINKAGE_INPUT.fields
        if "standardised" in f.roles
        for source in f.derived_from
    }
    return tuple(f.name for f in TABLES["person_record"].fields if f.name in used)


# DuckDB types (as DESCRIBE names them) a data frame's column may have for each field
# type. A frame comes from SQL or pandas: nullable integers may arrive as doubles, dates
# as timestamps at midnight, JSON as text.
_INTEGERS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER"}
    | {"UBIGINT"}
)
_NUMBERS = _INTEGERS | {"FLOAT", "DOUBLE"}
_TIMES = frozenset({"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"})
_TIMES_TZ = _TIMES | {"TIMESTAMP WITH TIME ZONE"}
_ACCEPTED: dict[FieldType, frozenset[str]] = {
    "string": frozenset({"VARCHAR"}),
    "integer": _NUMBERS,
    "int32": _NUMBERS,
    "number": _NUMBERS,
    "boolean": frozenset({"BOOLEAN"}),
    "date": _TIMES_TZ,
    "datetime": _TIMES_TZ,
    "json": frozenset({"VARCHAR", "JSON"}),
    "string_list": frozenset({"VARCHAR[]"}),
    "binary": frozenset({"BLOB"}),
}


class FrameMismatch(ValueError):
    """A data frame does not match its table's catalogue definition."""


def check_frame(name: str, frame: pd.DataFrame) -> None:
    """Check that `frame`, about to be written as table `name`, has exactly the columns
    its definition lists, each of a type that field may hold (a column that is all empty
    is not type-checked: it has no type yet).

    Raises:
        KeyError: `name` is not catalogued.
        FrameMismatch: naming every missing, unexpected or mistyped column.
    """
    table = table_definition(name)
    expected = list(table.field_names)
    got = [str(c) for c in frame.columns]
    problems: list[str] = []
    missing = [c for c in expected if c not in got]
    extra = [c for c in got if c not in expected]
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        problems.append("not in its definition: " + ", ".join(extra))
    con = duckdb.connect()
    try:
        con.register("_frame", frame)
        described = con.execute("DESCRIBE SELECT * FROM _frame").fetchall()
    finally:
        con.close()
    for column, duck_type, *_ in described:
        if column not in expected or duck_type == '"NULL"':
            continue
        field_type = table.column_type(column)
        if str(duck_type) not in _ACCEPTED[field_type]:
            problems.append(f"{column} is {duck_type}, defined as {field_type}")
    if problems:
        raise FrameMismatch(
            f"table {name}: " + "; ".join(problems) + " (its definition is in "
            f"sectorlink.model.{_module_of(table)}; change both together)"
        )


def _module_of(table: Table) -> str:
    if table.layer == "model":
        return "tables"
    return "insight_tables" if table.layer == "insights" else "hub_tables"
