"""The building blocks of the common data model: fields, tables and code sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FieldType = Literal[
    "string",
    "integer",
    "int32",
    "number",
    "boolean",
    "date",
    "datetime",
    "json",
    "string_list",
    "binary",
]

DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "int32": "INTEGER",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "json": "JSON",
    "string_list": "VARCHAR[]",
    "binary": "BLOB",
}

# Frictionless Table Schema has no list type; a list travels as an array.
TABLE_SCHEMA_TYPES: dict[str, str] = {
    "string": "string",
    "integer": "integer",
    "int32": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "json": "object",
    "string_list": "array",
    "binary": "string",
}

TableKind = Literal["person", "event", "detail", "reference", "hub", "derived"]
"""person, event, detail, reference: the common model partners map their extracts to;
hub: a table the hub writes for itself (lineage, linkage, encodings, analysis results);
derived: a relation the hub builds while it runs and never stores (the linkage input)."""

Layer = Literal["model", "warehouse", "identity", "linkage", "pprl", "insights"]
"""The package that writes a table (see docs/architecture.md)."""


@dataclass(frozen=True)
class Field:
    """One column of a model table."""

    name: str
    type: FieldType
    description: str
    required: bool = False
    code_set: str | None = None
    identifier: bool = False
    """True for fields that identify a person; they may live only in `person_record`."""
    system: bool = False
    """Filled by the hub (lineage), never mapped from a partner's extract."""
    unit: str | None = None
    future: bool = False
    """A date that may lie in the future (a planned end): ingest does not reject it."""
    quasi: bool = False
    """An identifier that describes a person rather than naming them (title, sex, a birth
    date or year): identifying only with others, and a value too common to look for inside
    other text (`identifier_columns(..., quasi=False)` leaves these out)."""
    default: str | None = None
    """An SQL literal the column takes when an insert leaves it out."""
    derived_from: tuple[str, ...] = ()
    """For derived tables: the `person_record` fields this column is computed from."""
    roles: frozenset[str] = frozenset()
    """What code reads this column for (e.g. `compared`: the linkage model compares it);
    the roles a table uses are listed with the table (see `model.catalogue`)."""


@dataclass(frozen=True)
class ColumnPattern:
    """Columns a table gains as data arrive, named `prefix` + a name (an encoded file's
    `bf_<field>` and `tok_<name>`)."""

    prefix: str
    type: FieldType
    description: str


@dataclass(frozen=True)
class Table:
    """One table the hub writes: of the common model, or of the hub's own."""

    name: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    standard: str | None = None
    kind: TableKind = "event"
    parent: str | None = None
    """For detail tables: the table whose key this one extends."""
    layer: Layer = "model"
    declare_key: bool = False
    """Declare the primary key in the DDL (small hub tables: an `INSERT OR REPLACE`
    needs it). The model's tables declare none (see `model.ddl.create_table_sql`)."""
    column_patterns: tuple[ColumnPattern, ...] = ()
    lifecycle: str = ""
    """How its rows change: e.g. appended by each run, replaced whole by each run."""

    def column_type(self, name: str) -> FieldType:
        """The type of a field, or of a column matching one of the table's patterns."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate.type
        for pattern in self.column_patterns:
            if name.startswith(pattern.prefix) and len(name) > len(pattern.prefix):
                return pattern.type
        raise KeyError(f"table {self.name} has no column {name!r}")

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def mappable_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.system)


@dataclass(frozen=True)
class Code:
    """One value of a code set, with the local spellings partners commonly use for it."""

    code: str
    label: str
    synonyms: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    """For event types: the need domains (social, financial, physical, clinical)."""


@dataclass(frozen=True)
class CodeSet:
    """A controlled vocabulary with a crosswalk from common partner codings."""

    name: str
    description: str
    codes: tuple[Code, ...]
    standard: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.codes)

    def crosswalk(self) -> dict[str, str]:
        """Map every known spelling, folded with :func:`fold_code`, to its common code."""
        mapping: dict[str, str] = {}
        for code in self.codes:
            for spelling in (code.code, code.label, *code.synonyms):
                mapping[fold_code(spelling)] = code.code
        return mapping


def fold_code(value: str) -> str:
    """Fold a local code for lookup: case, surrounding space and inner runs of space.

    The same folding is done in SQL by :data:`FOLD_CODE_SQL`.
    """
    return " ".join(value.strip().lower().split())


def collapse_space_sql(expr: str) -> str:
    """SQL for `expr` with every run of white space (RE2's \\s) made one space.

    Most values have no such run: a match test without captures finds that at about a third
    of the cost of the replacement, which then runs only where it changes something.
    """
    return (
        f"CASE WHEN regexp_matches({expr}, '[\\t\\n\\f\\r]|  ') "
        f"THEN regexp_replace({expr}, '\\s+', ' ', 'g') ELSE {expr} END"
    )


FOLD_CODE_SQL = "lower(trim(" + collapse_space_sql("{expr}") + "))"
