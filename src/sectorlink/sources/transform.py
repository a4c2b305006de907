"""Build the SQL that turns staged text columns into typed model values and row problems.

Everything is one vectorised DuckDB query per load: a first level computes the raw text of
every mapped field (`r_*`), a second the typed value (`v_*`), whether each target applies
to the row (`w_*`), and the outer one the row's problems (`__problems`, each with its code)
and whether any of them rejects the row (`__rejected`). Rows are never looped over in
Python.

Which problems reject a row: a problem with what identifies it or with a field the model
requires (a record or event id, an event's start), a field the spec marks `required: true`,
a duplicate id, an unknown person, a repeated header. A problem with any other field (a
birth date that does not parse, a date in the future) is a field issue: the value is set
empty, the problem is recorded in `field_issues`, and the row loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sectorlink.model import (
    CODE_SETS,
    EVENT_TYPE_DOMAINS,
    FOLD_CODE_SQL,
    Field,
    collapse_space_sql,
)
from sectorlink.model.sql import quote_literal
from sectorlink.sources.errors import SpecError
from sectorlink.sources.readers import STAGING, StagedFile, header_again_sql
from sectorlink.sources.reasons import FileErrorCode, ProblemCode
from sectorlink.sources.spec import Condition, MappingSpec, TargetMapping, ValueMapping

TITLES = (
    "mr",
    "mrs",
    "miss",
    "ms",
    "mx",
    "dr",
    "prof",
    "rev",
    "sir",
    "lady",
    "lord",
    "master",
    "dame",
    "fr",
    "sr",
)
NAME_PARTS = ("title", "given_name", "middle_names", "family_name")


lit = quote_literal  # an SQL string literal (model.sql)


def text_sql(column: str, missing: tuple[str, ...] = ()) -> str:
    """A staging column's value as ingest reads it: trimmed, and NULL when empty or one of
    the file's markers for a missing value (`file.missing`, e.g. NULL or N/A)."""
    text = f"NULLIF(trim({column}), '')"
    if not missing:
        return text
    markers = ", ".join(lit(m) for m in missing)
    return f"CASE WHEN trim({column}) IN ({markers}) THEN NULL ELSE {text} END"


def fold(expr: str) -> str:
    return FOLD_CODE_SQL.format(expr=expr)


@dataclass
class Column:
    """One mapped field of one target, as it appears in the mapped table."""

    target_index: int
    table: str
    field: Field
    mapping: ValueMapping | None
    raw: str  # name of the raw-text column (level 1)
    value: str  # name of the typed value column (level 2)
    derived_from: str | None = None  # e.g. given_name split from full_name
    present: str = ""  # SQL on the mapped table: the raw value was there (set by build_plan)

    @property
    def label(self) -> str:
        return f"{self.table}.{self.field.name}"

    @property
    def column_label(self) -> str:
        if self.mapping is not None:
            return self.mapping.describe
        return self.derived_from or ""


# How the Excel and Parquet readers write a typed date or date-time as text.
TYPED_DATE_TEXT = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")

# A time of day written after a date: 00:00, 00:00:00, 00:00:00.000, 12:00:00 AM, T00:00:00.
TIME_OF_DAY = "[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?( ?[AaPp][Mm])?$"
TIME_DIRECTIVES = re.compile("%[HIMSfpTXcR]")


@dataclass
class TargetPlan:
    index: int
    target: TargetMapping
    applies: str  # name of the boolean column saying the target applies to the row
    columns: dict[str, Column] = field(default_factory=dict)
    parent: int | None = None

    @property
    def key_columns(self) -> list[Column]:
        return [self.columns[k] for k in self.target.table.primary_key if k != "source"]


@dataclass
class LoadPlan:
    sql: str
    targets: list[TargetPlan]
    code_columns: list[Column]


class _Builder:
    def __init__(self, spec: MappingSpec, staged: StagedFile) -> None:
        self.spec = spec
        self.staged = staged
        self.level1: list[str] = [f"{STAGING}.*"]
        self.level2: list[str] = []
        self.outer: dict[str, str] = {}  # name -> adjustment that reads level-2 values
        self.problems: list[Problem] = []
        self.code_columns: list[Column] = []

    # --- level 1: raw text ----------------------------------------------------------------
    def staging_column(self, name: str, key_path: str) -> str:
        column = self.staged.column(name)
        if column is None:  # ingest checks every column first; this guards direct callers
            raise SpecError(
                f"{key_path}: column {name!r} is not in the file",
                file=self.spec.path,
                column=name,
                code=FileErrorCode.COLUMN_MISSING,
            )
        return column

    def text_sql(self, column: str) -> str:
        return text_sql(column, self.spec.file.missing)

    def raw_sql(self, mapping: ValueMapping) -> str:
        if mapping.value is not None:
            expr = lit(mapping.value)
        elif mapping.column is not None:
            expr = self.text_sql(self.staging_column(mapping.column, mapping.path))
        else:
            parts = [self.text_sql(self.staging_column(c, mapping.path)) for c in mapping.columns]
            expr = f"NULLIF(concat_ws({lit(mapping.join)}, {', '.join(parts)}), '')"
        if mapping.prefix:
            expr = f"({lit(mapping.prefix)} || {expr})"
        if mapping.suffix:
            expr = f"({expr} || {lit(mapping.suffix)})"
        return expr

    def condition_sql(self, condition: Condition) -> str:
        col = self.staging_column(condition.column, condition.path)
        folded = fold(col)
        if condition.op == "present":
            return f"({self.text_sql(col)} IS NOT NULL)"
        values = ", ".join(lit(v) for v in condition.values)
        if condition.op == "in":
            return f"coalesce({folded} IN ({values}), false)"
        return f"coalesce({folded} NOT IN ({values}), true)"

    # --- level 2: typed values and problems -------------------------------------------------
    def expr(self, name: str) -> str:
        """SQL for a value column: its outer-level expression when it has one (an outer
        column cannot be read by its name at the same level)."""
        return f"({self.outer[name]})" if name in self.outer else name

    def typed_sql(self, col: Column, raw: str) -> tuple[str, list[tuple[str, str, ProblemCode]]]:
        """(typed expression, problems as (condition SQL, reason SQL, code)).

        Conditions read the typed value's column (`col.value`), computed one level below,
        so a date is parsed once per row, not again to find out whether it failed.
        """
        f = col.field
        mapping = col.mapping
        src = col.column_label
        where = f"{src} ({col.label})"
        value = col.value
        if f.code_set is not None and f.type == "string":
            return self.code_sql(col, raw), []
        if f.type == "string_list":
            return self.list_sql(col, raw), []
        if f.type == "string":
            if f.name == "postcode":
                return f"upper({collapse_space_sql(raw)})", []
            return raw, []
        if f.type in ("date", "datetime"):
            formats = mapping.formats if mapping is not None else ()
            if self.staged.format in ("excel", "parquet"):
                # A real date cell (or a Parquet date column) is staged as ISO text whatever
                # the display format the spec's author saw in Excel, so ISO is always read.
                formats = (*formats, *(iso for iso in TYPED_DATE_TEXT if iso not in formats))
            parsed = self.parsed_time_sql(raw, formats, f.type)
            typed = f"CAST({parsed} AS DATE)" if f.type == "date" else parsed
            if f.name == "birth_date":
                # A four-digit birth date is a partial date: it gives the year only.
                typed = (
                    f"CASE WHEN regexp_full_match({raw}, '[0-9]{{4}}') THEN NULL ELSE {typed} END"
                )
                bad_parse = f"NOT regexp_full_match({raw}, '[0-9]{{4}}') AND {value} IS NULL"
            else:
                bad_parse = f"{value} IS NULL"
            zone = self.spec.file.time_zone
            # Without a zone, 'now' is the machine's local time, as the partners' times are.
            now = (
                f"timezone({lit(zone)}, current_timestamp)" if zone else "current_localtimestamp()"
            )
            if f.type == "date":
                now = f"CAST({now} AS DATE)" if zone else "current_date"
            fmt_text = ", ".join(formats)
            problems = [
                (
                    f"{raw} IS NOT NULL AND {bad_parse}",
                    f"{lit(where + ': ')} || {raw} || "
                    f"{lit(' is not a date in the format(s) ' + fmt_text)}",
                    ProblemCode.NOT_A_DATE,
                ),
                (
                    # %Y reads '01/02/80' as the year 80: a two-digit year, never a real one.
                    f"year({value}) < 1000",
                    f"{lit(where + ': ')} || {raw} || ' reads as the year ' || year({value}) || "
                    f"{lit('; for two-digit years put %y in the formats')}",
                    ProblemCode.YEAR_UNDER_1000,
                ),
            ]
            if not f.future:  # a planned end may lie ahead; what happened may not
                problems.insert(
                    1,
                    (
                        f"{value} > {now}",
                        f"{lit(where + ': ')} || {raw} || {lit(' lies in the future')}",
                        ProblemCode.FUTURE_DATE,
                    ),
                )
            return typed, problems
        if f.type == "integer":
            typed = (
                f"CASE WHEN regexp_full_match({raw}, '[+-]?[0-9]+(\\.0*)?') "
                f"THEN TRY_CAST(regexp_extract({raw}, '[+-]?[0-9]+') AS BIGINT) END"
            )
            return typed, self._bad(
                raw, value, where, "is not a whole number", ProblemCode.NOT_A_WHOLE_NUMBER
            )
        if f.type == "number":
            # Currency signs and spaces go; a comma only between groups of three digits
            # (1,234.50). '3,5' (a decimal comma: a lead level of 3.5) is refused, not read
            # as 35, and so is '1.234,56'.
            bare = f"regexp_replace({raw}, '[£$€\\s]', '', 'g')"
            typed = (
                f"CASE WHEN NOT contains({raw}, ',') THEN TRY_CAST({bare} AS DOUBLE) "
                f"WHEN regexp_full_match({bare}, '[+-]?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]*)?') "
                f"THEN TRY_CAST(replace({bare}, ',', '') AS DOUBLE) END"
            )
            comma = " is not a number (a comma may only separate thousands, as in 1,234.5)"
            return typed, [
                (
                    f"{raw} IS NOT NULL AND {value} IS NULL",
                    f"{lit(where + ': ')} || {raw} || CASE WHEN contains({raw}, ',') THEN "
                    f"{lit(comma)} ELSE {lit(' is not a number')} END",
                    ProblemCode.NOT_A_NUMBER,
                )
            ]
        if f.type == "boolean":
            assert mapping is not None
            trues = ", ".join(lit(v) for v in mapping.true_values)
            falses = ", ".join(lit(v) for v in mapping.false_values)
            typed = (
                f"CASE WHEN lower({raw}) IN ({trues}) THEN true "
                f"WHEN lower({raw}) IN ({falses}) THEN false END"
            )
            return typed, self._bad(
                raw,
                value,
                where,
                "is not one of " + ", ".join((*mapping.true_values, *mapping.false_values)),
                ProblemCode.NOT_A_BOOLEAN,
            )
        raise AssertionError(f"unhandled field type {f.type}")

    def parsed_time_sql(self, raw: str, formats: tuple[str, ...], kind: str) -> str:
        """The text parsed with the first format that reads it.

        A date-time written with a UTC offset (a format with %z; a trailing Z is +00:00) is
        converted to the spec's `file.time_zone`, so every partner's times are local times.
        A date keeps the date as written and drops the offset: a birth date serialised as
        midnight UTC is the same day wherever the region is. For the same reason a date
        also reads with a time of day after it (`1980-02-01 00:00:00.000`, how database
        exports write a date column), tried only on values the formats do not read.
        """

        def listed(fmts: list[str]) -> str:
            return "[" + ", ".join(lit(x) for x in fmts) + "]"

        plain = [x for x in formats if "%z" not in x]
        zoned = [x for x in formats if "%z" in x]
        parts = [f"try_strptime({raw}, {listed(plain)})"] if plain else []
        if zoned and kind == "date":
            dropped = f"regexp_replace({raw}, '\\s*(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$', '')"
            bare = [x.removesuffix("%z").rstrip() for x in zoned]
            parts.append(f"try_strptime({dropped}, {listed(bare)})")
        elif zoned:
            zone = self.spec.file.time_zone
            assert zone is not None, "the spec parser requires file.time_zone with %z"
            utc = f"regexp_replace({raw}, 'Z$', '+00:00')"
            # One call per format: DuckDB 2.0's try_strptime given a list of formats with
            # %z reads an impossible date as a real one (2022-02-31 as 3 March).
            each = [f"try_strptime({utc}, {lit(x)})" for x in zoned]
            read = each[0] if len(each) == 1 else f"coalesce({', '.join(each)})"
            parts.append(f"timezone({lit(zone)}, {read})")
        day_only = [x for x in plain if not TIME_DIRECTIVES.search(x)]
        if day_only and kind == "date":
            # COALESCE evaluates this only where the formats above read nothing.
            day_part = f"regexp_replace({raw}, {lit(TIME_OF_DAY)}, '')"
            parts.append(f"try_strptime({day_part}, {listed(day_only)})")
        return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"

    @staticmethod
    def _bad(
        raw: str, value: str, where: str, message: str, code: ProblemCode
    ) -> list[tuple[str, str, ProblemCode]]:
        return [
            (
                f"{raw} IS NOT NULL AND {value} IS NULL",
                f"{lit(where + ': ')} || {raw} || {lit(' ' + message)}",
                code,
            )
        ]

    def code_case(self, col: Column, expr: str) -> str:
        assert col.field.code_set is not None
        crosswalk = CODE_SETS[col.field.code_set].crosswalk()
        if col.mapping is not None:
            crosswalk.update(dict(col.mapping.codes))  # the spec's own codes take precedence
        if not crosswalk:
            return "NULL::VARCHAR"
        # A constant MAP, not a CASE branch per code: DuckDB plans a CASE of 50-70 branches
        # slowly (0.25 s of CPU for the HMIS enrolment file, several crosswalks) and tries
        # its branches one after another on every row.
        pairs = ", ".join(f"{lit(k)}: {lit(v)}" for k, v in sorted(crosswalk.items()))
        return f"map_extract_value(MAP {{{pairs}}}, {fold(expr)})"

    def code_sql(self, col: Column, raw: str) -> str:
        self.code_columns.append(col)
        mapped = self.code_case(col, raw)
        if col.mapping is not None and col.mapping.default is not None:
            return f"coalesce({mapped}, {lit(col.mapping.default)})"
        return mapped

    def list_sql(self, col: Column, raw: str) -> str:
        items = f"string_split(regexp_replace({raw}, '[;|]', ',', 'g'), ',')"
        case = self.code_case(col, "x")
        return f"list_filter(list_transform({items}, lambda x: {case}), lambda x: x IS NOT NULL)"


_TITLE_RE = "|".join(TITLES)
# One regular expression per style: each row's name is matched once, not once per part.
NAME_PATTERNS = {
    "surname_comma_forename": (
        r"^\s*([^,]*?)\s*,\s*(\S+)?\s*(.*?)\s*$",
        ("family_name", "given_name", "middle_names"),
    ),
    "title_forename_middle_surname": (
        rf"^\s*(?:((?i:{_TITLE_RE})\.?)\s+)?(?:(\S+)\s+)?(?:(.*?)\s+)?(\S+)\s*$",
        ("title", "given_name", "middle_names", "family_name"),
    ),
    "forename_surname": (
        r"^\s*(?:(\S+)\s+)?(?:(.*?)\s+)?(\S+)\s*$",
        ("given_name", "middle_names", "family_name"),
    ),
}


def _split_name_sql(style: str, raw: str, struct: str) -> tuple[str, dict[str, str]]:
    """(SQL matching the name once into the column `struct`, SQL per name part reading it).

    The name's runs of white space are made one space first, so every part comes out
    collapsed and a line end inside a name does not stop the match.
    """
    pattern, parts = NAME_PATTERNS[style]
    names = "[" + ", ".join(lit(p) for p in parts) + "]"
    match = f"regexp_extract({collapse_space_sql(raw)}, {lit(pattern)}, {names})"
    exprs = {part: "NULL" for part in NAME_PARTS}
    for part in parts:
        exprs[part] = f"NULLIF(struct_extract({struct}, {lit(part)}), '')"
    return match, exprs


def build_plan(spec: MappingSpec, staged: StagedFile) -> LoadPlan:
    """The SQL selecting, from the staging table, every target's values and every row problem."""
    b = _Builder(spec, staged)
    plans: list[TargetPlan] = []
    targets = spec.targets()
    parent_of: dict[int, int] = {}
    for item in spec.events:
        event_index = targets.index(item.event)
        for detail in item.details:
            parent_of[targets.index(detail)] = event_index
    own_condition = [b.condition_sql(t.when) if t.when is not None else "true" for t in targets]
    header_again = header_again_sql(staged)
    if header_again is not None:
        # A repeated header is no target's row: it gets the one problem that says what it is.
        b.level1.append(f"{header_again} AS {HEADER_AGAIN}")
        own_condition = [f"({c}) AND NOT {HEADER_AGAIN}" for c in own_condition]
    # One file column often feeds several fields (an attendance number is the person's
    # record id, the event's id and the violence detail's id): such raw texts and typed
    # values are computed and stored once, under the first field's name. The A&E file's
    # mapped table loses five columns.
    raw_names: dict[str, str] = {}
    value_names: dict[str, str] = {}
    for index, target in enumerate(targets):
        applies = f"w_{index}"
        plan = TargetPlan(index=index, target=target, applies=applies, parent=parent_of.get(index))
        condition = own_condition[index]
        if plan.parent is not None:
            condition = f"({condition}) AND ({own_condition[plan.parent]})"
        b.level2.append(f"{condition} AS {applies}")
        for f in target.table.fields:
            if f.system or f.name in ("source", "attributes"):
                continue
            mapping = target.fields.get(f.name)
            if mapping is None:
                continue
            col = Column(
                index,
                target.table.name,
                f,
                mapping,
                raw=f"r_{index}_{f.name}",
                value=f"v_{index}_{f.name}",
            )
            raw = b.raw_sql(mapping)
            if raw in raw_names:  # the same text as another field's: read once
                col.raw = raw_names[raw]
            else:
                raw_names[raw] = col.raw
                b.level1.append(f"{raw} AS {col.raw}")
            plan.columns[f.name] = col
        plans.append(plan)

    # A full name is matched (white space collapsed first) in a level of its own,
    # and its parts computed from that in the next, so each row's name is prepared once.
    level_names: list[str] = []
    level_mid: list[str] = []
    for plan in plans:
        full = plan.target.fields.get("full_name")
        if plan.target.table.name != "person_record" or full is None or full.split is None:
            continue
        prepared = f"__name_{plan.index}"
        prepare, parts = _split_name_sql(full.split, f"r_{plan.index}_full_name", prepared)
        level_names.append(f"{prepare} AS {prepared}")
        for part in NAME_PARTS:
            if part in plan.columns:
                continue  # mapped from its own column: that wins over the split
            col = Column(
                plan.index,
                "person_record",
                plan.target.table.field(part),
                None,
                raw=f"r_{plan.index}_{part}",
                value=f"v_{plan.index}_{part}",
                derived_from=f"{full.describe} (split)",
            )
            plan.columns[part] = col
            level_mid.append(f"{parts[part]} AS {col.raw}")

    for plan in plans:
        for col in plan.columns.values():
            typed, problems = b.typed_sql(col, col.raw)
            if typed in value_names:
                shared = value_names[typed]
                own = re.compile(rf"\b{col.value}\b")
                problems = [(own.sub(shared, c), own.sub(shared, r), k) for c, r, k in problems]
                col.value = shared
            else:
                value_names[typed] = col.value
                b.level2.append(f"{typed} AS {col.value}")
            required = col.field.required or (col.mapping is not None and col.mapping.required)
            for condition, reason, code in problems:
                b.problems.append(
                    Problem(f"{plan.applies} AND ({condition})", col, reason, lit(code), required)
                )
            nulled = [c for c, _, k in problems if k in VALUE_KEPT_BY_TYPE]
            if nulled and not required:
                # A date in the future or read as the year 80 is a date all the same: set
                # it empty, as an unreadable one already is, so the row can load without it.
                kept = f"k_{plan.index}_{col.field.name}"
                either = " OR ".join(f"({c})" for c in nulled)
                b.outer[kept] = (
                    f"CASE WHEN coalesce({either}, false) THEN NULL ELSE {col.value} END"
                )
                col.value = kept
            if required:
                where = f"{col.column_label} ({col.label})"
                missing = lit(where + ": required value is missing")
                unmapped = (
                    f"{lit(where + ': required, and code ')} || {col.raw} || ' is not mapped'"
                )
                reason, code_sql = missing, lit(ProblemCode.REQUIRED_MISSING)
                if col.field.code_set:
                    reason = f"CASE WHEN {col.raw} IS NULL THEN {missing} ELSE {unmapped} END"
                    code_sql = (
                        f"CASE WHEN {col.raw} IS NULL THEN {code_sql} "
                        f"ELSE {lit(ProblemCode.REQUIRED_CODE_UNMAPPED)} END"
                    )
                can_fail = "true" if col.field.code_set else f"{col.raw} IS NULL"
                b.problems.append(
                    Problem(
                        f"{plan.applies} AND {b.expr(col.value)} IS NULL AND {can_fail}",
                        col,
                        reason,
                        code_sql,
                        True,
                    )
                )
        if plan.target.table.name == "event":
            _event_extras(b, plan)
        if plan.target.table.name == "person_record":
            _person_extras(b, plan)

    problem_list = problems_sql(b.problems)
    if header_again is not None:
        reason = (
            f"the row repeats the header (row {staged.header_row}): several extracts joined "
            "into one file?"
        )
        problem_list = (
            f"CASE WHEN {HEADER_AGAIN} THEN [{{'target': 'row', 'column_name': NULL, "
            f"'reason': {lit(reason)}, 'code': {lit(ProblemCode.REPEATED_HEADER)}, "
            f"'fatal': true}}]::{PROBLEM_TYPE}[] ELSE {problem_list} END"
        )
    level1 = ",\n    ".join(b.level1)
    names = ",\n    ".join(["l1.*", *level_names])
    mid = ",\n    ".join(["ln.*", *level_mid])
    level2 = ",\n    ".join(["l2.*", *b.level2])
    outer = [f"{sql} AS {name}" for name, sql in b.outer.items()]
    kept = ", ".join([*_mapped_columns(plans, set(b.outer)), *outer])
    sql = (
        f"SELECT *, {REJECTED_SQL} AS __rejected FROM (\n"
        f"SELECT {kept}, {problem_list} AS __problems FROM (\n"
        f"  SELECT {level2} FROM (\n"
        f"    SELECT {mid} FROM (\n"
        f"      SELECT {names} FROM (SELECT {level1} FROM {STAGING}) l1\n"
        f"    ) ln\n"
        f"  ) l2\n) l3) l4"
    )
    return LoadPlan(sql=sql, targets=plans, code_columns=b.code_columns)


HEADER_AGAIN = "__header_again"


def _mapped_columns(plans: list[TargetPlan], outer: set[str]) -> list[str]:
    """The columns the mapped table keeps, and how each column's presence is read from them.

    Only what later steps read is stored (a wide table is slow to build and to scan): row
    numbers, the `w_*` flags, typed values, and the raw text only where it is reported
    (unmapped codes, year-only birth dates). Other raw values keep a presence flag, or none
    where the typed value is empty exactly when the raw text is (plain strings). Rejected
    rows' original text is read back from the staging table by row number.
    """
    kept = ["__row"]
    seen = set(outer)  # computed at the outer level itself

    def keep(name: str, sql: str | None = None) -> None:
        if name not in seen:
            seen.add(name)
            kept.append(name if sql is None else f"{sql} AS {name}")

    for plan in plans:
        keep(plan.applies)
        for col in plan.columns.values():
            keep(col.value)
            f = col.field
            if col.raw == col.value or (f.type == "string" and f.code_set is None):
                col.present = f"{col.value} IS NOT NULL"
            elif f.code_set is not None or f.name == "birth_date":
                keep(col.raw)
                col.present = f"{col.raw} IS NOT NULL"
            else:
                flag = f"p_{col.raw}"
                keep(flag, f"{col.raw} IS NOT NULL")
                col.present = flag
    return kept


PROBLEM_TYPE = (
    "STRUCT(target VARCHAR, column_name VARCHAR, reason VARCHAR, code VARCHAR, fatal BOOLEAN)"
)
"""One problem of a row: the field (`target`, e.g. person_record.birth_date, or 'row'), the
file's column, the message, its :class:`ProblemCode`, and whether it rejects the row."""
REJECTED_SQL = (
    "CASE WHEN len(__problems) = 0 THEN false "
    "ELSE coalesce(list_bool_or(list_transform(__problems, lambda p: p.fatal)), false) END"
)
# Problems whose value the type still reads (a real date, but in the future): a field
# issue sets it empty. The other problems' values are empty already.
VALUE_KEPT_BY_TYPE = (ProblemCode.FUTURE_DATE, ProblemCode.YEAR_UNDER_1000)


@dataclass(frozen=True)
class Problem:
    """A problem a row may have: when (SQL), on which column, why (SQL), its code (SQL),
    and whether it rejects the row (`fatal`) or only empties the field."""

    condition: str
    col: Column
    reason: str
    code: str
    fatal: bool


def problems_sql(problems: list[Problem]) -> str:
    """The list of a row's problems, built only for rows that have one (most have none)."""
    if not problems:
        return f"[]::{PROBLEM_TYPE}[]"
    items = ", ".join(
        f"CASE WHEN {p.condition} THEN {{'target': {lit(p.col.label)}, "
        f"'column_name': {lit(p.col.column_label)}, 'reason': {p.reason}, 'code': {p.code}, "
        f"'fatal': {str(p.fatal).lower()}}} END"
        for p in problems
    )
    any_problem = " OR ".join(f"coalesce({p.condition}, false)" for p in problems)
    return (
        f"CASE WHEN {any_problem} THEN list_filter([{items}], lambda x: x IS NOT NULL) "
        f"ELSE []::{PROBLEM_TYPE}[] END"
    )


def _event_extras(b: _Builder, plan: TargetPlan) -> None:
    """Domains from the event type unless mapped; attributes as a JSON object."""
    event_type = plan.columns["event_type"].value
    if "domains" not in plan.columns:
        pairs = ", ".join(
            f"{lit(code)}: [{', '.join(lit(d) for d in domains)}]::VARCHAR[]"
            for code, domains in EVENT_TYPE_DOMAINS.items()
        )
        b.level2.append(
            f"map_extract_value(MAP {{{pairs}}}, {event_type}) AS v_{plan.index}_domains"
        )
        plan.columns["domains"] = Column(
            plan.index,
            "event",
            plan.target.table.field("domains"),
            None,
            raw=f"v_{plan.index}_domains",
            value=f"v_{plan.index}_domains",
            derived_from="event type",
        )
    if plan.target.attributes:
        pairs = ", ".join(
            f"{lit(key)}, {b.text_sql(b.staging_column(column, plan.target.path + '.attributes'))}"
            for key, column in plan.target.attributes
        )
        b.level2.append(f"json_object({pairs}) AS v_{plan.index}_attributes")
        plan.columns["attributes"] = Column(
            plan.index,
            "event",
            plan.target.table.field("attributes"),
            None,
            raw=f"v_{plan.index}_attributes",
            value=f"v_{plan.index}_attributes",
            derived_from="attributes",
        )


def _person_extras(b: _Builder, plan: TargetPlan) -> None:
    """birth_year from a full or year-only birth date; approximate dates keep only the year."""
    if "birth_date" not in plan.columns:
        return
    if "birth_year" not in plan.columns:
        _derive_birth_year(b, plan)
    quality = plan.columns.get("birth_date_quality")
    if quality is not None:
        birth_date = plan.columns["birth_date"]
        exact = f"{birth_date.value}_exact"
        b.outer[exact] = (
            f"CASE WHEN {quality.value} = 'approximate' THEN NULL "
            f"ELSE {b.expr(birth_date.value)} END"
        )
        b.outer.pop(birth_date.value, None)  # read only through the exact date now
        birth_date.value = exact


def _derive_birth_year(b: _Builder, plan: TargetPlan) -> None:
    raw = plan.columns["birth_date"].raw
    value = plan.columns["birth_date"].value
    year = (
        f"CASE WHEN regexp_full_match({raw}, '[0-9]{{4}}') THEN CAST({raw} AS BIGINT) "
        f"ELSE year({b.expr(value)}) END"
    )
    if value in b.outer:  # the birth date is checked at the outer level: so is its year
        b.outer[f"v_{plan.index}_birth_year"] = year
    else:
        b.level2.append(f"{year} AS v_{plan.index}_birth_year")
    plan.columns["birth_year"] = Column(
        plan.index,
        "person_record",
        plan.target.table.field("birth_year"),
        None,
        raw=raw,
        value=f"v_{plan.index}_birth_year",
        derived_from=plan.columns["birth_date"].column_label,
    )
