"""Read a partner's file (CSV, Excel, Parquet) into a DuckDB staging table of text columns.

Staging columns are named c0, c1, ... (so any header text is safe) plus `__row`, the row
number as a spreadsheet shows it (the header is row 1). Problems with the file itself
(encoding, delimiter, truncation, emptiness) raise :class:`FileFormatError` naming the
file, the row and the column, with a :class:`FileErrorCode`.

One module per format: `readers.csv`, `readers.excel` (with `readers.excel_xml`, its SQL
reader of the sheet XML) and `readers.parquet`. A CSV file is repaired, when it needs it,
by the steps of `readers.steps.CSV_STEPS`, applied in this order, each to the copy the one
before made:

1. **unpack**: a gzip, bzip2 or xz file, or a zip of one file, is read as the CSV inside;
2. **transcode**: windows-1252 or UTF-16 is read from a UTF-8 copy (after the file was
   checked to be text in the declared encoding);
3. **footer**: `file.footer_rows` leaves out the report's last lines;
4. **line ends**: rows ending partly in CR LF and partly in LF, or a header wrapped by a
   line break inside quotes in a CR LF file, are read from a copy with LF throughout.

Then the rows are read by DuckDB's strict CSV reader, and numbered as an editor numbers the
file's lines (empty lines, which DuckDB skips, are counted). Every format ends with the
same row-level step, in the mapping SQL: a row that repeats the header (exports joined
into one file) is marked (`header_again_sql`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from sectorlink.sources.errors import FileFormatError
from sectorlink.sources.readers.csv import stage_csv
from sectorlink.sources.readers.excel import open_workbook, stage_excel
from sectorlink.sources.readers.parquet import stage_parquet
from sectorlink.sources.readers.staged import (
    STAGING,
    StagedFile,
    check_header,
    header_again_sql,
    is_unnamed,
    name_unnamed,
)
from sectorlink.sources.readers.steps import CSV_STEPS, Step
from sectorlink.sources.readers.textfile import COMPRESSED_SUFFIXES, packing, unpack_csv
from sectorlink.sources.reasons import FileErrorCode
from sectorlink.sources.spec import FileOptions

__all__ = [
    "CSV_STEPS",
    "EXTENSIONS",
    "STAGING",
    "StagedFile",
    "Step",
    "check_header",
    "file_format",
    "header_again_sql",
    "is_unnamed",
    "name_unnamed",
    "open_workbook",
    "packing",
    "stage_file",
    "unpack_csv",
]

EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def file_format(path: Path, options: FileOptions) -> str:
    """The spec's `file.format`, else the format the file's extension says."""
    if options.format:
        return options.format
    suffix = path.suffix.lower()
    if suffix in COMPRESSED_SUFFIXES:  # extract.csv.gz: the format is the inner name's
        suffix = Path(path.stem).suffix.lower() or ".csv"
    fmt = EXTENSIONS.get(suffix)
    if fmt is None:
        raise FileFormatError(
            f"cannot tell the format from the extension {path.suffix!r}; "
            "set file.format in the spec "
            "(csv, excel or parquet)",
            file=path,
            code=FileErrorCode.UNKNOWN_FORMAT,
        )
    return fmt


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, options: FileOptions) -> StagedFile:
    """Stage `path` into the temporary table ``__staging`` on `con`."""
    if not path.exists():
        raise FileFormatError("file not found", file=path, code=FileErrorCode.FILE_NOT_FOUND)
    if path.stat().st_size == 0:
        raise FileFormatError("the file is empty (0 bytes)", file=path, code=FileErrorCode.EMPTY)
    fmt = file_format(path, options)
    con.execute(f"DROP VIEW IF EXISTS {STAGING}")
    con.execute(f"DROP TABLE IF EXISTS {STAGING}_raw")
    if fmt == "csv":
        staged = stage_csv(con, path, options)
    elif fmt == "excel":
        staged = stage_excel(con, path, options)
    else:
        if options.header_row != 1 or options.footer_rows:
            raise FileFormatError(
                "file.header_row and file.footer_rows apply to CSV and Excel files; a Parquet "
                "file has no header or footer rows",
                file=path,
                code=FileErrorCode.OPTION_NOT_FOR_FORMAT,
            )
        staged = stage_parquet(con, path)
    if staged.rows == 0:
        raise FileFormatError(
            "the file has a header but no data rows",
            file=path,
            row=staged.header_row + 1,
            code=FileErrorCode.NO_DATA_ROWS,
        )
    return staged
