"""Mapping specs: parse and validate the YAML that maps a partner's extract to the model.

The format is documented in docs/mapping.md. Every error names the spec file, the YAML
line and the key path, and suggests the closest valid name where there is one.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from sectorlink.model import CODE_SETS, DETAIL_TABLES, TABLES, Table, fold_code, get_table
from sectorlink.sources.errors import SpecError

SPLIT_STYLES = ("surname_comma_forename", "title_forename_middle_surname", "forename_surname")
FORMATS = ("csv", "excel", "parquet")
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "windows-1252": "windows-1252",
    "cp1252": "windows-1252",
    "utf-16": "utf-16",
    "utf16": "utf-16",
}
DEFAULT_DATE_FORMATS = ("%Y-%m-%d",)
DEFAULT_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
DEFAULT_TRUE = ("y", "yes", "true", "t", "1")
DEFAULT_FALSE = ("n", "no", "false", "f", "0")
STANDALONE_TABLES = tuple(n for n, t in TABLES.items() if t.kind == "reference")
SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]*")

TOP_KEYS = (
    "spec_version",
    "source",
    "partner",
    "description",
    "file",
    "record_id",
    "person",
    "events",
    "tables",
)
FILE_KEYS = (
    "format",
    "delimiter",
    "encoding",
    "quote",
    "sheet",
    "header_row",
    "footer_rows",
    "missing",
    "time_zone",
)
MAPPING_KEYS = (
    "column",
    "columns",
    "join",
    "value",
    "formats",
    "codes",
    "default",
    "split",
    "true_values",
    "false_values",
    "prefix",
    "suffix",
    "required",
)
CONDITION_KEYS = ("column", "in", "not_in", "present")


@dataclass(frozen=True)
class ValueMapping:
    """How one model field gets its value: a column, several columns joined, or a constant."""

    path: str
    line: int | None
    column: str | None = None
    columns: tuple[str, ...] = ()
    join: str = " "
    value: str | None = None
    formats: tuple[str, ...] = ()
    codes: tuple[tuple[str, str], ...] = ()
    default: str | None = None
    split: str | None = None
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    prefix: str = ""
    suffix: str = ""
    required: bool = False
    """The spec's `required: true`: a row whose value is missing or invalid is rejected
    (otherwise an invalid value in a field the model does not require is set empty and
    recorded in `field_issues`, and the row loads)."""

    @property
    def source_columns(self) -> tuple[str, ...]:
        if self.column is not None:
            return (self.column,)
        return self.columns

    @property
    def describe(self) -> str:
        """The column(s) a value came from, for rejects and quality reports."""
        if self.column is not None:
            return self.column
        if self.columns:
            return "+".join(self.columns)
        return f"constant {self.value!r}"


@dataclass(frozen=True)
class Condition:
    """Keep a row only when a column's value is (not) in a list, or present."""

    path: str
    line: int | None
    column: str
    op: Literal["in", "not_in", "present"]
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetMapping:
    """The fields of one model table filled from each row of the extract."""

    table: Table
    path: str
    fields: Mapping[str, ValueMapping]
    when: Condition | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    """For `event.attributes`: (key, column) pairs carried as a JSON object."""


@dataclass(frozen=True)
class EventMapping:
    event: TargetMapping
    details: tuple[TargetMapping, ...] = ()


@dataclass(frozen=True)
class FileOptions:
    format: str | None = None
    delimiter: str | None = None
    encoding: str = "utf-8"
    quote: str = '"'
    sheet: str | None = None
    header_row: int = 1
    """The row holding the column names (CSV and Excel); rows above it, a title or a note
    on how the extract was made, are skipped."""
    footer_rows: int = 0
    """Lines (CSV) or rows (Excel) at the end that are a report's footer, not data (a
    total, 'end of report'): left out. Empty ones are not counted."""
    missing: tuple[str, ...] = ()
    """Values that mean 'no value' in this file (NULL, N/A, -): read as empty."""
    time_zone: str | None = None
    """The region's time zone (IANA name), into which a date-time written with a UTC offset
    (a format with %z) is converted: the model keeps local times."""


@dataclass(frozen=True)
class MappingSpec:
    source: str
    file: FileOptions
    record_id: ValueMapping | None
    person: TargetMapping | None
    events: tuple[EventMapping, ...]
    tables: tuple[TargetMapping, ...]
    partner: str | None = None
    description: str | None = None
    path: Path | None = None
    sha256: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)

    def targets(self) -> list[TargetMapping]:
        out: list[TargetMapping] = []
        if self.person is not None:
            out.append(self.person)
        for item in self.events:
            out.append(item.event)
            out.extend(item.details)
        out.extend(self.tables)
        return out

    def model_fields(self) -> list[tuple[str, str]]:
        """The (table, field) pairs of the common model this spec fills, in spec order."""
        pairs: list[tuple[str, str]] = []
        for target in self.targets():
            for name in (*target.table.primary_key, *target.fields):
                if name in target.table.field_names and (target.table.name, name) not in pairs:
                    pairs.append((target.table.name, name))
            if target.attributes and (target.table.name, "attributes") not in pairs:
                pairs.append((target.table.name, "attributes"))
        return pairs

    def columns_used(self) -> dict[str, str]:
        """Every file column the spec reads, with the first key path that reads it."""
        used: dict[str, str] = {}
        mappings: list[ValueMapping] = [self.record_id] if self.record_id else []
        for target in self.targets():
            mappings.extend(target.fields.values())
            if target.when is not None:
                used.setdefault(target.when.column, target.when.path)
            for key, column in target.attributes:
                used.setdefault(column, f"{target.path}.attributes.{key}")
        for mapping in mappings:
            for column in mapping.source_columns:
                used.setdefault(column, mapping.path)
        return used


class _LineIndex:
    """Key path -> YAML line, so errors can point at the spec's line."""

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        try:
            node = yaml.compose(text)
        except yaml.YAMLError:
            return
        if node is not None:
            self._walk(node, "")

    def _walk(self, node: yaml.Node, path: str) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = f"{path}.{key.value}" if path else str(key.value)
                self.lines[sub] = key.start_mark.line + 1
                self._walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, f"{path}[{i}]")

    def get(self, path: str) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path.rsplit(".", 1)[0] if "." in path else ""
        return None


@functools.cache
def known_time_zones() -> tuple[str, ...]:
    """The time zone names DuckDB converts with (its own ICU copy: no system tzdata)."""
    import duckdb

    with duckdb.connect() as con:
        return tuple(
            str(r[0]) for r in con.execute("SELECT name FROM pg_timezone_names()").fetchall()
        )


def _closest(name: str, options: Iterable[str]) -> str:
    matches = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


class _Parser:
    def __init__(self, text: str, path: Path | None) -> None:
        self.path = path
        self.index = _LineIndex(text)

    def error(self, key_path: str, message: str) -> SpecError:
        where = f"{key_path}: " if key_path else ""
        return SpecError(where + message, file=self.path, line=self.index.get(key_path))

    def check_keys(self, data: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                sub = f"{path}.{key}" if path else str(key)
                raise self.error(
                    sub,
                    f"unknown key {key!r}{_closest(str(key), allowed)}; "
                    f"allowed here: {', '.join(allowed)}",
                )

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, f"expected a mapping (key: value), got {type(value).__name__}")
        return value

    def text(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
            raise self.error(path, f"expected text, got {value!r}")
        return str(value)

    def text_list(self, value: Any, path: str) -> tuple[str, ...]:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return (str(value),)
        if not isinstance(value, list) or not value:
            raise self.error(path, "expected a non-empty list")
        return tuple(self.text(v, f"{path}[{i}]") for i, v in enumerate(value))

    def check_zone_directives(self, fmt: str, field_type: str, path: str) -> None:
        literal = re.sub("%.", "", fmt)
        if "%Z" in fmt:
            raise self.error(
                path,
                f"{fmt!r} reads a time zone name (%Z), and names are ambiguous (BST is British "
                "Summer Time and Bangladesh Standard Time); only offsets are read: %z, as in "
                "+01:00 or Z",
            )
        if "Z" in literal:
            raise self.error(
                path,
                f"{fmt!r} has a literal Z, which marks a time in UTC: write %z instead (it "
                "reads Z as well as offsets like +01:00), so the time is converted to the "
                "region's time zone (file.time_zone)",
            )
        if field_type == "date" and "%z" in fmt and not fmt.endswith("%z"):
            raise self.error(
                path,
                f"{fmt!r}: in a date field, %z may only end the format (the offset is "
                "dropped and the date kept as written)",
            )

    # --- field mappings -------------------------------------------------------------------
    def value_mapping(self, table: Table, field_name: str, raw: Any, path: str) -> ValueMapping:
        model_field = table.field(field_name)
        line = self.index.get(path)
        if isinstance(raw, (str, int)) and not isinstance(raw, bool):
            return ValueMapping(
                path=path, line=line, column=str(raw), **self._type_defaults(model_field.type)
            )
        data = self.mapping(raw, path)
        self.check_keys(data, MAPPING_KEYS, path)
        sources = [k for k in ("column", "columns", "value") if k in data]
        if len(sources) != 1:
            raise self.error(path, "give exactly one of 'column', 'columns' or 'value'")
        kwargs: dict[str, Any] = self._type_defaults(model_field.type)
        if "column" in data:
            kwargs["column"] = self.text(data["column"], f"{path}.column")
        elif "columns" in data:
            kwargs["columns"] = self.text_list(data["columns"], f"{path}.columns")
            kwargs["join"] = str(data.get("join", " "))
        else:
            kwargs["value"] = self.text(data["value"], f"{path}.value")
        if "join" in data and "columns" not in data:
            raise self.error(f"{path}.join", "'join' goes with 'columns'")
        if "formats" in data:
            if model_field.type not in ("date", "datetime"):
                raise self.error(
                    f"{path}.formats",
                    f"'formats' is for date fields; {field_name} is {model_field.type}",
                )
            formats = self.text_list(data["formats"], f"{path}.formats")
            for i, fmt in enumerate(formats):
                if "%" not in fmt:
                    raise self.error(
                        f"{path}.formats[{i}]",
                        f"{fmt!r} is not a strftime format (e.g. '%d/%m/%Y')",
                    )
                self.check_zone_directives(fmt, model_field.type, f"{path}.formats[{i}]")
            for i, fmt in enumerate(formats):
                swapped = fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
                if swapped != fmt and swapped in formats[:i]:
                    # 03/04/1980 would silently take the first format: that is a guess.
                    raise self.error(
                        f"{path}.formats[{i}]",
                        f"{fmt!r} and {swapped!r} read days 1-12 both ways; a partner's column "
                        "uses one order, so list only that one",
                    )
            kwargs["formats"] = formats
        if "codes" in data or "default" in data:
            if model_field.code_set is None:
                raise self.error(
                    path,
                    f"'codes' and 'default' are for coded fields; {field_name} has no code set",
                )
            code_set = CODE_SETS[model_field.code_set]
            valid = code_set.values
            if "codes" in data:
                codes = self.mapping(data["codes"], f"{path}.codes")
                pairs = []
                for local, common in codes.items():
                    common_text = self.text(common, f"{path}.codes.{local}")
                    if common_text not in valid:
                        raise self.error(
                            f"{path}.codes.{local}",
                            f"{common_text!r} is not a code of "
                            f"{code_set.name}{_closest(common_text, valid)}; codes: "
                            f"{', '.join(valid)}",
                        )
                    pairs.append((fold_code(str(local)), common_text))
                kwargs["codes"] = tuple(pairs)
            if "default" in data:
                default = self.text(data["default"], f"{path}.default")
                if default not in valid:
                    raise self.error(
                        f"{path}.default",
                        f"{default!r} is not a code of {code_set.name}{_closest(default, valid)}",
                    )
                kwargs["default"] = default
        if "split" in data:
            if field_name != "full_name":
                raise self.error(f"{path}.split", "'split' is for full_name")
            split = self.text(data["split"], f"{path}.split")
            if split not in SPLIT_STYLES:
                raise self.error(
                    f"{path}.split",
                    f"unknown split {split!r}{_closest(split, SPLIT_STYLES)}; "
                    f"use one of {', '.join(SPLIT_STYLES)}",
                )
            kwargs["split"] = split
        for key in ("true_values", "false_values"):
            if key in data:
                if model_field.type != "boolean":
                    raise self.error(f"{path}.{key}", f"'{key}' is for boolean fields")
                kwargs[key] = tuple(v.lower() for v in self.text_list(data[key], f"{path}.{key}"))
        for key in ("prefix", "suffix"):
            if key in data:
                kwargs[key] = self.text(data[key], f"{path}.{key}")
        if "required" in data:
            if not isinstance(data["required"], bool):
                raise self.error(f"{path}.required", "'required' is true or false")
            kwargs["required"] = data["required"]
        return ValueMapping(path=path, line=line, **kwargs)

    @staticmethod
    def _type_defaults(field_type: str) -> dict[str, Any]:
        if field_type == "date":
            return {"formats": DEFAULT_DATE_FORMATS}
        if field_type == "datetime":
            return {"formats": DEFAULT_DATETIME_FORMATS}
        return {}

    def condition(self, raw: Any, path: str) -> Condition:
        data = self.mapping(raw, path)
        self.check_keys(data, CONDITION_KEYS, path)
        if "column" not in data:
            raise self.error(path, "a condition needs 'column'")
        ops = [k for k in ("in", "not_in", "present") if k in data]
        if len(ops) != 1:
            raise self.error(path, "give exactly one of 'in', 'not_in' or 'present'")
        op = ops[0]
        column = self.text(data["column"], f"{path}.column")
        line = self.index.get(path)
        if op == "present":
            if data["present"] is not True:
                raise self.error(f"{path}.present", "write 'present: true'")
            return Condition(path=path, line=line, column=column, op="present")
        values = tuple(fold_code(v) for v in self.text_list(data[op], f"{path}.{op}"))
        return Condition(path=path, line=line, column=column, op=op, values=values)  # type: ignore[arg-type]

    def target(
        self,
        table_name: str,
        raw: Any,
        path: str,
        *,
        inherited: Mapping[str, ValueMapping],
        allow_when: bool,
        extra_keys: tuple[str, ...] = (),
    ) -> TargetMapping:
        table = get_table(table_name)
        data = dict(self.mapping(raw, path))
        when = None
        if "when" in data:
            if not allow_when:
                raise self.error(f"{path}.when", "'when' is not allowed here")
            when = self.condition(data.pop("when"), f"{path}.when")
        attributes: tuple[tuple[str, str], ...] = ()
        if "attributes" in data and table.name == "event":
            attributes = self.attributes(data.pop("attributes"), f"{path}.attributes")
        for key in extra_keys:
            data.pop(key, None)
        mappable = {f.name for f in table.mappable_fields} - {"source"}
        fields: dict[str, ValueMapping] = dict(inherited)
        for name, value in data.items():
            sub = f"{path}.{name}"
            if name == "source":
                raise self.error(sub, "'source' is set by the spec's top-level 'source'")
            if name not in mappable:
                system = {f.name for f in table.fields if f.system}
                if name in system:
                    raise self.error(sub, f"{name} is filled by the hub and cannot be mapped")
                raise self.error(
                    sub,
                    f"{table.name} has no field {name!r}{_closest(name, mappable)}; "
                    f"fields: {', '.join(sorted(mappable))}",
                )
            fields[name] = self.value_mapping(table, name, value, sub)
        for f in table.fields:
            if f.required and f.name != "source" and f.name not in fields:
                raise self.error(
                    path, f"{table.name} needs a mapping for required field {f.name!r}"
                )
        return TargetMapping(
            table=table, path=path, fields=fields, when=when, attributes=attributes
        )

    def attributes(self, raw: Any, path: str) -> tuple[tuple[str, str], ...]:
        if isinstance(raw, list):
            columns = self.text_list(raw, path)
            return tuple((c, c) for c in columns)
        data = self.mapping(raw, path)
        return tuple((str(k), self.text(v, f"{path}.{k}")) for k, v in data.items())

    def file_options(self, raw: Any) -> FileOptions:
        if raw is None:
            return FileOptions()
        data = self.mapping(raw, "file")
        self.check_keys(data, FILE_KEYS, "file")
        fmt = data.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise self.error(
                "file.format", f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}"
            )
        delimiter = data.get("delimiter")
        if delimiter is not None:
            delimiter = self.text(delimiter, "file.delimiter")
            delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
            if len(delimiter) != 1:
                raise self.error(
                    "file.delimiter", f"delimiter must be one character, got {delimiter!r}"
                )
        encoding = str(data.get("encoding", "utf-8")).lower()
        if encoding not in ENCODINGS:
            raise self.error(
                "file.encoding",
                f"unsupported encoding {encoding!r}; use utf-8, latin-1, windows-1252 or utf-16",
            )
        quote = self.text(data.get("quote", '"'), "file.quote")
        if len(quote) != 1:
            raise self.error("file.quote", "quote must be one character")
        sheet = data.get("sheet")
        header_row = data.get("header_row", 1)
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
            raise self.error(
                "file.header_row",
                f"header_row must be a row number (1 or more), got {header_row!r}",
            )
        if header_row > 1 and fmt == "parquet":
            raise self.error(
                "file.header_row", "header_row applies to CSV and Excel files; Parquet has none"
            )
        footer_rows = data.get("footer_rows", 0)
        if isinstance(footer_rows, bool) or not isinstance(footer_rows, int) or footer_rows < 0:
            raise self.error(
                "file.footer_rows",
                f"footer_rows must be a number of rows (0 or more), got {footer_rows!r}",
            )
        if footer_rows and fmt == "parquet":
            raise self.error(
                "file.footer_rows", "footer_rows applies to CSV and Excel files, not Parquet"
            )
        missing = data.get("missing", [])
        if isinstance(missing, str):
            missing = [missing]
        if isinstance(missing, list) and any(m is None for m in missing):
            raise self.error(
                "file.missing",
                "YAML reads an unquoted NULL, null or ~ as no value at all: quote the texts, "
                "e.g. missing: ['NULL', 'N/A']",
            )
        if not isinstance(missing, list) or not all(
            isinstance(m, (str, int, float)) and not isinstance(m, bool) and str(m).strip()
            for m in missing
        ):
            raise self.error(
                "file.missing",
                "missing must be a list of the texts that mean 'no value', e.g. [NULL, N/A]",
            )
        time_zone = data.get("time_zone")
        if time_zone is not None:
            time_zone = self.text(time_zone, "file.time_zone")
            zones = known_time_zones()
            if time_zone not in zones:
                raise self.error(
                    "file.time_zone",
                    f"unknown time zone {time_zone!r}{_closest(time_zone, zones)}; give an "
                    "IANA name such as Europe/London or America/New_York",
                )
        return FileOptions(
            format=fmt,
            delimiter=delimiter,
            encoding=ENCODINGS[encoding],
            quote=quote,
            sheet=None if sheet is None else str(sheet),
            header_row=header_row,
            footer_rows=footer_rows,
            missing=tuple(str(m).strip() for m in missing),
            time_zone=time_zone,
        )

    def check_offsets_have_a_zone(self, spec: MappingSpec) -> None:
        """A date-time read with its UTC offset becomes a local time, so the spec must say
        whose: a file's UTC times loaded as they are would be an hour out in a British
        summer, five hours in New York."""
        if spec.file.time_zone is not None:
            return
        for target in spec.targets():
            for name, mapping in target.fields.items():
                if target.table.field(name).type != "datetime":
                    continue
                for i, fmt in enumerate(mapping.formats):
                    if "%z" in fmt:
                        raise self.error(
                            f"{mapping.path}.formats[{i}]",
                            f"{fmt!r} reads a UTC offset: set file.time_zone to the region's "
                            "time zone (e.g. Europe/London), so times are stored as local "
                            "times like the other partners'",
                        )

    def spec(self, data: Mapping[str, Any], sha256: str) -> MappingSpec:
        self.check_keys(data, TOP_KEYS, "")
        if data.get("spec_version") != 1:
            raise self.error("spec_version", "spec_version must be 1")
        if "source" not in data:
            raise self.error("", "the spec needs 'source' (the name every row is stored under)")
        source = self.text(data["source"], "source")
        if not SOURCE_NAME.fullmatch(source):
            raise self.error(
                "source",
                f"source {source!r} must be lower-case letters, digits and _ "
                "and start with a letter",
            )
        file_options = self.file_options(data.get("file"))
        record_id = None
        if "record_id" in data:
            record_id = self.value_mapping(
                get_table("person_record"), "record_id", data["record_id"], "record_id"
            )
        person = None
        if "person" in data:
            if record_id is None:
                raise self.error("person", "a spec with 'person' needs 'record_id'")
            person = self.target(
                "person_record",
                data["person"],
                "person",
                inherited={"record_id": record_id},
                allow_when=False,
            )
            if "record_id" in self.mapping(data["person"], "person"):
                raise self.error("person.record_id", "put record_id at the top level of the spec")
        events = self.events(data.get("events"), record_id)
        tables = self.tables(data.get("tables"))
        if person is None and not events and not tables:
            raise self.error("", "the spec maps nothing: give 'person', 'events' or 'tables'")
        parsed = MappingSpec(
            source=source,
            file=file_options,
            record_id=record_id,
            person=person,
            events=events,
            tables=tables,
            partner=data.get("partner"),
            description=data.get("description"),
            path=self.path,
            sha256=sha256,
            raw=data,
        )
        self.check_offsets_have_a_zone(parsed)
        return parsed

    def events(self, raw: Any, record_id: ValueMapping | None) -> tuple[EventMapping, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not raw:
            raise self.error("events", "events must be a non-empty list")
        out = []
        for i, item in enumerate(raw):
            path = f"events[{i}]"
            data = self.mapping(item, path)
            inherited: dict[str, ValueMapping] = {}
            if record_id is not None:
                if "record_id" not in data:
                    inherited["record_id"] = record_id
                if "event_id" not in data:
                    inherited["event_id"] = record_id
            if "record_id" not in data and record_id is None:
                raise self.error(path, "an event needs 'record_id' (or a top-level record_id)")
            event = self.target(
                "event", data, path, inherited=inherited, allow_when=True, extra_keys=("detail",)
            )
            details = []
            if "detail" in data:
                detail_raw = self.mapping(data["detail"], f"{path}.detail")
                for name, fields in detail_raw.items():
                    sub = f"{path}.detail.{name}"
                    if name not in DETAIL_TABLES:
                        raise self.error(
                            sub,
                            f"unknown detail table {name!r}{_closest(name, DETAIL_TABLES)}; "
                            f"detail tables: {', '.join(DETAIL_TABLES)}",
                        )
                    details.append(
                        self.target(
                            name,
                            fields,
                            sub,
                            inherited={"event_id": event.fields["event_id"]},
                            allow_when=True,
                        )
                    )
            out.append(EventMapping(event=event, details=tuple(details)))
        return tuple(out)

    def tables(self, raw: Any) -> tuple[TargetMapping, ...]:
        if raw is None:
            return ()
        data = self.mapping(raw, "tables")
        out = []
        for name, fields in data.items():
            path = f"tables.{name}"
            if name not in STANDALONE_TABLES:
                raise self.error(
                    path,
                    f"{name!r} cannot be mapped under 'tables'{_closest(name, STANDALONE_TABLES)}; "
                    f"use one of {', '.join(STANDALONE_TABLES)}",
                )
            out.append(self.target(name, fields, path, inherited={}, allow_when=True))
        return tuple(out)


def parse_spec(text: str, path: Path | None = None) -> MappingSpec:
    """Parse and validate a mapping spec from YAML text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SpecError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", file=path, line=line
        ) from None
    parser = _Parser(text, path)
    if not isinstance(data, Mapping):
        raise SpecError("a mapping spec must be a YAML mapping (key: value lines)", file=path)
    return parser.spec(data, hashlib.sha256(text.encode()).hexdigest())


def load_spec(path: Path | str) -> MappingSpec:
    """Read and validate a mapping spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("spec file not found", file=path) from None
    except IsADirectoryError:
        raise SpecError("this is a folder; give the spec's YAML file", file=path) from None
    except OSError as exc:
        raise SpecError(f"cannot read the spec: {exc.strerror}", file=path) from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"spec is not UTF-8 text ({exc.reason})", file=path) from None
    return parse_spec(text, path)
