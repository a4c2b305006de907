"""Stage an Excel sheet's data rows with DuckDB string functions over the sheet XML.

The exact reader (`readers.excel.sheet_rows`) walks the XML in Python, one element at a time:
about 10k rows/s on a 15-column sheet. Here Python only cuts the XML into one string per
row; DuckDB splits the rows into cells and converts the values in parallel. The values are
the exact reader's: shared strings and date styles as openpyxl loaded them, numbers and
dates in the same text form. A cell whose value the SQL cannot give exactly (a number in
exponent form, a duration, a character reference such as ``&#10;``) is converted by the
exact reader's own rules in Python, one distinct value at a time. A sheet whose structure
the string functions cannot follow (rows or cells without a reference, CDATA, comments, rows
out of order) makes :func:`stage_sheet_sql` return False, and the exact reader is used.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa

from sectorlink.model.sql import integer_array, quote_literal

# Python's str.isspace() characters: a row is blank when every value is empty or only these.
SPACE_CLASS = (
    r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{3000}]*"
)
# Markup the cell splitting below does not understand; any of it sends the sheet to the
# exact reader. Looked for by DuckDB over the rows in parallel: twelve Python scans of the
# whole sheet took 0.5 s for the 58k-row law-centre sheet.
_UNSUPPORTED = r"<!\[CDATA\[|<!--|<\?|<c[>/\t\n\r]|<is[\t\n\r]"
# A row chunk's row number (its r attribute).
_ROWNUM = "TRY_CAST(regexp_extract(split_part(chunk, '>', 1), '\\sr=\"([0-9]+)\"', 1) AS BIGINT)"
_NUMERIC_REF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}


def _unescape_sql(expr: str) -> str:
    """XML text as a parser returns it: line ends normalised, the five named entities."""
    out = f"replace(replace({expr}, chr(13) || chr(10), chr(10)), chr(13), chr(10))"
    for entity, char in _ENTITIES.items():
        out = f"replace({out}, {quote_literal(entity)}, {quote_literal(char)})"
    return f"replace({out}, '&amp;', '&')"


def unescape_xml(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _NUMERIC_REF.sub(
        lambda m: chr(int(m.group(1)[1:], 16) if m.group(1)[0] == "x" else int(m.group(1))), text
    )
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


def _number_sql(v: str) -> str:
    """The text `_excel_text` gives a plain number, or NULL where the SQL is not sure.

    Decimal text of at most 15 significant digits, no trailing fraction zero, between 1e-4
    and 1e16 is what Python's float repr prints back; integers print as themselves.
    """
    significant = f"length(regexp_replace({v}, '^-?0?\\.?0*|[-.]', '', 'g'))"
    return (
        f"CASE WHEN regexp_full_match({v}, '-?(0|[1-9][0-9]*)') AND {v} <> '-0' THEN {v} "
        f"WHEN regexp_full_match({v}, '-?(0|[1-9][0-9]{{0,14}})\\.0+') "
        f"AND NOT starts_with({v}, '-0') THEN split_part({v}, '.', 1) "
        f"WHEN regexp_full_match({v}, '-?([1-9][0-9]{{0,14}}\\.[0-9]*[1-9]|0\\.0{{0,3}}[1-9]"
        f"([0-9]*[1-9])?)') AND {significant} <= 15 THEN {v} END"
    )


def _date_sql(v: str, epoch: dt.datetime) -> str:
    """openpyxl's from_excel (1900 leap-year bug, milliseconds rounded half to even), then
    `_excel_text`'s date or date-time text; NULL outside the range it is exact for."""
    x = f"TRY_CAST({v} AS DOUBLE)"
    windows = epoch == dt.datetime(1899, 12, 30)
    bump = f"CASE WHEN {x} < 60 THEN 1 ELSE 0 END" if windows else "0"
    ts = (
        f"(TIMESTAMP '{epoch:%Y-%m-%d %H:%M:%S}' + to_days(CAST(floor({x}) AS INTEGER) + {bump})"
        f" + to_milliseconds(CAST(round_even((({x} - floor({x})) * 86400) * 1000, 0) AS BIGINT)))"
    )
    return (
        f"CASE WHEN {x} >= 0 AND {x} < 2958465 THEN CASE WHEN {ts} = date_trunc('day', {ts}) "
        f"THEN strftime({ts}, '%Y-%m-%d') ELSE strftime({ts}, '%Y-%m-%d %H:%M:%S') END END"
    )


# The sheet XML is read in batches of about this many bytes, cut between rows, so a sheet
# of a million rows (a gigabyte of XML) never sits in memory whole: Python holds a few
# copies of one batch, DuckDB holds the cells and may spill them. A batch has a fixed cost
# (the law-centre sheet, 70 MB of XML, staged in 2.7 s in one batch, 2.8 s in 16 MB
# batches, 3.0 s in 8 MB, 4.0 s in 4 MB).
BATCH_BYTES = 16 << 20


class _ExactReaderNeeded(Exception):
    """The XML has a shape the batches below do not follow."""


def _row_batches(source: Any) -> Iterator[bytes]:
    """The content of `<sheetData>` in batches of whole rows: the first batch starts with the
    text before the first `<row`, every later one at a `<row`."""
    buffer = b""
    started = False
    while block := source.read(BATCH_BYTES):
        buffer += block
        if not started:
            start = buffer.find(b"<sheetData")
            if start < 0:
                continue
            buffer, started = buffer[start:], True
        end = buffer.find(b"</sheetData>")
        if end >= 0:
            yield buffer[:end]
            return
        cut = buffer.rfind(b"<row")
        if cut > 0:
            yield buffer[:cut]
            buffer = buffer[cut:]
    raise _ExactReaderNeeded  # no <sheetData> ... </sheetData> (an empty sheet is <sheetData/>)


def stage_sheet_sql(
    con: duckdb.DuckDBPyConnection,
    sheet: Any,
    width: int,
    table: str,
    exact_cell: Any,
    header_row: int = 1,
) -> bool:
    """Create `table` (`__row`, c0..c{width-1}) from the sheet's data rows (the rows below
    `header_row`).

    Rows missing from the XML or blank between data rows are kept as all-NULL rows; blank
    rows after the last data row are dropped, as the exact reader does. `exact_cell(kind,
    style, text)` converts one cell the exact reader's way. Returns False, creating nothing,
    when the sheet needs the exact reader.
    """
    if width == 0:
        return False
    workbook = sheet.parent
    shared = sheet._shared_strings
    strings = pa.table(
        {"idx": pa.array(range(len(shared)), pa.int64()), "text": pa.array(shared, pa.string())}
    )
    con.register("__xlsx_strings", strings)
    try:
        with workbook._archive.open(sheet._worksheet_path) as source:
            rows = _stage_cells(con, workbook, source)
        return rows > 0 and _stage(con, width, table, exact_cell, header_row)
    except _ExactReaderNeeded:
        return False
    finally:
        con.unregister("__xlsx_strings")
        for name in ("__xlsx_cells", "__xlsx_rownums"):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _stage_cells(con: duckdb.DuckDBPyConnection, workbook: Any, source: Any) -> int:
    """Split the sheet's rows into the cells table, a batch at a time; the number of rows.

    Raises _ExactReaderNeeded for markup the splitting does not follow, or text that is not
    UTF-8 (the exact reader decodes it)."""
    cells = _cells_sql(workbook)
    offset, created = 0, False
    for batch in _row_batches(source):
        chunks = batch.split(b"<row")
        del batch
        if re.search(_UNSUPPORTED.encode(), chunks[0]):  # the markup before the first row
            raise _ExactReaderNeeded
        chunks = chunks[1:]
        if not chunks:
            continue
        try:
            rows = pa.table(
                {
                    "i": pa.array(range(offset, offset + len(chunks)), pa.int64()),
                    "chunk": pa.array(chunks, pa.binary()).cast(pa.string()),
                }
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            raise _ExactReaderNeeded from None
        offset += len(chunks)
        del chunks
        con.register("__xlsx_rows", rows)
        try:
            unsupported = con.execute(
                "SELECT count(*) FROM __xlsx_rows WHERE regexp_matches(chunk, ?)", [_UNSUPPORTED]
            ).fetchall()
            if unsupported[0][0]:
                raise _ExactReaderNeeded
            into = "INSERT INTO {}" if created else "CREATE TEMP TABLE {} AS"
            con.execute(f"{into.format('__xlsx_cells')} {cells}")
            con.execute(
                f"{into.format('__xlsx_rownums')} SELECT i, {_ROWNUM} AS rownum FROM __xlsx_rows"
            )
            created = True
        finally:
            con.unregister("__xlsx_rows")
    return offset


def _cells_sql(workbook: Any) -> str:
    """The cells of the rows in `__xlsx_rows`: row, column letters, type, style, value."""
    dates = integer_array(workbook._date_formats)
    durations = integer_array(workbook._timedelta_formats)
    # One <t> element (the usual inline string) is cut out with string functions; rich
    # text runs and phonetic runs take the regular expressions.
    # `<is><t>text</t></is>`: the first </t> closes the only <t> when </is> follows it.
    one_t = (
        "starts_with(content, '<is><t') AND strpos(content, '</t>') > 0 "
        "AND strpos(content, '</t>') = strpos(content, '</t></is>')"
    )
    inner = "split_part(split_part(content, '</t>', 1), '<t', 2)"  # '>text' or ' attrs>text'
    after_tag = f"substr({inner}, strpos({inner}, '>') + 1)"
    inline = (
        f"CASE WHEN {one_t} THEN {after_tag} "
        "ELSE array_to_string(regexp_extract_all(regexp_replace(content, "
        "'(?s)<rPh\\b.*?</rPh>', '', 'g'), '(?s)<t(?:\\s[^>]*[^/])?>(.*?)</t>', 1), '') END"
    )
    numeric = "kind IN ('', 'n')"
    dated = f"list_contains({dates}, style)"
    # Text before XML unescaping (inline strings, formula text, errors) or the final text.
    text = (
        f"CASE WHEN kind = 'inlineStr' THEN CASE WHEN has_is THEN {inline} END "
        f"WHEN v = '' THEN NULL WHEN kind = 's' THEN s.text "
        f"WHEN kind = 'b' THEN CASE v WHEN '1' THEN 'true' WHEN '0' THEN 'false' END "
        f"WHEN {numeric} AND {dated} THEN {_date_sql('v', workbook.epoch)} "
        f"WHEN {numeric} THEN {_number_sql('v')} "
        f"WHEN kind = 'd' THEN NULL ELSE v END"
    )
    escaped = "kind NOT IN ('', 'n', 's', 'b', 'd')"
    value = (
        f"CASE WHEN {escaped} AND (contains(__text, '&') OR contains(__text, chr(13))) "
        f"THEN {_unescape_sql('__text')} ELSE __text END"
    )
    # Which cells the SQL value above may not give exactly: the exact rules convert those.
    exact = (
        f"CASE WHEN kind = 'inlineStr' THEN has_is AND contains(__text, '&#') "
        f"WHEN v = '' THEN false "
        f"ELSE contains(v, '&#') OR (kind = 's' AND __text IS NULL) OR kind = 'd' "
        f"OR (kind = 'b' AND v NOT IN ('0', '1')) "
        f"OR ({numeric} AND (list_contains({durations}, style) OR __text IS NULL)) END"
    )
    return f"""
        WITH row_chunks AS (
            SELECT i, {_ROWNUM} AS rownum, string_split(chunk, '<c ') AS parts
            FROM __xlsx_rows
        ), cells AS (
            SELECT i, rownum, unnest(parts[2:]) AS cell
            FROM row_chunks
        ), parsed AS (
            SELECT i, rownum, ' ' || split_part(cell, '>', 1) AS attrs,
                   CASE WHEN ends_with(split_part(cell, '>', 1), '/')
                             OR NOT contains(cell, '>') THEN ''
                        ELSE substr(cell, strpos(cell, '>') + 1) END AS content
            FROM cells
        ), typed AS (
            -- An attribute's value: one match without a second split (split_part builds a
            -- list per call), about half the cost.
            SELECT i, rownum, content,
                   rtrim(regexp_extract(attrs, ' r="([^"]*)', 1), '0123456789') AS letters,
                   coalesce(nullif(regexp_extract(attrs, ' t="([^"]*)', 1), ''), 'n') AS kind,
                   coalesce(TRY_CAST(nullif(regexp_extract(attrs, ' s="([^"]*)', 1), '')
                            AS INTEGER), 0) AS style,
                   CASE WHEN contains(content, '<v>')
                        THEN split_part(split_part(content, '<v>', 2), '</v>', 1)
                        WHEN contains(content, '<v ')
                        THEN regexp_extract(content, '(?s)<v\\s[^>]*>(.*?)</v>', 1)
                        ELSE '' END AS v,
                   contains(content, '<is>') OR contains(content, '<is/>')
                       OR contains(content, '<is ') AS has_is,
                   contains(attrs, chr(9)) OR contains(attrs, chr(10))
                       OR contains(attrs, chr(13)) OR contains(attrs, chr(39)) AS odd_attrs
            FROM parsed
        )
        SELECT i, rownum, letters, kind, style, v, has_is, odd_attrs, {value} AS __value,
               __exact, CASE WHEN __exact THEN content END AS content
        FROM (SELECT *, {exact} AS __exact
              FROM (SELECT t.*, {text} AS __text
                    FROM typed t LEFT JOIN __xlsx_strings s
                    ON t.kind = 's' AND s.idx = TRY_CAST(t.v AS BIGINT)))
        """


def _stage(
    con: duckdb.DuckDBPyConnection, width: int, table: str, exact_cell: Any, header_row: int
) -> bool:
    """Check the cells, convert the ones SQL cannot, pivot them into `table`."""
    check = con.execute(
        """SELECT
            (SELECT count(*) FILTER (rownum IS NULL) + count(*) FILTER (rownum <= prev)
             FROM (SELECT rownum, lag(rownum) OVER (ORDER BY i) AS prev FROM __xlsx_rownums)),
            (SELECT count(*) FILTER (letters = '' OR odd_attrs) FROM __xlsx_cells),
            (SELECT count(*) - count(DISTINCT (i, letters)) FROM __xlsx_cells),
            (SELECT count(*) FILTER (__exact) FROM __xlsx_cells)"""
    ).fetchall()[0]
    if check[0] or check[1] or check[2]:
        return False
    if check[3]:
        _convert_exactly(con, exact_cell)
    columns = {
        letters: _column_number(letters)
        for (letters,) in con.execute("SELECT DISTINCT letters FROM __xlsx_cells").fetchall()
    }
    if not all(_LETTERS.fullmatch(letters) for letters in columns):
        return False
    mapping = pa.table(
        {
            "letters": pa.array(list(columns), pa.string()),
            "col": pa.array(list(columns.values()), pa.int64()),
        }
    )
    con.register("__xlsx_columns", mapping)
    try:
        pivot = ", ".join(f"CASE WHEN d.__data THEN d.c{k} END AS c{k}" for k in range(width))
        picks = ", ".join(f"max(__value) FILTER (col = {k + 1}) AS c{k}" for k in range(width))
        con.execute(
            f"""CREATE TEMP TABLE {table} AS
            WITH data AS (
                SELECT rownum AS __row, {picks},
                       bool_or(__value IS NOT NULL AND NOT regexp_full_match(__value,
                               '{SPACE_CLASS}')) AS __data
                FROM __xlsx_cells JOIN __xlsx_columns USING (letters)
                WHERE col <= {width} AND rownum > {header_row} GROUP BY rownum
            )
            SELECT r.__row, {pivot}
            FROM range({header_row + 1},
                       (SELECT coalesce(max(__row), {header_row}) + 1 FROM data WHERE __data))
                 r(__row) LEFT JOIN data d ON d.__row = r.__row
            ORDER BY r.__row"""
        )
    finally:
        con.unregister("__xlsx_columns")
    return True


def _convert_exactly(con: duckdb.DuckDBPyConnection, exact_cell: Any) -> None:
    """Give the cells flagged `__exact` their value by the exact reader's rules (in Python,
    once per distinct kind, style and text: such cells are few)."""
    distinct = con.execute(
        "SELECT DISTINCT kind, style, v, has_is, content FROM __xlsx_cells WHERE __exact"
    ).fetchall()
    keys, values = [], []
    for kind, style, v, has_is, content in distinct:
        if kind == "inlineStr":
            text = exact_cell(kind, style, _inline_raw(content) if has_is else None)
        else:
            text = exact_cell(kind, style, unescape_xml(v))
        keys.append((kind, style, v, content))
        values.append(text)
    table = pa.table(
        {
            "kind": pa.array([k[0] for k in keys], pa.string()),
            "style": pa.array([k[1] for k in keys], pa.int32()),
            "v": pa.array([k[2] for k in keys], pa.string()),
            "content": pa.array([k[3] for k in keys], pa.string()),
            "exact_value": pa.array(values, pa.string()),
        }
    )
    con.register("__xlsx_exact", table)
    try:
        con.execute(
            "UPDATE __xlsx_cells c SET __value = e.exact_value FROM __xlsx_exact e "
            "WHERE c.__exact AND c.kind = e.kind AND c.style = e.style AND c.v = e.v "
            "AND c.content = e.content"
        )
    finally:
        con.unregister("__xlsx_exact")


_LETTERS = re.compile("[A-Z]{1,3}")
_T = re.compile(r"<t(?:\s[^>]*[^/])?>(.*?)</t>", re.S)
_RPH = re.compile(r"<rPh\b.*?</rPh>", re.S)


def _inline_raw(content: str) -> str:
    return unescape_xml("".join(_T.findall(_RPH.sub("", content))))


def _column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number
