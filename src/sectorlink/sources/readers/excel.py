"""The Excel reader: one path for every sheet.

The workbook is opened with openpyxl (read-only, cached formula values) and the header read
from the sheet's XML; the data rows are staged by the SQL reader (`readers.excel_xml`,
DuckDB string functions over the XML in batches) or, for a sheet whose markup it does not
follow, by the exact reader here (Python over the XML, one element at a time). Both give
the same values (the exact reader's rules, `excel_text` of `cell_value`), the same rows
(blank rows inside the data kept, trailing ones dropped) and the same table, and the
steps after staging (footer rows, the staging view) are the same code.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Generator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sectorlink.sources.errors import FileFormatError
from sectorlink.sources.readers import excel_xml
from sectorlink.sources.readers.staged import STAGING, StagedFile, check_header, name_unnamed
from sectorlink.sources.reasons import FileErrorCode
from sectorlink.sources.spec import FileOptions


def excel_text(value: object) -> str | None:
    """A cell value as the staging table holds it (both readers' rule): a date as ISO text,
    a whole float without '.0', a boolean as true/false."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M:%S")
            if value.time() != dt.time()
            else value.strftime("%Y-%m-%d")
        )
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE = (_MAIN + t for t in ("row", "c", "v", "is"))
_TEXT, _RUN = _MAIN + "t", _MAIN + "r"


@functools.cache
def column_number(letters: str) -> int:
    """1 for 'A', 28 for 'AB' (the letters of a cell reference such as 'AB3')."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def _inline_text(element: Any) -> str:
    """An inline string's text as openpyxl gives it: plain text, then rich-text runs."""
    parts = []
    for child in element:
        if child.tag == _TEXT:
            parts.append(child.text or "")
        elif child.tag == _RUN:
            parts += [t.text or "" for t in child if t.tag == _TEXT]
    return "".join(parts)


def cell_value(workbook: Any, shared: Any, kind: str, style: int, text: str | None) -> object:
    """A cell's value as openpyxl's read-only rows give it, from its type, style and text
    (the `<v>` text, or an inline string's text)."""
    from openpyxl.utils.datetime import from_excel, from_ISO8601

    if kind == "inlineStr":
        return text
    if text is None or text == "":
        return None
    if kind == "n":
        value: object = float(text) if any(c in text for c in ".Ee") else int(text)
        if style in workbook._date_formats:
            try:
                return from_excel(
                    value, workbook.epoch, timedelta=style in workbook._timedelta_formats
                )
            except (OverflowError, ValueError):
                return "#VALUE!"  # as openpyxl: a date serial out of range
        return value
    if kind == "s":
        return shared[int(text)]
    if kind == "b":
        return bool(int(text))
    if kind == "d":
        return from_ISO8601(text)
    return text  # "str" (a formula's text) and "e" (an error such as #N/A)


def sheet_rows(sheet: Any) -> Generator[tuple[int, list[object]], None, None]:
    """(row number, cell values) of a read-only openpyxl sheet, parsed from its XML directly.

    openpyxl builds objects for every cell (its read-only rows took 10 s for the 58k-row
    law-centre sheet, 80% of it in rich-text classes); this reads the same values from the
    same XML with the workbook's shared strings, date styles and epoch as openpyxl loaded
    them (cached formula results, as with data_only). Rows absent from the XML are skipped.
    """
    from xml.etree.ElementTree import ParseError, iterparse

    workbook = sheet.parent
    shared = sheet._shared_strings
    number = 0
    with workbook._archive.open(sheet._worksheet_path) as source:
        parsed = iterparse(source)
        while True:
            try:
                _event, row = next(parsed)
            except StopIteration:
                return
            except ParseError as exc:  # the caller adds the file's name
                raise FileFormatError(
                    f"the sheet's XML is broken after row {number} ({exc}); the workbook may "
                    "have been cut off or damaged: export it again",
                    row=number + 1,
                    code=FileErrorCode.WORKBOOK_UNREADABLE,
                ) from None
            if row.tag != _ROW:
                continue
            number = int(float(row.get("r", number + 1)))
            values: list[object] = []
            for cell in row:
                if cell.tag != _CELL:
                    continue
                ref = cell.get("r")
                column = column_number(ref.rstrip("0123456789")) if ref else len(values) + 1
                values += [None] * (column - 1 - len(values))
                kind = cell.get("t", "n")
                if kind == "inlineStr":
                    inline = cell.find(_INLINE)
                    text = _inline_text(inline) if inline is not None else None
                else:
                    text = cell.findtext(_VALUE)
                value = cell_value(workbook, shared, kind, int(cell.get("s", 0)), text)
                values[column - 1 : column] = [value]
            row.clear()
            yield number, values


# How an encrypted workbook (and an old .xls) begins: both are OLE2 compound files.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def open_workbook(path: Path) -> Any:
    """The workbook, read-only with cached formula values, or a FileFormatError saying why
    it cannot be read."""
    from openpyxl import load_workbook

    with open(path, "rb") as fh:
        if fh.read(8) == _OLE2:
            raise FileFormatError(
                "not a readable Excel workbook: this is an OLE2 compound file, which is either a "
                "password-protected workbook or one in the old .xls format; remove the password "
                "or save it as .xlsx",
                file=path,
                code=FileErrorCode.WORKBOOK_UNREADABLE,
            )
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise FileFormatError(
            f"not a readable Excel workbook: {exc}",
            file=path,
            code=FileErrorCode.WORKBOOK_UNREADABLE,
        ) from None


def stage_excel(con: duckdb.DuckDBPyConnection, path: Path, options: FileOptions) -> StagedFile:
    """Stage a sheet: its header (below any title, `file.header_row`), its data rows (the SQL
    reader, else the exact one: `stage_rows`), then the footer rows left out."""
    workbook = open_workbook(path)
    try:
        if options.sheet is not None:
            if options.sheet not in workbook.sheetnames:
                raise FileFormatError(
                    f"no sheet {options.sheet!r}; sheets: {', '.join(workbook.sheetnames)}",
                    file=path,
                    code=FileErrorCode.SHEET_MISSING,
                )
            sheet = workbook[options.sheet]
        else:
            sheet = workbook.worksheets[0]
        header_row = options.header_row
        rows = sheet_rows(sheet)
        first = next(rows, None)
        while first is not None and first[0] < header_row:  # a title above the header
            first = next(rows, None)
        rows.close()  # only the header is read this way; the data rows below
        if first is None:
            where = "" if header_row == 1 else f" from row {header_row} (file.header_row) on"
            raise FileFormatError(
                f"the sheet is empty{where}", file=path, code=FileErrorCode.EMPTY
            ) from None
        header_cells = first[1] if first[0] == header_row else []
        header = [" ".join(str(c).split()) if c is not None else "" for c in header_cells]
        while header and not header[-1]:
            header.pop()  # a sheet's formatted but empty cells right of the table
        header = name_unnamed(header)
        check_header(path, header, header_row)
        stage_rows(con, sheet, len(header), header_row)
    except FileFormatError as exc:
        if exc.file is not None:
            raise
        raise FileFormatError(exc.message, file=path, row=exc.row, code=exc.code) from None
    finally:
        workbook.close()
    columns = {name: f"c{i}" for i, name in enumerate(header)}
    drop_footer_rows(con, list(columns.values()), options.footer_rows)
    con.execute(f"CREATE TEMP VIEW {STAGING} AS SELECT * FROM {STAGING}_raw")
    row = con.execute(f"SELECT count(*) FROM {STAGING}_raw").fetchall()
    return StagedFile(
        path=path, format="excel", columns=columns, rows=int(row[0][0]), header_row=header_row
    )


def stage_rows(con: duckdb.DuckDBPyConnection, sheet: Any, width: int, header_row: int) -> bool:
    """The sheet's data rows (below `header_row`) as the raw staging table, by the SQL reader
    (`excel_xml.stage_sheet_sql`) where it follows the sheet's markup, else by the exact
    reader (`stage_rows_exactly`); True when the SQL reader did it. Both give the same rows:
    a cell converted by the SQL reader is the exact reader's `excel_text(cell_value(...))`,
    and it hands the cells it cannot convert exactly to that same function."""
    workbook = sheet.parent
    con.execute(f"DROP TABLE IF EXISTS {STAGING}_raw")

    def exact_cell(kind: str, style: int, text: str | None) -> str | None:
        return excel_text(cell_value(workbook, sheet._shared_strings, kind, style, text))

    if excel_xml.stage_sheet_sql(con, sheet, width, f"{STAGING}_raw", exact_cell, header_row):
        return True
    stage_rows_exactly(con, sheet, width, header_row)
    return False


def drop_footer_rows(con: duckdb.DuckDBPyConnection, columns: list[str], footer_rows: int) -> None:
    """The footer step of a sheet (`file.footer_rows`): its last rows that are not blank,
    and the blank rows between them and the data, are left out."""
    if footer_rows:
        filled = " OR ".join(f"coalesce(trim({c}), '') <> ''" for c in columns)
        con.execute(
            f"DELETE FROM {STAGING}_raw WHERE __row > (SELECT coalesce(max(__row), 0) FROM "
            f"{STAGING}_raw WHERE ({filled}) AND __row < (SELECT min(__row) FROM (SELECT "
            f"__row FROM {STAGING}_raw WHERE {filled} ORDER BY __row DESC "
            f"LIMIT {int(footer_rows)})))"
        )


def stage_rows_exactly(
    con: duckdb.DuckDBPyConnection, sheet: Any, width: int, header_row: int = 1
) -> None:
    """The exact reader's staging, row by row in Python (for sheets the SQL reader cannot
    follow). Blank rows inside the data are kept as empty rows, trailing ones dropped, as
    the SQL reader does."""
    data: list[list[str | None]] = [[] for _ in range(width)]
    row_numbers: list[int] = []
    blank_run: list[int] = []
    expected = header_row + 1
    rows = sheet_rows(sheet)
    for number, cells in rows:
        if number <= header_row:  # the header, and any title above it
            continue
        blank_run += range(expected, number)  # rows missing from the XML are blank
        expected = number + 1
        values = [excel_text(c) for c in cells[:width]]
        values += [None] * (width - len(values))
        if all(v is None or v.strip() == "" for v in values):
            blank_run.append(number)
            continue
        for missing in blank_run:  # blank rows inside the data are kept (and rejected)
            row_numbers.append(missing)
            for col in data:
                col.append(None)
        blank_run = []
        row_numbers.append(number)
        for col, value in zip(data, values, strict=True):
            col.append(value)
    arrays = {"__row": pa.array(row_numbers, pa.int64())}
    arrays.update({f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(data)})
    con.register("__excel_arrow", pa.table(arrays))
    con.execute(f"CREATE TEMP TABLE {STAGING}_raw AS SELECT * FROM __excel_arrow")
    con.unregister("__excel_arrow")
