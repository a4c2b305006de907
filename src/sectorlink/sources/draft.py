"""Draft a mapping spec from a partner's file, for a person to check and finish.

The draft reads the file the way ingest will: it finds the encoding, the delimiter, the row
holding the column names and, in a workbook, the sheet holding the data; then it matches
column names to person fields, finds each date column's formats by parsing a sample with
DuckDB (the parser ingest uses), splits a full-name column in the style its values show,
and lists codes the built-in crosswalks do not know. What it cannot tell (which rows are
events, of which type) it leaves as commented TODOs. When the file has an id column and
person fields, the draft parses and runs under ``sectorlink ingest --check`` as it stands
(:attr:`DraftSpec.ready`); otherwise it says what a person must add.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from sectorlink.model import CODE_SETS, fold_code, get_table
from sectorlink.sources.errors import FileFormatError
from sectorlink.sources.readers import (
    StagedFile,
    file_format,
    header_again_sql,
    is_unnamed,
    open_workbook,
    packing,
    stage_file,
    unpack_csv,
)
from sectorlink.sources.reasons import FileErrorCode
from sectorlink.sources.spec import FileOptions
from sectorlink.sources.transform import TITLES, lit, text_sql

SAMPLE_ROWS = 2000
"""Rows of the file the draft looks at (the first ones)."""

# 'ChildName', 'Victim Name': a full name; 'Clinic Name' is not.
_PERSON_NAMES = tuple(
    who + "name"
    for who in (
        "patient", "client", "child", "victim", "person", "serviceuser", "resident",
        "customer", "member", "subject", "pupil", "tenant", "applicant", "full",
    )
)  # fmt: skip
# Texts partners write for an empty value; one found in the sample is proposed for
# `file.missing` ('-' only when two columns use it).
_MARKERS = ("NULL", "null", "N/A", "n/a", "#N/A", "NaN", "None", "-")

# Person fields by what their column is called: names are compared lower-cased with
# everything but letters and digits removed ('Date of Birth' -> 'dateofbirth'). The first
# field whose test a column passes takes it; a field takes one column.
_NAMED: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # (field, exact names, name parts)
    ("nhs_number", (), ("nhs",)),
    ("ni_number", ("nino",), ("ninumber", "nationalinsurance")),
    ("ssn", ("ssn",), ("socialsecurity",)),
    ("alias", ("aka", "alias", "aliases"), ("alias", "knownas", "previousname", "formername")),
    ("email", (), ("email",)),
    ("birth_date", ("dob", "yob", "birthyear"), ("dateofbirth", "birthdate", "yearofbirth")),
    ("given_name", ("first",), ("forename", "firstname", "givenname")),
    ("middle_names", (), ("middlename",)),
    ("family_name", ("last",), ("surname", "lastname", "familyname")),
    ("title", ("title", "salutation"), ()),
    ("full_name", ("name", "fullname"), _PERSON_NAMES),
    ("sex", ("sex", "gender"), ("gender",)),
    ("postcode", ("zip", "zipcode"), ("postcode", "postalcode")),
    ("address", (), ("address",)),
    ("phone", ("tel", "mobile"), ("phone", "mobile", "telephone", "contactno", "contactnumber")),
    ("age_years", ("age", "ageyears"), ("ageat", "ageon", "ageyears")),
    ("local_person_id", (), ()),  # by _person_id, last: 'PatientPhoneNumber' is a phone
)
_ID_NAMES = ("id", "ref", "urn", "no", "number", "key")
# 'ChildDOB', 'Patient_DOB': a birth date named after whose it is ('DOBDataQuality' is not).
_BIRTH_SUFFIXES = ("dob", "dateofbirth", "birthdate")
# An id column (other than the record id) naming one of these is the partner's own id of
# the person ('HospitalNo', 'Person ID', 'ChildID'), which repeats across their records;
# 'CrimeNo' and 'CaseNo' name events.
_PERSON_ID_WORDS = (
    "patient", "person", "client", "child", "hospital", "serviceuser", "resident", "customer",
    "member", "pupil", "tenant", "applicant", "individual", "mrn",
)  # fmt: skip
# Fields that say who a record is about; without one, a row is not drafted as a person.
_NAMING = {
    "full_name", "given_name", "family_name", "birth_date", "nhs_number", "ni_number", "ssn",
    "email",
}  # fmt: skip

# Date and date-time formats tried on a date column's values, most specific first.
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%z",  # 1980-02-01T00:00:00Z, as JSON APIs write a date
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d/%m/%y",
    "%Y%m%d",
    "%d-%b-%Y",
    "%d %b %Y",
)
_SHARE = 0.98
"""A format (or a split style, or an id) must hold for this share of a sample's values."""


@dataclass
class DraftSpec:
    """A drafted spec: its YAML text and what was found."""

    text: str
    file_options: FileOptions
    fields: dict[str, str] = field(default_factory=dict)
    """Person field -> the column mapped to it."""
    record_id: str | None = None
    date_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Every column whose values parse as dates -> the formats that read them."""
    unmapped_columns: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    """What a person must decide (also written into the text as comments)."""

    @property
    def ready(self) -> bool:
        """Whether the draft is a valid spec as it stands (it maps person records)."""
        return self.record_id is not None and bool(self.fields)


def draft_spec(
    file: Path | str, *, source: str | None = None, sample_rows: int = SAMPLE_ROWS
) -> DraftSpec:
    """Draft a mapping spec for `file` (CSV, Excel or Parquet).

    Raises:
        FileFormatError: the file cannot be read (the same errors ingest gives).

    Example:
        >>> draft = draft_spec("extracts/ae.csv", source="ae_northgate")
        >>> Path("specs/ae.yaml").write_text(draft.text)
    """
    path = Path(file)
    if not path.is_file():
        missing = not path.exists()
        raise FileFormatError(
            "file not found" if missing else "not a file",
            file=path,
            code=FileErrorCode.FILE_NOT_FOUND if missing else FileErrorCode.NOT_A_FILE,
        )
    fmt = file_format(path, FileOptions())
    kind = packing(path) if fmt == "csv" else None
    if kind is not None:  # extract.csv.gz: drafted from an unpacked copy, as ingest reads it
        with tempfile.TemporaryDirectory(prefix="sectorlink-") as tmp:
            inner = Path(tmp) / path.stem
            unpack_csv(path, kind, inner)
            return _draft_file(inner, path, fmt, source, sample_rows)
    return _draft_file(path, path, fmt, source, sample_rows)


def _draft_file(
    path: Path, named: Path, fmt: str, source: str | None, sample_rows: int
) -> DraftSpec:
    con = duckdb.connect()
    try:
        options, staged = _stage(con, path, fmt)
        # A header repeated inside the file (exports joined) is no row to learn from.
        header_again = header_again_sql(staged)
        data = f"WHERE NOT ({header_again})" if header_again else ""
        con.execute(
            f"CREATE TEMP TABLE __sample AS SELECT * FROM __staging {data} LIMIT {sample_rows}"
        )
        return _draft(con, named, options, staged, source or _source_name(named))
    finally:
        con.close()


# --- reading the file --------------------------------------------------------------------
def _stage(con: duckdb.DuckDBPyConnection, path: Path, fmt: str) -> tuple[FileOptions, StagedFile]:
    if fmt == "parquet":
        options = FileOptions(format="parquet")
        return options, stage_file(con, path, options)
    if fmt == "excel":
        sheet, header_row = _excel_layout(path)
        options = FileOptions(format="excel", sheet=sheet, header_row=header_row)
        return options, stage_file(con, path, options)
    last: FileFormatError | None = None
    for encoding in _encodings(path):
        header_row = _csv_header_row(path, encoding)
        options = FileOptions(format="csv", encoding=encoding, header_row=header_row)
        try:
            try:
                staged = stage_file(con, path, options)
            except FileFormatError as exc:
                if exc.code is not FileErrorCode.LIKELY_FOOTER or exc.footer_rows is None:
                    raise
                # The reader's own diagnosis: short rows at the end are a report's footer.
                options = dataclasses.replace(options, footer_rows=exc.footer_rows)
                staged = stage_file(con, path, options)
        except FileFormatError as exc:
            if exc.code is not FileErrorCode.WRONG_ENCODING:
                raise
            last = exc  # a byte past the sample shows the encoding was wrong: try the next
            continue
        return dataclasses.replace(options, delimiter=staged.delimiter), staged
    assert last is not None
    raise last


def _encodings(path: Path) -> list[str]:
    """Encodings to try, likeliest first, from the file's first megabyte."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ["utf-16"]
    try:
        head.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError as exc:
        utf8 = exc.start > len(head) - 4  # only cut inside a character at the end
    # windows-1252 uses 0x80-0x9F for letters and signs that latin-1 keeps as controls.
    # Past the first megabyte such a byte still shows windows-1252: the reader refuses it in
    # a latin-1 file, and the next encoding is tried.
    eight_bit = (
        ["windows-1252", "latin-1"]
        if re.search(rb"[\x80-\x9f]", head)
        else ["latin-1", "windows-1252"]
    )
    return ["utf-8", *eight_bit] if utf8 else eight_bit


def _csv_header_row(path: Path, encoding: str) -> int:
    """The line holding the column names: where the first record starts that has as many
    fields as most records after it (a title or a blank line above it has fewer). Records,
    not lines: a wrapped header name holds a line break inside quotes."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    text = head.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
    text = text[: text.rfind("\n") + 1] or text  # the last line may be cut
    best: list[tuple[int, int]] = []
    for delimiter in ",;\t|":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records: list[tuple[int, int]] = []  # (line the record starts on, fields)
        start = 1
        try:
            for row in reader:
                fields = len(row) if any(v.strip() for v in row) else 0
                records.append((start, fields))
                start = reader.line_num + 1
                if len(records) == 30:
                    break
        except csv.Error:
            continue
        body = [f for _, f in records[len(records) // 3 :] if f > 1]
        if body and (not best or max(body) > max(f for _, f in best)):
            best = records
    if not best:
        return 1
    body = [f for _, f in best[len(best) // 3 :] if f > 1]
    usual = max(set(body), key=body.count)
    return next((line for line, fields in best if fields == usual), 1)


def _excel_layout(path: Path) -> tuple[str | None, int]:
    """(the sheet with the most rows, its header row) of a workbook."""
    workbook = open_workbook(path)
    try:
        sizes = {ws.title: ws.max_row or 0 for ws in workbook.worksheets}
        name = max(sizes, key=lambda title: sizes[title]) if sizes else None
        if name is None:
            return None, 1
        widths = []
        for row in workbook[name].iter_rows(max_row=30, values_only=True):
            widths.append(sum(1 for v in row if v is not None and str(v).strip()))
        body = [w for w in widths[len(widths) // 3 :] if w > 1] or [w for w in widths if w]
        usual = max(set(body), key=body.count) if body else 1
        # A header row is at least as full as the data rows under it.
        header = next((i + 1 for i, w in enumerate(widths) if w >= usual), 1)
        first = workbook.sheetnames[0]
        return (None if name == first else name), header
    finally:
        workbook.close()


def _source_name(path: Path) -> str:
    stem = path.name.lower().split(".")[0]  # extract.csv.gz: extract
    name = re.sub(r"[^a-z0-9]+", "_", stem).strip("_")
    return name if re.match(r"[a-z]", name) else f"source_{name}"


# --- matching columns to fields ----------------------------------------------------------
def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _named_field(column: str, taken: set[str]) -> str | None:
    key = _key(column)
    for name, exact, parts in _NAMED:
        if name in taken:
            continue
        if key in exact or any(part in key for part in parts):
            return name
        if name == "birth_date" and key.endswith(_BIRTH_SUFFIXES):
            return name
        if name == "local_person_id" and _person_id(key):
            return name
    return None


def _person_id(key: str) -> bool:
    return any(key.endswith(n) for n in _ID_NAMES) and any(w in key for w in _PERSON_ID_WORDS)


@dataclass(frozen=True)
class _Column:
    name: str
    value: str
    """SQL for the column's value as ingest reads it: trimmed, NULL when empty or a marker."""
    present: int
    distinct: int


def _draft(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: FileOptions,
    staged: StagedFile,
    source: str,
) -> DraftSpec:
    missing = _markers(con, staged)
    if missing:
        options = dataclasses.replace(options, missing=missing)
    columns = _profile(con, staged, missing)
    rows = max((c.present for c in columns), default=0)
    draft = DraftSpec(text="", file_options=options)
    lines: list[str] = []  # the person block
    taken: set[str] = set()
    used: set[str] = set()
    record_id = _record_id(con, columns, rows)
    dates = {c.name: _date_formats(con, c) for c in columns if c.present}
    draft.date_columns = {name: fmts for name, fmts in dates.items() if fmts}
    for col in columns:
        if col.name == record_id or not col.present:
            continue
        name = _named_field(col.name, taken)
        if name is None:
            continue
        entry = _field_entry(con, draft, name, col)
        if entry is None:
            continue
        taken.add(name)
        used.add(col.name)
        draft.fields[name] = col.name
        lines.append(entry)
    if "age_years" in draft.fields and "age_at_date" not in draft.fields:
        entry = _age_at_date(draft, draft.fields["age_years"], columns)
        if entry is not None:
            lines.append(entry)
    draft.record_id = record_id
    if record_id is None:
        draft.todo.append(
            "no column has a different, non-empty value on every row: set record_id to the "
            "column that identifies each row's person record"
        )
    else:
        used.add(record_id)
    if draft.fields and not set(draft.fields) & _NAMING:
        # An address and a postcode alone describe a place (a property, an incident's
        # location), not a person: no person records are drafted from them. A person id
        # alone is an events file's reference to its partner's person records.
        places = ", ".join(c for f, c in draft.fields.items() if f != "local_person_id")
        if places:
            draft.todo.append(
                f"{places}: no name, birth date or identifier beside them, so the rows look "
                "like places or incidents, not people; map them under tables: or as events"
            )
        used -= set(draft.fields.values())
        draft.fields = {}
        lines = []
    draft.unmapped_columns = [c.name for c in columns if c.name not in used]
    if not draft.fields and not draft.todo:
        draft.todo.append(
            "no column is named like a person field: if each row is an event about a person "
            "recorded in another file, map events (event_type, record_id, start_time) instead"
        )
    draft.text = _render(path, source, options, draft, lines)
    return draft


def _markers(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> tuple[str, ...]:
    """The texts for 'no value' the sample uses (see `_MARKERS`)."""
    if not staged.columns:
        return ()
    counts = ", ".join(f"count(*) FILTER (list_contains(markers, {lit(m)}))" for m in _MARKERS)
    candidates = ", ".join(lit(m) for m in _MARKERS)
    per_column = " UNION ALL ".join(
        f"SELECT list(DISTINCT trim({c})) FILTER (trim({c}) IN ({candidates})) AS markers "
        "FROM __sample"
        for c in staged.columns.values()
    )
    row = con.execute(f"SELECT {counts} FROM ({per_column}) WHERE markers IS NOT NULL").fetchone()
    assert row is not None
    return tuple(m for m, n in zip(_MARKERS, row, strict=True) if n >= (2 if m == "-" else 1))


def _profile(
    con: duckdb.DuckDBPyConnection, staged: StagedFile, missing: tuple[str, ...]
) -> list[_Column]:
    if not staged.columns:
        return []
    # A column without a name (a row index pandas or R wrote) is no field of the partner's.
    values = {
        name: text_sql(c, missing) for name, c in staged.columns.items() if not is_unnamed(name)
    }
    if not values:
        return []
    parts = ", ".join(f"count({v}), count(DISTINCT {v})" for v in values.values())
    row = con.execute(f"SELECT {parts} FROM __sample").fetchone()
    assert row is not None
    return [
        _Column(name, value, int(row[2 * i]), int(row[2 * i + 1]))
        for i, (name, value) in enumerate(values.items())
    ]


def _record_id(con: duckdb.DuckDBPyConnection, columns: list[_Column], rows: int) -> str | None:
    """The column that names each row: filled and different on (nearly) every row,
    preferring one called like an id. A row sent twice repeats its id (ingest rejects the
    second), so a column named like an id may repeat on up to 5% of rows."""
    filled = [c for c in columns if rows and c.present >= _SHARE * rows]
    named = [
        c
        for c in filled
        if any(_key(c.name).endswith(n) for n in _ID_NAMES) and c.distinct >= 0.95 * c.present
    ]
    unique = [c for c in filled if c.distinct >= _SHARE * c.present]
    for candidates in (named, unique):
        for col in candidates:
            if not _date_formats(con, col):  # a time stamp is unique too, but not an id
                return col.name
    return None


def _values(con: duckdb.DuckDBPyConnection, col: _Column, limit: int = 200) -> list[str]:
    rows = con.execute(
        f"SELECT DISTINCT {col.value} FROM __sample WHERE {col.value} IS NOT NULL LIMIT {limit}"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _date_formats(con: duckdb.DuckDBPyConnection, col: _Column) -> tuple[str, ...]:
    """The formats that read (nearly) all of a column's values as dates, tried with DuckDB's
    parser; day-first or month-first as the values show, day-first when they cannot."""
    if not col.present:
        return ()
    value = col.value
    utc = f"regexp_replace({value}, 'Z$', '+00:00')"  # as ingest reads a trailing Z
    counts = ", ".join(
        f"count(try_strptime({utc if '%z' in f else value}, {lit(f)}))" for f in _DATE_FORMATS
    )
    year_only = f"count(*) FILTER (regexp_full_match({value}, '[12][0-9]{{3}}'))"
    row = con.execute(f"SELECT count({value}), {year_only}, {counts} FROM __sample").fetchone()
    assert row is not None
    present, years, parsed = int(row[0]), int(row[1]), [int(n) for n in row[2:]]
    if not present or years == present:
        return ()  # nothing, or years alone (a birth year is read without a format)
    chosen: list[str] = []
    covered = years
    for fmt, count in sorted(zip(_DATE_FORMATS, parsed, strict=True), key=lambda p: -p[1]):
        if count == 0 or covered >= _SHARE * present:
            break
        if _swapped(fmt) in chosen:
            continue  # never both day-first and month-first: 03/04 would take the first
        chosen.append(fmt)
        covered += count
    return tuple(chosen) if covered >= _SHARE * present else ()


def _swapped(fmt: str) -> str:
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _name_split(values: list[str]) -> str:
    if values and sum("," in v for v in values) >= _SHARE * len(values):
        return "surname_comma_forename"
    titled = re.compile(rf"(?i)({'|'.join(TITLES)})\.?\s")
    if any(titled.match(v) for v in values):
        return "title_forename_middle_surname"
    return "forename_surname"


def _field_entry(
    con: duckdb.DuckDBPyConnection, draft: DraftSpec, name: str, col: _Column
) -> str | None:
    """The spec line for `name` read from `col`, or None when its values do not fit."""
    column = json.dumps(col.name)
    values = _values(con, col)
    shown = ", ".join(repr(v) for v in values[:3])
    if name == "birth_date":
        formats = draft.date_columns.get(col.name, ())
        if not formats:
            if all(re.fullmatch(r"[12][0-9]{3}", v) for v in values):
                return f"  birth_date: {column}  # years only: they fill birth_year"
            draft.todo.append(f"{col.name}: values such as {shown} did not parse as dates")
            return None
        return f"  birth_date: {{column: {column}, formats: {_flow(formats)}}}  # e.g. {shown}"
    if name == "full_name":
        style = _name_split(values)
        return f"  full_name: {{column: {column}, split: {style}}}  # e.g. {shown}"
    if name == "age_years" and not all(re.fullmatch(r"[0-9]{1,3}", v) for v in values):
        return None
    table_field = get_table("person_record").field(name)
    if table_field.code_set is not None:
        known = CODE_SETS[table_field.code_set].crosswalk()
        unknown = [v for v in values if fold_code(v) not in known]
        if unknown:
            codes = ", ".join(f"{json.dumps(v)}: ?" for v in unknown[:10])
            draft.todo.append(
                f"{col.name}: the {table_field.code_set} crosswalk does not know {codes}; add "
                "them under codes: (docs/mapping.md), or they load as empty and are reported"
            )
        return f"  {name}: {column}  # values: {shown}"
    return f"  {name}: {column}  # e.g. {shown}"


def _age_at_date(draft: DraftSpec, age: str, columns: list[_Column]) -> str | None:
    """The `age_at_date` line for an age column: the date the age was taken on, without
    which an age says nothing about a birth year. That is the row's own date (an arrival,
    a call, a report): a date column other than the birth date, preferring one whose name
    shares a word with the age's ('AgeOnArrival' and 'ArrivalDT'), then the fullest."""
    present = {c.name: c.present for c in columns}
    mapped = set(draft.fields.values())
    dates = [name for name in draft.date_columns if name not in mapped]
    if not dates:
        draft.todo.append(
            f"{age}: an age needs the date it was taken on; map that date as age_at_date"
        )
        return None
    word = re.sub(r"^age(at|on|years|when)?", "", _key(age))
    order = {name: i for i, name in enumerate(present)}

    def rank(name: str) -> tuple[bool, int, int]:
        return (not (len(word) >= 3 and word[:4] in _key(name)), -present[name], order[name])

    chosen = min(dates, key=rank)
    draft.fields["age_at_date"] = chosen
    formats = _flow(draft.date_columns[chosen])
    return (
        f"  age_at_date: {{column: {json.dumps(chosen)}, formats: {formats}}}"
        f"  # the date {age} was taken on: check it"
    )


def _flow(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


# --- writing the draft -------------------------------------------------------------------
def _render(
    path: Path, source: str, options: FileOptions, draft: DraftSpec, person: list[str]
) -> str:
    out = [
        f"# Drafted by `sectorlink spec draft` from {path.name}. Check every line, then run",
        f"#   sectorlink ingest THIS_SPEC.yaml {path.name} --check",
        "# The spec's keys are in docs/mapping.md.",
        "spec_version: 1",
        f"source: {source}  # the name this extract's rows are stored under",
        "partner: TODO  # the organisation that sends the file",
        f"description: {json.dumps(f'Drafted from {path.name}; say what one row is.')}",
        "file:",
        f"  format: {options.format}",
    ]
    if options.format == "csv":
        out.append(f"  delimiter: {json.dumps(options.delimiter or ',')}")
        out.append(f"  encoding: {options.encoding}")
    if options.sheet is not None:
        out.append(f"  sheet: {json.dumps(options.sheet)}")
    if options.header_row != 1:
        out.append(f"  header_row: {options.header_row}  # the rows above it hold a title")
    if options.footer_rows:
        out.append(f"  footer_rows: {options.footer_rows}  # the last lines are no data rows")
    if options.missing:
        out.append(f"  missing: {_flow(options.missing)}  # found in the sample: 'no value'")
    if draft.record_id is not None:
        out.append(f"record_id: {json.dumps(draft.record_id)}")
    else:
        out.append("# record_id: TODO  # the column identifying each row's person record")
    if person and draft.record_id is not None:
        out += ["person:", *person]
    elif person:
        out += ["# person:  (needs record_id)", *(f"# {line}" for line in person)]
    out.append("# events:  TODO: which rows are events, of which type, and when? For example")
    out.append("#   - event_type: {value: gp_registration}  # a code of the event_type code set")
    dated = [name for name in draft.date_columns if name not in draft.fields.values()]
    for name in dated[:1]:
        formats = _flow(draft.date_columns[name])
        out.append(f"#     start_time: {{column: {json.dumps(name)}, formats: {formats}}}")
    if dated:
        out.append(f"# Date columns: {', '.join(dated)}.")
    if draft.unmapped_columns:
        out.append(f"# Columns not mapped: {', '.join(draft.unmapped_columns)}.")
    for todo in draft.todo:
        out.append(f"# TODO: {todo}")
    return "\n".join(out) + "\n"
