"""Validate a partner's extract against its mapping spec and load it into the warehouse.

A load is one transaction: the warehouse holds all of it or none of it. Rows whose
identifying or required values fail validation go to `rejects` with the reason, its code
and the row number; an invalid value in any other field is set empty and recorded in
`field_issues`, and its row loads. The same file loaded twice is a no-op; a quality report
(completeness and validity per field, unmapped codes) is stored with every load. All row
work happens in DuckDB SQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from sectorlink.model import DETAIL_TABLES
from sectorlink.model.sql import scalar
from sectorlink.sources.errors import FileFormatError, SpecError
from sectorlink.sources.readers import STAGING, StagedFile, stage_file
from sectorlink.sources.reasons import FileErrorCode, ProblemCode
from sectorlink.sources.spec import MappingSpec, load_spec
from sectorlink.sources.transform import Column, LoadPlan, TargetPlan, build_plan, lit
from sectorlink.sources.validity import RULES
from sectorlink.warehouse import DEFAULT_WAREHOUSE, connect, ensure_schema

MAPPED = "__mapped"
EXTRA = "__extra"
PROBLEM = "__problem"
SAMPLE_REJECTS = 20


@dataclass(frozen=True)
class FieldQuality:
    table: str
    field: str
    column: str
    rows: int
    present: int
    valid: int
    rule: str | None = None

    @property
    def completeness(self) -> float:
        return self.present / self.rows if self.rows else 0.0

    @property
    def validity(self) -> float:
        """Share of present values that are valid."""
        return self.valid / self.present if self.present else 1.0


@dataclass(frozen=True)
class UnmappedCode:
    table: str
    field: str
    column: str
    local_value: str
    rows: int
    first_row: int


@dataclass(frozen=True)
class Reject:
    """One problem of a rejected row."""

    row: int
    target: str
    column: str | None
    reason: str
    code: ProblemCode


@dataclass(frozen=True)
class FieldIssue:
    """An invalid value in a field the row can do without: stored as empty, row loaded."""

    row: int
    target: str
    column: str | None
    reason: str
    code: ProblemCode


@dataclass(frozen=True)
class RejectGroup:
    """Rows with one kind of problem in one column and field: how many, and an example.
    (Used for rejects and for field issues alike.)"""

    column: str | None
    target: str
    rows: int
    first_row: int
    example: str
    code: ProblemCode


@dataclass
class LoadResult:
    """What a load (or a check) did."""

    status: Literal["loaded", "skipped", "checked"]
    source: str
    file: Path
    load_id: str | None
    rows_read: int = 0
    rows_rejected: int = 0
    rows_replaced: int = 0
    rows_written: dict[str, int] = field(default_factory=dict)
    quality: list[FieldQuality] = field(default_factory=list)
    unmapped: list[UnmappedCode] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    """The first rejected rows' problems (all are in the rejects table)."""
    reject_groups: list[RejectGroup] = field(default_factory=list)
    """Every problem of the rejected rows, counted by column, field and code, most first."""
    field_issues: int = 0
    """Values set empty in rows that loaded (each is a row of the field_issues table)."""
    field_issue_sample: list[FieldIssue] = field(default_factory=list)
    """The first field issues (all are in the field_issues table)."""
    field_issue_groups: list[RejectGroup] = field(default_factory=list)
    """Field issues counted by column, field and code, most rows first."""
    previous_load_id: str | None = None
    notes: list[str] = field(default_factory=list)
    """Things the user should know that are not row problems (e.g. a check that was skipped)."""
    seconds: float = 0.0
    """Wall time of the load (or check), from reading the file to committing."""

    @property
    def completeness(self) -> float:
        """Mean completeness over mapped fields."""
        values = [q.completeness for q in self.quality]
        return sum(values) / len(values) if values else 1.0

    @property
    def validity(self) -> float:
        values = [q.validity for q in self.quality if q.present]
        return sum(values) / len(values) if values else 1.0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def ingest(
    spec: MappingSpec | Path | str,
    file: Path | str,
    *,
    warehouse: Path | str = DEFAULT_WAREHOUSE,
    check: bool = False,
    replace: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
) -> LoadResult:
    """Validate `file` against `spec` and load it into `warehouse` in one transaction.

    Args:
        spec: a parsed spec or the path of its YAML file.
        file: the partner's extract (CSV, Excel or Parquet).
        warehouse: the DuckDB warehouse file (created when missing).
        check: validate and report only; write nothing anywhere.
        replace: load a file that was loaded before again, replacing that load's rows.
        con: an open warehouse connection to use instead of opening `warehouse`.

    Returns:
        A :class:`LoadResult`; its status is ``skipped`` when the same file was already loaded.

    Raises:
        SpecError: the spec is invalid or names a column the file lacks.
        FileFormatError: the file cannot be read as the spec says.

    Example:
        >>> result = ingest("specs/ae.yaml", "extracts/ae.csv", warehouse="hub.duckdb")
        >>> result.rows_written["person_record"], result.rows_rejected
    """
    if not isinstance(spec, MappingSpec):
        spec = load_spec(spec)
    path = Path(file)
    own_connection = con is None
    if con is None:
        con = _open(Path(warehouse), check)
    started = time.perf_counter()
    try:
        result = _ingest(con, spec, path, check=check, replace=replace)
        result.seconds = time.perf_counter() - started
        return result
    finally:
        for name in (PROBLEM, EXTRA, MAPPED, "__staging_raw", "__staging_empty"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
        con.execute("DROP VIEW IF EXISTS __staging")
        if own_connection:
            con.close()


def _open(warehouse: Path, check: bool) -> duckdb.DuckDBPyConnection:
    if not check:
        return connect(warehouse)
    if warehouse.exists():
        return connect(warehouse, read_only=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    ensure_schema(con)
    return con


def _ingest(
    con: duckdb.DuckDBPyConnection, spec: MappingSpec, path: Path, *, check: bool, replace: bool
) -> LoadResult:
    if not path.exists():
        raise FileFormatError("file not found", file=path, code=FileErrorCode.FILE_NOT_FOUND)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if path.is_dir():
        raise FileFormatError(
            "this is a folder; give the extract file itself",
            file=path,
            code=FileErrorCode.NOT_A_FILE,
        )
    try:
        sha = file_sha256(path)
    except OSError as exc:
        raise FileFormatError(f"cannot read the file: {exc.strerror}", file=path) from None
    previous = con.execute(
        "SELECT load_id FROM load WHERE source = ? AND file_sha256 = ? AND superseded_by IS NULL",
        [spec.source, sha],
    ).fetchone()
    if previous and not replace and not check:
        return LoadResult(
            status="skipped",
            source=spec.source,
            file=path,
            load_id=None,
            previous_load_id=str(previous[0]),
        )
    staged = stage_file(con, path, spec.file)
    for column, key_path in spec.columns_used().items():
        name = staged.header_name(column)
        if name is None:
            _missing_column(spec, staged, column, key_path)
        elif name in staged.unmappable:
            raise FileFormatError(
                f"{key_path}: column {column!r} holds {staged.unmappable[name]} values, not "
                "flat text, numbers or dates, so it cannot fill a model field; export it "
                "flattened (one value per cell)",
                file=path,
                column=column,
                code=FileErrorCode.COLUMN_NOT_FLAT,
            )
    plan = build_plan(spec, staged)
    con.execute(f"CREATE TEMP TABLE {MAPPED} AS {plan.sql}")
    notes: list[str] = []
    check_people = True
    if check and spec.person is None and any(e.event.table.name == "event" for e in spec.events):
        known = int(
            scalar(con, f"SELECT count(*) FROM person_record WHERE source = {lit(spec.source)}")
        )
        if known == 0:
            # A check of an events file before its person file is loaded would reject every
            # row; say what could not be checked instead.
            check_people = False
            notes.append(
                f"the warehouse holds no person records of source {spec.source} yet, so events "
                "were not checked against their person records; load the person file first"
            )
    extra = _extra_problems_sql(spec, plan, check_people)
    if extra is not None:
        con.execute(f"CREATE TEMP TABLE {EXTRA} AS {extra}")
        # Only the flag is set here: the extra problems join the problem table below, after
        # the row's own, so no row's list of problems is rewritten.
        con.execute(
            f"UPDATE {MAPPED} SET __rejected = true FROM {EXTRA} e WHERE {MAPPED}.__row = e.__row"
        )

    load_id = f"{spec.source}-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    result = LoadResult(
        status="checked" if check else "loaded",
        source=spec.source,
        file=path,
        load_id=None if check else load_id,
        rows_read=staged.rows,
        previous_load_id=str(previous[0]) if previous else None,
        notes=notes,
    )
    # Every row problem, one row each, read by the samples, the groups and the writes below
    # (each used to unnest the lists of the whole mapped table again).
    problems = (
        f"SELECT __row, __rejected, unnest(__problems) AS p, "
        f"generate_subscripts(__problems, 1) AS i FROM {MAPPED} WHERE len(__problems) > 0"
    )
    if extra is not None:
        problems += (
            f" UNION ALL SELECT __row, true, p, own + i FROM (SELECT e.__row, "
            f"len(m.__problems) AS own, unnest(e.problems) AS p, "
            f"generate_subscripts(e.problems, 1) AS i FROM {EXTRA} e JOIN {MAPPED} m "
            f"ON m.__row = e.__row)"
        )
    con.execute(f"CREATE TEMP TABLE {PROBLEM} AS {problems}")
    _count_rows(con, plan, result)
    result.notes += _placeholder_dates(con, plan)
    result.notes += _excel_exponents(con, plan)
    result.unmapped = _unmapped(con, plan)
    result.rejects = [Reject(*r) for r in _problem_sample(con, rejected=True)]
    result.reject_groups = _problem_groups(con, rejected=True)
    result.field_issue_sample = [FieldIssue(*r) for r in _problem_sample(con, rejected=False)]
    result.field_issue_groups = _problem_groups(con, rejected=False)
    result.field_issues = sum(g.rows for g in result.field_issue_groups)
    if check:
        return result

    con.execute("BEGIN TRANSACTION")
    try:
        if previous and replace:
            _remove_load(con, str(previous[0]), load_id)
        with _any_row_order(con):
            result.rows_replaced = _write_targets(con, spec, plan, load_id)
        _write_rejects(con, spec, staged, load_id)
        _write_field_issues(con, spec, staged, load_id)
        _write_quality(con, result, load_id)
        finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        import json

        con.execute(
            "INSERT INTO load VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [
                load_id,
                spec.source,
                str(spec.path) if spec.path else None,
                spec.sha256,
                str(path),
                sha,
                path.stat().st_size,
                result.rows_read,
                result.rows_rejected,
                result.rows_replaced,
                json.dumps(result.rows_written),
                started,
                finished,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


@contextmanager
def _any_row_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let DuckDB write rows in any physical order: each row carries its `source_row` and
    every reader orders explicitly, and the model-table inserts of a 1.3M-row file take half
    the time (3 s -> 1.5 s for A&E person records). The setting is the session's: a plain
    SET is global in DuckDB, and would let another cursor's staging table lose file order
    while loads run side by side."""
    row = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    before = bool(row[0]) if row else True
    con.execute("SET SESSION preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET SESSION preserve_insertion_order = {str(before).lower()}")


def _problems(rejected: bool) -> str:
    """Each problem of the rejected rows (or of the rows that load), with its place in the
    row's list, so a row's problems keep the order they were found in."""
    which = "__rejected" if rejected else "NOT __rejected"
    return f"SELECT __row, p, i FROM {PROBLEM} WHERE {which}"


def _problem_sample(
    con: duckdb.DuckDBPyConnection, *, rejected: bool
) -> list[tuple[int, str, str | None, str, ProblemCode]]:
    rows = con.execute(
        f"SELECT __row, p.target, p.column_name, p.reason, p.code FROM ({_problems(rejected)}) "
        f"ORDER BY __row, i LIMIT {SAMPLE_REJECTS}"
    ).fetchall()
    return [(int(r[0]), str(r[1]), r[2], str(r[3]), ProblemCode(r[4])) for r in rows]


def _problem_groups(con: duckdb.DuckDBPyConnection, *, rejected: bool) -> list[RejectGroup]:
    rows = con.execute(
        f"SELECT p.column_name, p.target, p.code, count(*), min(__row), "
        f"arg_min(p.reason, __row) FROM ({_problems(rejected)}) GROUP BY 1, 2, 3 "
        "ORDER BY 4 DESC, 5"
    ).fetchall()
    return [
        RejectGroup(r[0], str(r[1]), int(r[3]), int(r[4]), str(r[5]), ProblemCode(r[2]))
        for r in rows
    ]


def _missing_column(spec: MappingSpec, staged: StagedFile, column: str, key_path: str) -> None:
    import difflib

    close = difflib.get_close_matches(column, staged.header, n=3, cutoff=0.5)
    hint = f"; closest: {', '.join(repr(c) for c in close)}" if close else ""
    header = staged.header
    delimiter_hint = ""
    if len(header) == 1 and any(d in header[0] for d in ",;\t|"):
        delimiter_hint = (
            f"; the header was read as one column {header[0][:60]!r}, so the delimiter "
            f"is probably wrong (the spec says {staged.delimiter!r})"
        )
    elif staged.format != "parquet" and not any(map(staged.header_name, spec.columns_used())):
        shown = ", ".join(repr(h[:40]) for h in header[:3]) + (", ..." if len(header) > 3 else "")
        delimiter_hint = (
            f"; none of the spec's columns is in the header (row {staged.header_row}: {shown}): "
            "if the column names are on a lower row, under a title, set file.header_row"
        )
    raise SpecError(
        f"{key_path}: column {column!r} is not in {staged.path.name}{hint}{delimiter_hint}",
        file=spec.path,
        column=column,
        code=FileErrorCode.COLUMN_MISSING,
    )


def _extra_problems_sql(spec: MappingSpec, plan: LoadPlan, check_people: bool = True) -> str | None:
    """Duplicate-key and unknown-person problems, which need the whole file in view.

    They are found on narrow projections (keys and row numbers) and return one row per
    affected file row, so the wide mapped table is never copied to add them.
    """
    parts: list[str] = []
    # Targets keyed by the same value (a row's record id and its event id are often one
    # column) share one search for duplicates, which reports each target's problem.
    keyed: dict[tuple[str, str], list[TargetPlan]] = {}
    for p in plan.targets:
        if p.target.table.kind != "detail" and p.key_columns:
            keyed.setdefault((p.key_columns[0].value, p.applies), []).append(p)
    for (value, applies), same_key in keyed.items():
        structs = []
        for p in same_key:
            key = p.key_columns[0]
            structs.append(
                f"{{'target': {lit(key.label)}, 'column_name': {lit(key.column_label)}, "
                f"'reason': {lit(key.column_label + ': duplicate ' + key.field.name + ' ')} || "
                f"m.{value} || ' (first at row ' || d.first_row || ')', "
                f"'code': {lit(ProblemCode.DUPLICATE_ID)}, 'fatal': true}}"
            )
        parts.append(
            f"SELECT m.__row, unnest([{', '.join(structs)}]) AS p FROM {MAPPED} m JOIN ("
            f"SELECT {value} AS k, min(__row) AS first_row FROM {MAPPED} "
            f"WHERE {applies} AND {value} IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d "
            f"ON m.{value} = d.k WHERE m.{applies} AND m.__row > d.first_row"
        )
    for p in plan.targets:
        if p.target.table.kind == "detail" or not p.key_columns:
            continue
        if p.target.table.name == "event" and spec.person is None and check_people:
            rid = p.columns["record_id"]
            struct = (
                f"{{'target': {lit(rid.label)}, 'column_name': {lit(rid.column_label)}, "
                f"'reason': {lit(rid.column_label + ': no person record ')} || {rid.value} || "
                f"{lit(' from source ' + spec.source + ' is in the warehouse')}, "
                f"'code': {lit(ProblemCode.UNKNOWN_PERSON)}, 'fatal': true}}"
            )
            parts.append(
                f"SELECT __row, {struct} AS p FROM {MAPPED} WHERE {p.applies} AND "
                f"{rid.value} IS NOT NULL AND {rid.value} NOT IN "
                f"(SELECT record_id FROM person_record WHERE source = {lit(spec.source)})"
            )
    if not parts:
        return None
    union = " UNION ALL ".join(f"({part})" for part in parts)
    return f"SELECT __row, list(p ORDER BY p.target) AS problems FROM ({union}) GROUP BY __row"


def _insert_columns(p: TargetPlan) -> list[Column]:
    return [c for c in p.columns.values() if c.field.name in p.target.table.field_names]


def _write_targets(
    con: duckdb.DuckDBPyConnection, spec: MappingSpec, plan: LoadPlan, load_id: str
) -> int:
    replaced = 0
    good = "NOT __rejected"
    held = _tables_holding(con, spec.source, {p.target.table.name for p in plan.targets})
    for p in plan.targets:
        table = p.target.table
        key = p.key_columns[0]
        selection = f"SELECT {key.value} FROM {MAPPED} WHERE {good} AND {p.applies}"
        # A record or event sent again in a later file replaces the earlier row.
        if table.kind != "detail" and table.name in held:
            replaced += int(
                scalar(
                    con,
                    f"SELECT count(*) FROM {table.name} WHERE source = "
                    f"{lit(spec.source)} AND {key.field.name} IN ({selection})",
                )
            )
        if table.name in held:
            con.execute(
                f"DELETE FROM {table.name} WHERE source = {lit(spec.source)} AND "
                f"{key.field.name} IN ({selection})"
            )
        if table.name == "event":
            for detail in DETAIL_TABLES:
                if detail not in held:
                    continue
                con.execute(
                    f"DELETE FROM {detail} WHERE source = {lit(spec.source)} AND "
                    f"event_id IN ({selection})"
                )
        columns = _insert_columns(p)
        names = ", ".join(["source", *[c.field.name for c in columns], "load_id", "source_row"])
        values = ", ".join([lit(spec.source), *[c.value for c in columns], lit(load_id), "__row"])
        con.execute(
            f"INSERT INTO {table.name} ({names}) SELECT {values} FROM {MAPPED} "
            f"WHERE {good} AND {p.applies}"
        )
    return replaced


def _tables_holding(con: duckdb.DuckDBPyConnection, source: str, tables: set[str]) -> set[str]:
    """Which of `tables` (and, for events, the detail tables) hold rows of `source`: a
    source's first load has nothing to replace, and skips a delete per table (each of which
    builds a hash of the file's keys)."""
    names = sorted(tables | (set(DETAIL_TABLES) if "event" in tables else set()))
    checks = " UNION ALL ".join(
        f"(SELECT {lit(name)} FROM {name} WHERE source = {lit(source)} LIMIT 1)" for name in names
    )
    return {str(row[0]) for row in con.execute(checks).fetchall()}


def _write_rejects(
    con: duckdb.DuckDBPyConnection, spec: MappingSpec, staged: StagedFile, load_id: str
) -> None:
    # The mapped table holds no source text: rejected rows' text is read back by row number.
    raw = (
        "json_object("
        + ", ".join(f"{lit(name)}, s.{col}" for name, col in staged.columns.items())
        + ")"
    )
    con.execute(
        "INSERT INTO rejects (load_id, source, file_path, source_row, target, column_name, "
        f"reason, raw, code) SELECT {lit(load_id)}, {lit(spec.source)}, "
        f"{lit(str(staged.path))}, m.__row, m.p.target, m.p.column_name, m.p.reason, {raw}, "
        f"m.p.code FROM ({_problems(rejected=True)}) m JOIN {STAGING} s ON s.__row = m.__row "
        "ORDER BY m.__row, m.i"
    )


def _write_field_issues(
    con: duckdb.DuckDBPyConnection, spec: MappingSpec, staged: StagedFile, load_id: str
) -> None:
    """Values set empty in rows that loaded: where, which field, why. The row itself is in
    its tables, so no copy of its text is kept (the reason names the value)."""
    con.execute(
        "INSERT INTO field_issues (load_id, source, file_path, source_row, column_name, field, "
        f"code, reason) SELECT {lit(load_id)}, {lit(spec.source)}, {lit(str(staged.path))}, "
        f"__row, p.column_name, p.target, p.code, p.reason FROM ({_problems(rejected=False)}) "
        "ORDER BY __row, i"
    )


def _quality_measures(plan: LoadPlan) -> list[tuple[Column, TargetPlan, str | None, str]]:
    """(column, target, rule name, SQL saying the value is valid) for each measured field."""
    measures = []
    for p in plan.targets:
        for col in p.columns.values():
            if col.field.type in ("json", "string_list") or col.field.name in (
                "record_id",
                "event_id",
            ):
                continue
            rule = RULES.get(col.field.name)
            valid = f"{col.value} IS NOT NULL"
            if rule is not None and col.field.type == "string":
                # A rule is false or NULL on a NULL value (the count coalesces NULL to
                # false); prefixing `IS NOT NULL AND` made the NHS rule 4x slower in DuckDB.
                valid = rule[1](col.value)
            if col.field.name == "birth_date":  # a year-only birth date is a valid partial date
                valid = f"({valid} OR coalesce(regexp_full_match({col.raw}, '[0-9]{{4}}'), false))"
            measures.append((col, p, rule[0] if rule else None, valid))
    return measures


def _count_rows(con: duckdb.DuckDBPyConnection, plan: LoadPlan, result: LoadResult) -> None:
    """Rejected rows, rows written per table and the quality report, in one pass.

    The flags are computed in a projection below the aggregate, so a rule that repeats a
    subexpression (the digits of an NHS number) has it computed once per row.
    """
    flags = ["__rejected"]
    counts = ["count_if(__rejected)"]
    for p in plan.targets:
        flags.append(p.applies)
        counts.append(f"count_if(NOT __rejected AND {p.applies})")
    measures = _quality_measures(plan)
    for i, (col, p, _rule, valid) in enumerate(measures):
        flags += [f"{col.present} AS __present_{i}", f"{valid} AS __valid_{i}"]
        counts += [
            f"count_if({p.applies})",
            f"count_if({p.applies} AND __present_{i})",
            f"count_if(coalesce({p.applies} AND __valid_{i}, false))",  # never NULL
        ]
    row = con.execute(
        f"SELECT {', '.join(counts)} FROM (SELECT {', '.join(flags)} FROM {MAPPED})"
    ).fetchone()
    assert row is not None
    values = [int(x) for x in row]
    result.rows_rejected = values[0]
    offset = 1 + len(plan.targets)
    result.rows_written = {p.target.table.name: 0 for p in plan.targets}
    for p, written in zip(plan.targets, values[1:offset], strict=True):
        result.rows_written[p.target.table.name] += written
    for i, (col, _p, rule_name, _valid) in enumerate(measures):
        n_rows, n_present, n_valid = values[offset + 3 * i : offset + 3 * i + 3]
        code_rule = f"code set {col.field.code_set}" if col.field.code_set else None
        result.quality.append(
            FieldQuality(
                col.table,
                col.field.name,
                col.column_label,
                n_rows,
                n_present,
                n_valid,
                rule_name or code_rule or _type_rule(col),
            )
        )


PLACEHOLDER_SAMPLE = 200_000
"""Rows looked at for a date that stands in for 'unknown' (the first ones)."""


def _placeholder_dates(con: duckdb.DuckDBPyConnection, plan: LoadPlan) -> list[str]:
    """Notes on date fields where one value is far commoner than any other (1900-01-01 for
    an unknown birth date): stored as a real date, it would make strangers look alike to
    linkage. A note, not a reject: the spec's author decides (file.missing).

    Every date column is counted in one scan of the sample (a grouping set each), not a
    query per column."""
    columns: dict[str, Column] = {}
    for p in plan.targets:
        for col in p.columns.values():
            date = col.field.type in ("date", "datetime") and col.derived_from is None
            if date and col.value not in columns:
                columns[col.value] = col
    if not columns:
        return []
    names = list(columns)
    sets = ", ".join(f"({v})" for v in names)
    grouped = ", ".join(f"GROUPING({v}) AS g{i}" for i, v in enumerate(names))
    # Per column: the commonest value, the two highest counts and the rows with a value. A
    # tie for the commonest makes no note, so which of the tied values is taken is moot.
    tops = ", ".join(
        f"CAST(arg_max({v}, n) FILTER (f{i}) AS VARCHAR), max(n, 2) FILTER (f{i}), "
        f"sum(n) FILTER (f{i})"
        for i, v in enumerate(names)
    )
    flags = ", ".join(f"g{i} = 0 AND {v} IS NOT NULL AS f{i}" for i, v in enumerate(names))
    row = con.execute(
        f"SELECT {tops} FROM (SELECT *, {flags} FROM (SELECT {grouped}, {', '.join(names)}, "
        f"count(*) AS n FROM (SELECT {', '.join(names)} FROM {MAPPED} "
        f"LIMIT {PLACEHOLDER_SAMPLE}) GROUP BY GROUPING SETS ({sets})))"
    ).fetchone()
    assert row is not None
    notes: list[str] = []
    for i, col in enumerate(columns.values()):
        value, counts, total = row[3 * i : 3 * i + 3]
        if not counts or len(counts) < 2:
            continue  # one date on every row (an extract's snapshot date) is no stand-in
        count, runner_up, total = int(counts[0]), int(counts[1]), int(total)
        # A stand-in is a minority among real dates, and far commoner than any of them.
        if 20 <= count < 0.5 * total and count >= 0.01 * total and count >= 20 * runner_up:
            notes.append(
                f"{col.column_label} ({col.label}): {value} is on {count:,} of {total:,} "
                "rows looked at, far more than any other date: a placeholder for "
                "'unknown'? If so, list its text in the file under file.missing, or "
                "linkage will take those people for alike"
            )
    return notes


# How Excel displays a long number in a General cell (9434765919 as 9.43477E+09); saved to CSV
# the display is what is written, and the other digits are gone.
EXCEL_EXPONENT = "[0-9](\\.[0-9]{1,14})?E\\+[0-9]{2}"


# Text fields that hold long numbers (beside each table's own key), which Excel mangles.
DIGIT_FIELDS = ("local_person_id", "nhs_number", "ssn", "phone", "property_id")
# Excel writes a whole column the one way, so the first rows tell.
EXPONENT_SAMPLE = 50_000


def _excel_exponents(con: duckdb.DuckDBPyConnection, plan: LoadPlan) -> list[str]:
    """Notes on text fields of long numbers (ids, NHS and phone numbers) written in Excel's
    exponent form: the extract went through Excel, and the numbers can no longer be told
    apart. A note, not a reject: only the partner can send the digits."""
    columns = {
        col.value: col
        for p in plan.targets
        for col in p.columns.values()
        if (col.field.name in DIGIT_FIELDS or col.field.name in p.target.table.primary_key)
        and col.field.type == "string"
        and col.mapping is not None
        and col.mapping.value is None
    }
    if not columns:
        return []
    # Each value is tested once (a cheap substring test first), on the columns it needs.
    values = ", ".join(columns)
    flags = ", ".join(
        f"contains({v}, 'E+') AND regexp_full_match({v}, '{EXCEL_EXPONENT}') AS f{i}"
        for i, v in enumerate(columns)
    )
    found = ", ".join(
        f"count_if(f{i}), min(__row) FILTER (f{i}), arg_min({v}, __row) FILTER (f{i})"
        for i, v in enumerate(columns)
    )
    row = con.execute(
        f"SELECT count(*), {found} FROM (SELECT __row, {values}, {flags} FROM "
        f"(SELECT __row, {values} FROM {MAPPED} LIMIT {EXPONENT_SAMPLE}))"
    ).fetchone()
    assert row is not None
    notes = []
    for i, col in enumerate(columns.values()):
        count, first_row, example = row[1 + 3 * i : 4 + 3 * i]
        if count:
            notes.append(
                f"{col.column_label} ({col.label}): {count:,} of {row[0]:,} rows looked at hold "
                f"a number as Excel shows a long one ({example}, first at row {first_row}): "
                "the rest of its digits are lost, so the file was opened and saved in Excel. "
                "Ask for an export straight from the system, or with the column formatted as "
                "text"
            )
    return notes


def _type_rule(col: Column) -> str | None:
    if col.field.type in ("date", "datetime") and col.mapping is not None:
        return "parses as " + ", ".join(col.mapping.formats)
    if col.derived_from is not None:
        return f"derived from {col.derived_from}"
    if col.field.type in ("integer", "number", "boolean"):
        return f"parses as {col.field.type}"
    return None


def _unmapped(con: duckdb.DuckDBPyConnection, plan: LoadPlan) -> list[UnmappedCode]:
    out: list[UnmappedCode] = []
    for col in plan.code_columns:
        p = plan.targets[col.target_index]
        rows = con.execute(
            f"SELECT {col.raw}, count(*), min(__row) FROM {MAPPED} WHERE {p.applies} AND "
            f"{col.raw} IS NOT NULL AND {col.value} IS NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100"
        ).fetchall()
        out += [
            UnmappedCode(
                col.table, col.field.name, col.column_label, str(r[0]), int(r[1]), int(r[2])
            )
            for r in rows
        ]
    return out


def _write_quality(con: duckdb.DuckDBPyConnection, result: LoadResult, load_id: str) -> None:
    _insert_values(
        con,
        "load_quality",
        [[load_id, q.table, q.field, q.rows, q.present, q.valid, q.rule] for q in result.quality],
    )
    _insert_values(
        con,
        "unmapped_code",
        [
            [load_id, u.table, u.field, u.column, u.local_value, u.rows, u.first_row]
            for u in result.unmapped
        ],
    )


def _insert_values(con: duckdb.DuckDBPyConnection, table: str, rows: list[list[object]]) -> None:
    """Insert `rows` in one statement: DuckDB's executemany runs the insert once per row
    (40 ms a load for its quality report's 10-30 rows)."""
    if not rows:
        return
    one = "(" + ", ".join("?" * len(rows[0])) + ")"
    con.execute(
        f"INSERT INTO {table} VALUES {', '.join([one] * len(rows))}",
        [value for row in rows for value in row],
    )


def _remove_load(con: duckdb.DuckDBPyConnection, old_load_id: str, new_load_id: str) -> None:
    from sectorlink.model import TABLES

    for table in (*TABLES, "rejects", "field_issues", "load_quality", "unmapped_code"):
        con.execute(f"DELETE FROM {table} WHERE load_id = ?", [old_load_id])
    con.execute("UPDATE load SET superseded_by = ? WHERE load_id = ?", [new_load_id, old_load_id])
