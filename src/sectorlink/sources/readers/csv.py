"""The CSV reader: the repair steps in order (`readers.steps.CSV_STEPS`), then DuckDB's
strict reader, then row numbers as an editor shows the file's lines."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

import duckdb

from sectorlink.model.sql import scalar
from sectorlink.sources.errors import FileFormatError
from sectorlink.sources.readers.staged import STAGING, StagedFile, check_header, name_unnamed
from sectorlink.sources.readers.steps import LINE_ENDS, Source, run_steps
from sectorlink.sources.readers.textfile import (
    check_encoding,
    check_no_nul,
    count_lines,
    empty_lines,
    mixes_line_endings,
    read_header,
    refuse_c1_controls,
)
from sectorlink.sources.reasons import FileErrorCode
from sectorlink.sources.spec import FileOptions

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_FOUND = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, options: FileOptions) -> StagedFile:
    """Stage a CSV file: the repair steps it needs (`steps.CSV_STEPS`), in order, then
    DuckDB's strict reader, then row numbers. Copies live in a temporary folder for the
    read only; whatever is wrong is reported against `path`, the partner's file."""
    with tempfile.TemporaryDirectory(prefix="sectorlink-") as tmp:
        try:
            source, _taken = run_steps(Source(path, options), Path(tmp))
            staged = read_csv(con, source, Path(tmp))
        except FileFormatError as exc:
            if exc.file is None or exc.file == path:
                raise
            raise _as_partner_file(exc, path) from None
    return dataclasses.replace(staged, path=path, encoding=options.encoding)


def _as_partner_file(exc: FileFormatError, path: Path) -> FileFormatError:
    """The error found in a repaired copy, said of the partner's file (same rows)."""
    return FileFormatError(
        exc.message,
        file=path,
        row=exc.row,
        column=exc.column,
        line=exc.line,
        code=exc.code,
        footer_rows=exc.footer_rows,
    )


def read_csv(
    con: duckdb.DuckDBPyConnection, source: Source, folder: Path, *, retried: bool = False
) -> StagedFile:
    """Read the (repaired) file with DuckDB's strict CSV reader into the staging table."""
    path, options = source.path, source.options
    header_row = options.header_row
    header, delim = read_header(
        path, options.encoding, options.delimiter, options.quote, header_row
    )
    if not header:
        raise FileFormatError(
            f"row {header_row}, where the header should be, is blank; if the column names are "
            "on a lower row, set file.header_row",
            file=path,
            row=header_row,
            code=FileErrorCode.HEADER,
        )
    header = name_unnamed([" ".join(name.split()) for name in header])
    check_header(path, header, header_row)
    check_no_nul(path, delim)
    columns = {name: f"c{i}" for i, name in enumerate(header)}
    column_types = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns.values()) + "}"
    sql = (
        f"CREATE TEMP TABLE {STAGING}_raw AS SELECT * FROM read_csv(?, auto_detect = false, "
        f"header = true, skip = {header_row - 1}, columns = {column_types}, delim = ?, "
        f"quote = ?, escape = ?, strict_mode = true, encoding = ?, max_line_size = 10000000)"
    )
    con.execute(f"DROP TABLE IF EXISTS {STAGING}_raw")
    try:
        con.execute(sql, [str(path), delim, options.quote, options.quote, options.encoding])
    except duckdb.Error as exc:
        if options.encoding == "utf-8" and "Invalid unicode" in str(exc):
            check_encoding(path, "utf-8", delim)  # raises, naming the byte
        if options.encoding == "latin-1" and "not latin-1 encoded" in str(exc):
            refuse_c1_controls(path, delim)  # raises, naming the byte
        if not retried and "invalid state" in str(exc) and mixes_line_endings(path):
            # Extracts joined from two systems' exports often end some rows with CR LF and
            # others with LF alone, which DuckDB's strict parser refuses: the line-ends step.
            repaired = LINE_ENDS.apply(source, folder / "line-ends-retry.csv")
            return read_csv(con, repaired, folder, retried=True)
        raise _csv_error(path, exc, header, delim, header_row) from None
    number_rows(con, path, header_row)
    rows = scalar(con, f"SELECT count(*) FROM {STAGING}_raw")
    return StagedFile(
        path=path,
        format="csv",
        columns=columns,
        rows=int(rows or 0),
        header_row=header_row,
        delimiter=delim,
        encoding=options.encoding,
    )


def number_rows(con: duckdb.DuckDBPyConnection, path: Path, header_row: int) -> None:
    """The staging view: each row with its number as an editor shows the file's lines.

    The staging table is filled in file order, so the row number is the rowid past the
    header's (as a spreadsheet shows it, when no value spans lines), plus the empty lines
    above the row, which DuckDB skips."""
    blanks = empty_lines(path, header_row)
    if not blanks:
        con.execute(
            f"CREATE TEMP VIEW {STAGING} AS SELECT rowid + {header_row + 1} AS __row, * "
            f"FROM {STAGING}_raw"
        )
        return
    # Row r lies below the j-th empty line (from 0) when r >= line - header_row - 1 - j.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGING}_empty AS SELECT line - {header_row + 1} "
        "- i AS first_rowid, max(i + 1) AS above FROM (SELECT unnest($lines) AS line, "
        "generate_subscripts($lines, 1) - 1 AS i) GROUP BY 1",
        {"lines": blanks},
    )
    con.execute(
        f"CREATE TEMP VIEW {STAGING} AS SELECT r.rowid + {header_row + 1} + "
        f"coalesce(e.above, 0) AS __row, r.* FROM {STAGING}_raw r ASOF LEFT JOIN "
        f"{STAGING}_empty e ON r.rowid >= e.first_rowid"
    )


def _csv_error(
    path: Path, exc: duckdb.Error, header: list[str], delim: str, header_row: int = 1
) -> FileFormatError:
    message = str(exc)
    line_match = _CSV_LINE.search(message)
    line = int(line_match.group(1)) if line_match else None
    found = _FOUND.search(message)
    if found:
        expected, got = int(found.group(1)), int(found.group(2))
        total_lines, ends_a_line = count_lines(path)
        advice = f"; check the delimiter ({delim!r}) and quoting"
        code, footer_rows = FileErrorCode.RAGGED_ROW, None
        if line is not None and line == total_lines and not ends_a_line:
            advice = " — the file seems cut off in the middle of this row"
            code = FileErrorCode.CUT_OFF
        elif line is not None and line > total_lines - 3 and got < expected:
            # A short row among the last lines of a complete file: a report's footer.
            code, footer_rows = FileErrorCode.LIKELY_FOOTER, total_lines - line + 1
            advice = (
                f"; it is among the file's last lines: if they are a report's footer (a total, "
                f"'end of report'), set file.footer_rows: {footer_rows}"
            )
        missing = (
            f" (no value for {header[got]!r} onwards)"
            if got < expected and got < len(header)
            else ""
        )
        title = (
            f"; if row {header_row} is a title above the real header, set file.header_row"
            if expected == 1 and got > 1
            else ""
        )
        return FileFormatError(
            f"this row has {got} fields but the header has {expected}{missing}{advice}{title}",
            file=path,
            row=line,
            code=code,
            footer_rows=footer_rows,
        )
    if "unterminated quote" in message:
        return FileFormatError(
            "a quoted value starting in this row is never closed — the file may be cut off, or "
            "use a different quote character",
            file=path,
            row=line,
            code=FileErrorCode.UNTERMINATED_QUOTE,
        )
    if "Invalid unicode" in message:
        return FileFormatError(
            "this row is not valid in the declared encoding",
            file=path,
            row=line,
            code=FileErrorCode.WRONG_ENCODING,
        )
    first = message.splitlines()[0] if message else "unreadable CSV"
    return FileFormatError(
        f"cannot read the CSV: {first}", file=path, row=line, code=FileErrorCode.CSV_UNREADABLE
    )
