"""Read a partner's file (CSV, Excel, Parquet) into a DuckDB staging table of text columns.

Staging columns are named c0, c1, ... (so any header text is safe) plus `__row`, the row
number as a spreadsheet shows it (the header is row 1). Problems with the file itself
(encoding, delimiter, truncation, emptiness) raise :class:`FileFormatError` naming the
file, the row and the column.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import io
import mmap
import re
import tempfile
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sectorlink.model import quote_ident
from sectorlink.sources.errors import FileFormatError
from sectorlink.sources.spec import FileOptions

STAGING = "__staging"
CHUNK = 1 << 20
DELIMITER_CANDIDATES = (",", ";", "\t", "|")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class StagedFile:
    """A file staged as text columns; `columns` maps header names to staging column names."""

    path: Path
    format: str
    columns: dict[str, str]
    rows: int
    delimiter: str | None = None
    encoding: str | None = None
    header_row: int = 1
    unmappable: dict[str, str] = dataclasses.field(default_factory=dict)
    """Columns whose values are not flat (lists, structs, maps, binary), by name: their type.
    Staged as text all the same; a spec that maps one is refused."""

    @property
    def header(self) -> list[str]:
        return list(self.columns)

    def header_name(self, name: str) -> str | None:
        """The header name a spec's column `name` refers to. Runs of white space count as
        one space, so a wrapped Excel header ('Date of', line end, 'Birth') is 'Date of
        Birth'; case counts only where two columns differ by it alone, since a partner's
        new system version writes 'PatientId' where the old one wrote 'PatientID'."""
        if name in self.columns:
            return name
        collapsed = " ".join(name.split())
        if collapsed in self.columns:
            return collapsed
        folded = [h for h in self.columns if h.casefold() == collapsed.casefold()]
        return folded[0] if len(folded) == 1 else None

    def column(self, name: str) -> str | None:
        """The staging column (c0, c1, ...) of the spec's column `name`, if the file has it."""
        found = self.header_name(name)
        return None if found is None else self.columns[found]


# Compressed files read by unpacking a copy first (by their first bytes, whatever their name).
_UNPACK = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "lzma"}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zip")


def file_format(path: Path, options: FileOptions) -> str:
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
        )
    return fmt


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, options: FileOptions) -> StagedFile:
    """Stage `path` into the temporary table ``__staging`` on `con`."""
    if not path.exists():
        raise FileFormatError("file not found", file=path)
    if path.stat().st_size == 0:
        raise FileFormatError("the file is empty (0 bytes)", file=path)
    fmt = file_format(path, options)
    con.execute(f"DROP VIEW IF EXISTS {STAGING}")
    con.execute(f"DROP TABLE IF EXISTS {STAGING}_raw")
    if fmt == "csv":
        staged = _stage_csv(con, path, options)
    elif fmt == "excel":
        staged = _stage_excel(con, path, options)
    else:
        if options.header_row != 1 or options.footer_rows:
            raise FileFormatError(
                "file.header_row and file.footer_rows apply to CSV and Excel files; a Parquet "
                "file has no header or footer rows",
                file=path,
            )
        staged = _stage_parquet(con, path)
    if staged.rows == 0:
        raise FileFormatError(
            "the file has a header but no data rows", file=path, row=staged.header_row + 1
        )
    return staged


# --- CSV ---------------------------------------------------------------------------------
def check_encoding(path: Path, encoding: str, delimiter: str | None = None) -> None:
    """Refuse a file that is not in the declared encoding, pointing at the first bad byte.

    latin-1 decodes any byte, so a UTF-8 file declared latin-1 would load as mojibake
    ('Ã©' for 'é'); that case is caught by finding the file valid UTF-8 with non-ASCII text.
    """
    non_ascii_at: int | None = None
    offset = 0
    newlines = 0
    carry = b""
    with open(path, "rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8 and encoding != "utf-8":
            raise FileFormatError(
                "the file starts with a UTF-8 byte-order mark but the spec says encoding "
                f"{encoding}; "
                "set file.encoding: utf-8",
                file=path,
                row=1,
            )
        fh.seek(0)
        while True:
            block = fh.read(CHUNK)
            if not block:
                break
            data = carry + block
            # Hold back an incomplete multi-byte sequence at the end for the next block.
            cut = len(data)
            for back in range(1, min(4, len(data)) + 1):
                byte = data[-back]
                if byte < 0x80:
                    break
                if byte >= 0xC0:
                    needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
                    if back < needed:
                        cut = len(data) - back
                    break
            chunk, carry = data[:cut], data[cut:]
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                if encoding == "utf-8":
                    bad = offset + exc.start
                    row = newlines + chunk.count(b"\n", 0, exc.start) + 1
                    column = _column_at(path, bad, delimiter)
                    raise FileFormatError(
                        f"byte 0x{chunk[exc.start]:02X} at offset {bad} is not valid UTF-8, "
                        "but the "
                        "spec says encoding utf-8; if the partner exported it from Excel or an "
                        "older system it is probably latin-1 or windows-1252 (set file.encoding)",
                        file=path,
                        row=row,
                        column=column,
                    ) from None
                return  # not UTF-8, as a latin-1 file should be
            if non_ascii_at is None and re.search(rb"[\x80-\xff]", chunk):
                match = re.search(rb"[\x80-\xff]", chunk)
                assert match is not None
                non_ascii_at = newlines + chunk.count(b"\n", 0, match.start()) + 1
            newlines += chunk.count(b"\n")
            offset += len(chunk)
    if carry and encoding == "utf-8":
        raise FileFormatError(
            "the file ends in the middle of a UTF-8 character (cut off?)",
            file=path,
            row=newlines + 1,
        )
    if encoding != "utf-8" and non_ascii_at is not None:
        raise FileFormatError(
            "the file is valid UTF-8 with non-ASCII characters, but the spec says encoding "
            f"{encoding}, which would garble them ('é' read as 'Ã©'); set file.encoding: utf-8",
            file=path,
            row=non_ascii_at,
        )


def refuse_c1_controls(path: Path, delimiter: str | None) -> None:
    """Refuse a 'latin-1' file holding bytes 0x80-0x9F (DuckDB will not read it: this names
    the byte, row and column, and the encoding meant).

    In latin-1 those bytes are invisible control characters that no partner's text holds;
    in windows-1252, which Excel on Windows writes and people call latin-1 or ANSI, they
    are curly quotes, dashes and the euro sign.
    """
    offset = 0
    newlines = 0
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            found = _C1_CONTROL.search(block)
            if found is None:
                newlines += block.count(b"\n")
                offset += len(block)
                continue
            byte = block[found.start()]
            shown = bytes([byte]).decode("windows-1252", errors="replace")
            raise FileFormatError(
                f"byte 0x{byte:02X} at offset {offset + found.start()} is a control character "
                f"in latin-1, which the spec declares; in windows-1252 (what Excel on Windows "
                f"writes, often called ANSI or latin-1) it is {shown!r}: set file.encoding: "
                "windows-1252",
                file=path,
                row=newlines + block.count(b"\n", 0, found.start()) + 1,
                column=_column_at(path, offset + found.start(), delimiter),
            )


_C1_CONTROL = re.compile(rb"[\x80-\x9f]")


# How a zstd file begins: the one packing the standard library cannot unpack.
_ZSTD = b"\x28\xb5\x2f\xfd"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def packing(path: Path) -> str | None:
    """How a CSV file is packed ('gzip', 'bz2', 'lzma' or 'zip'), from its first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(6)
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return "bz2"
    return next((kind for magic, kind in _UNPACK.items() if head.startswith(magic)), None)


def unpack_csv(path: Path, kind: str, out: Path) -> None:
    """Stream the CSV inside a gzip, bzip2 or xz file, or a zip archive of one file, to
    `out`."""
    import bz2
    import gzip
    import lzma
    import shutil
    import zipfile

    try:
        if kind == "zip":
            with zipfile.ZipFile(path) as archive:
                names = [i.filename for i in archive.infolist() if not i.is_dir()]
                if "[Content_Types].xml" in names:
                    raise FileFormatError(
                        "this is an Excel workbook (a zip archive with a workbook inside); set "
                        "file.format: excel",
                        file=path,
                    )
                if len(names) != 1:
                    raise FileFormatError(
                        f"the zip archive holds {len(names)} files "
                        f"({', '.join(names[:5])}); give the extract itself, or a zip of it "
                        "alone",
                        file=path,
                    )
                with archive.open(names[0]) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
            return
        opener: Any = {"gzip": gzip.open, "bz2": bz2.open, "lzma": lzma.open}[kind]
        with opener(path, "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise FileFormatError(
            f"cannot unpack the {kind} file: {exc} (cut off, or damaged?)", file=path
        ) from None


def check_plain_text(path: Path, encoding: str) -> None:
    """Refuse a file packed in a way the reader cannot unpack, and a UTF-16 file declared in
    another encoding (or the reverse), before its bytes are read as text."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(_ZSTD):
        raise FileFormatError(
            "the file is zstd-compressed, not text; unpack it and load the file inside",
            file=path,
            row=1,
        )
    if encoding != "utf-16" and head.startswith(_UTF16_BOMS):
        raise FileFormatError(
            "the file starts with a UTF-16 byte-order mark (what Excel's 'Unicode Text' "
            f"export writes) but the spec says encoding {encoding}; set file.encoding: utf-16",
            file=path,
            row=1,
        )
    if encoding == "utf-16" and not head.startswith(_UTF16_BOMS) and b"\0" not in head:
        raise FileFormatError(
            "the spec says encoding utf-16, but the file has no UTF-16 byte-order mark and "
            "no zero bytes, so it is not UTF-16; it is probably utf-8 or latin-1",
            file=path,
            row=1,
        )


def check_no_nul(path: Path, delimiter: str | None) -> None:
    """Refuse a text file holding a zero byte: it is damaged, or not text, and the byte
    would be stored inside a value. The file is searched where it lies in memory (mapped,
    not copied: 0.1 s for the 1,000,000-person region's CSV files, 0.28 s read in blocks)."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        bad = data.find(b"\0")
        row = data[:bad].count(b"\n") + 1 if bad >= 0 else 0
    if bad >= 0:
        raise FileFormatError(
            f"byte 0x00 (NUL) at offset {bad}: a text file does not hold one, so the file is "
            "damaged or not text (a UTF-16 file has one in every other byte: then set "
            "file.encoding: utf-16)",
            file=path,
            row=row,
            column=_column_at(path, bad, delimiter),
        )


def mixes_line_endings(path: Path) -> bool:
    """Whether some rows end with CR LF and others with LF alone."""
    crlf = lf = 0
    previous = b""
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            crlf += block.count(b"\r\n") + (previous == b"\r" and block.startswith(b"\n"))
            lf += block.count(b"\n")
            previous = block[-1:]
    return 0 < crlf < lf


def write_lf_line_endings(path: Path, out: Path) -> None:
    """Copy `path` to `out` with every CR LF made LF."""
    with open(path, "rb") as src, open(out, "wb") as dst:
        held = b""
        while block := src.read(CHUNK):
            block = held + block
            held = b"\r" if block.endswith(b"\r") else b""
            dst.write(block[: len(block) - len(held)].replace(b"\r\n", b"\n"))
        dst.write(held)


def _column_at(path: Path, offset: int, delimiter: str | None) -> str | None:
    """The header name of the field holding byte `offset` (best effort, for messages)."""
    with open(path, "rb") as fh:
        header_line = fh.readline()
        start = max(0, offset - 65536)
        fh.seek(start)
        before = fh.read(offset - start)
    line_start = before.rfind(b"\n") + 1
    prefix = before[line_start:]
    header = header_line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    delim = delimiter or _sniff_delimiter(header)
    names = next(csv.reader([header], delimiter=delim), [])
    index = prefix.count(delim.encode())
    return names[index].strip() if index < len(names) else None


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITER_CANDIDATES}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_header(
    path: Path, encoding: str, delimiter: str | None, quote: str, header_row: int = 1
) -> tuple[list[str], str]:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    text = head.decode("utf-8-sig" if encoding == "utf-8" else "latin-1", errors="replace")
    # Lines above the header (a title, how the extract was made) are skipped: DuckDB's
    # `skip` counts line ends the same way.
    text = "\n".join(text.split("\n")[header_row - 1 :])
    if not text.strip():
        where = "" if header_row == 1 else f" at row {header_row} (file.header_row)"
        raise FileFormatError(
            f"the file has no header row{where}: it holds only white space or a byte-order mark",
            file=path,
            row=header_row,
        )
    first_line = text.splitlines()[0] if text.splitlines() else ""
    delim = delimiter or _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text), delimiter=delim, quotechar=quote)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FileFormatError(
            f"cannot read the header row: {exc}", file=path, row=header_row
        ) from None
    return [h.strip() for h in header], delim


UNNAMED = "(unnamed column {})"


def name_unnamed(header: list[str]) -> list[str]:
    """Name the header's blank names `(unnamed column N)`, so the file loads: a delimiter
    ending every line makes a last column without a name, and pandas and R write their row
    index as a first one. No spec maps such a column by accident."""
    return [name or UNNAMED.format(i) for i, name in enumerate(header, start=1)]


def is_unnamed(name: str) -> bool:
    return _UNNAMED.fullmatch(name) is not None


_UNNAMED = re.compile(r"\(unnamed column [0-9]+\)")


def _check_header(path: Path, header: list[str], header_row: int = 1) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen:
            raise FileFormatError(
                f"column {name!r} appears twice in the header (columns {seen[name]} and {i})",
                file=path,
                row=header_row,
                column=name,
            )
        seen[name] = i


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_FOUND = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def transcode_to_utf8(path: Path, encoding: str, out: Path) -> None:
    """Stream a file in an encoding DuckDB does not read natively into UTF-8."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    rows = 1
    with open(path, "rb") as src, open(out, "wb") as dst:
        while block := src.read(CHUNK):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                row = rows + block.count(b"\n", 0, exc.start)
                raise FileFormatError(
                    f"byte 0x{block[exc.start]:02X} is not defined in {encoding}; "
                    "check file.encoding",
                    file=path,
                    row=row,
                ) from None
            rows += block.count(b"\n")
            dst.write(text.encode("utf-8"))
        try:
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError:
            raise FileFormatError(
                f"the file ends in the middle of a {encoding} character (cut off?)",
                file=path,
                row=rows,
            ) from None


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, options: FileOptions) -> StagedFile:
    kind = packing(path)
    if kind is not None:  # extract.csv.gz: read an unpacked copy (rows are the same)
        return _stage_copy(con, path, options, lambda out: unpack_csv(path, kind, out))
    check_plain_text(path, options.encoding)
    # DuckDB checks that a UTF-8 file is UTF-8 as it reads; the byte-by-byte check (which
    # names the byte, row and column) runs on UTF-8 files only when DuckDB finds one wrong.
    if options.encoding != "utf-8":
        check_encoding(path, options.encoding, options.delimiter)
    if options.encoding not in ("utf-8", "latin-1"):
        staged = _stage_copy(
            con,
            path,
            dataclasses.replace(options, encoding="utf-8"),
            lambda out: transcode_to_utf8(path, options.encoding, out),
        )
        return dataclasses.replace(staged, encoding=options.encoding)
    if options.footer_rows:
        start = _footer_start(path, options.footer_rows)
        return _stage_copy(
            con,
            path,
            dataclasses.replace(options, footer_rows=0),
            lambda out: copy_head(path, start, out),
        )
    header_row = options.header_row
    header, delim = _read_header(
        path, options.encoding, options.delimiter, options.quote, header_row
    )
    if not header:
        raise FileFormatError(
            f"row {header_row}, where the header should be, is blank; if the column names are "
            "on a lower row, set file.header_row",
            file=path,
            row=header_row,
        )
    if any("\n" in name or "\r" in name for name in header) and _has_crlf(path):
        # DuckDB takes the file's first line end for the row end. Excel writes a wrapped
        # header's line break as LF inside quotes and row ends as CR LF, and DuckDB then
        # found no rows at all: read a copy with LF throughout.
        return _stage_copy(con, path, options, lambda out: write_lf_line_endings(path, out))
    header = name_unnamed([" ".join(name.split()) for name in header])
    _check_header(path, header, header_row)
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
        if "invalid state" in str(exc) and mixes_line_endings(path):
            # Extracts joined from two systems' exports often end some rows with CR LF and
            # others with LF alone, which DuckDB's strict parser refuses.
            return _stage_copy(con, path, options, lambda out: write_lf_line_endings(path, out))
        raise _csv_error(path, exc, header, delim, header_row) from None
    # The staging table is filled in file order, so the row number is the rowid past the
    # header's (as a spreadsheet shows it, when no value spans lines), plus the empty lines
    # above the row, which DuckDB skips.
    blanks = _empty_lines(path, header_row)
    if not blanks:
        con.execute(
            f"CREATE TEMP VIEW {STAGING} AS SELECT rowid + {header_row + 1} AS __row, * "
            f"FROM {STAGING}_raw"
        )
    else:
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
    row = con.execute(f"SELECT count(*) FROM {STAGING}_raw").fetchone()
    return StagedFile(
        path=path,
        format="csv",
        columns=columns,
        rows=int(row[0]) if row else 0,
        header_row=header_row,
        delimiter=delim,
        encoding=options.encoding,
    )


def _footer_start(path: Path, footer_rows: int) -> int:
    """Where the file's last `footer_rows` lines that are not empty begin."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - FOOTER_LOOKBACK))
        tail = fh.read()
    end = len(tail.rstrip(b"\r\n"))
    for _ in range(footer_rows):
        cut = tail.rfind(b"\n", 0, end)
        if cut < 0:
            where = (
                "the file has fewer lines"
                if size <= FOOTER_LOOKBACK
                else f"the file's last {FOOTER_LOOKBACK // 1024} KB hold fewer lines"
            )
            raise FileFormatError(
                f"file.footer_rows is {footer_rows}, but {where}: the footer is the report's "
                "last lines (a total, 'end of report'), not data",
                file=path,
            )
        end = len(tail[:cut].rstrip(b"\r\n"))
    return size - len(tail) + cut + 1


# A report's footer is a line or two; more than this many bytes of it is a misread spec.
FOOTER_LOOKBACK = 1 << 20


def copy_head(path: Path, stop: int, out: Path) -> None:
    """Copy the file's bytes before offset `stop` to `out`."""
    with open(path, "rb") as src, open(out, "wb") as dst:
        left = stop
        while left > 0 and (block := src.read(min(CHUNK, left))):
            dst.write(block)
            left -= len(block)


def _empty_lines(path: Path, header_row: int) -> list[int]:
    """The numbers of the empty lines below the header with data below them: DuckDB skips
    them, so each pushes the rows below it one line down the file."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        # One search (0.2 s on a 200 MB file): a file's line ends are all CR LF or all LF
        # here, as a file mixing them is read from a copy with LF throughout.
        first_end = data.find(b"\n")
        crlf = first_end > 0 and data[first_end - 1 : first_end] == b"\r"
        if data.find(b"\n\r\n" if crlf else b"\n\n") < 0:
            return []
        end = len(data)
        while end > 0 and data[end - 1 : end] in (b"\n", b"\r"):
            end -= 1  # empty lines at the end have no rows below them
        numbers: list[int] = []
        newlines = 0
        done = 0
        for found in _EMPTY_LINE.finditer(data, 0, end):
            newlines += data[done : found.end()].count(b"\n")
            done = found.end()
            if newlines + 1 > header_row:
                numbers.append(newlines + 1)
        return numbers


_EMPTY_LINE = re.compile(rb"\n(?=\r?\n)")


def _has_crlf(path: Path) -> bool:
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(b"\r\n") >= 0


def _stage_copy(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: FileOptions,
    write: Callable[[Path], None],
) -> StagedFile:
    """Stage the copy of `path` that `write` makes (unpacked, transcoded to UTF-8, or with
    LF line ends: rows and their numbers unchanged), reported as `path`."""
    with tempfile.TemporaryDirectory(prefix="sectorlink-") as tmp:
        name = path.stem if path.suffix.lower() in COMPRESSED_SUFFIXES else path.name
        copy = Path(tmp) / name
        write(copy)
        staged = _stage_csv(con, copy, options)
    return dataclasses.replace(staged, path=path)


def _csv_error(
    path: Path, exc: duckdb.Error, header: list[str], delim: str, header_row: int = 1
) -> FileFormatError:
    message = str(exc)
    line_match = _CSV_LINE.search(message)
    line = int(line_match.group(1)) if line_match else None
    found = _FOUND.search(message)
    if found:
        expected, got = int(found.group(1)), int(found.group(2))
        total_lines, ends_a_line = _count_lines(path)
        advice = f"; check the delimiter ({delim!r}) and quoting"
        if line is not None and line == total_lines and not ends_a_line:
            advice = " — the file seems cut off in the middle of this row"
        elif line is not None and line > total_lines - 3 and got < expected:
            # A short row among the last lines of a complete file: a report's footer.
            advice = (
                f"; it is among the file's last lines: if they are a report's footer (a total, "
                f"'end of report'), set file.footer_rows: {total_lines - line + 1}"
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
        )
    if "unterminated quote" in message:
        return FileFormatError(
            "a quoted value starting in this row is never closed — the file may be cut off, or "
            "use a different quote character",
            file=path,
            row=line,
        )
    if "Invalid unicode" in message:
        return FileFormatError(
            "this row is not valid in the declared encoding", file=path, row=line
        )
    first = message.splitlines()[0] if message else "unreadable CSV"
    return FileFormatError(f"cannot read the CSV: {first}", file=path, row=line)


def _count_lines(path: Path) -> tuple[int, bool]:
    """The number of the file's last line that is not empty, and whether the file ends
    with a line end (a file cut off mid-row does not)."""
    count = 0
    trailing = 0  # line ends after the last character that is not one
    last = b""
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            count += block.count(b"\n")
            content = block.rstrip(b"\r\n")
            trailing = block.count(b"\n", len(content)) + (trailing if not content else 0)
            last = block
    ends_a_line = last.endswith(b"\n")
    return count - trailing + 1, ends_a_line


# --- Excel ---------------------------------------------------------------------------------
def _excel_text(value: object) -> str | None:
    import datetime as dt

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
def _column_number(letters: str) -> int:
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


def _cell_value(workbook: Any, shared: Any, kind: str, style: int, text: str | None) -> object:
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


def _sheet_rows(sheet: Any) -> Generator[tuple[int, list[object]], None, None]:
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
                ) from None
            if row.tag != _ROW:
                continue
            number = int(float(row.get("r", number + 1)))
            values: list[object] = []
            for cell in row:
                if cell.tag != _CELL:
                    continue
                ref = cell.get("r")
                column = _column_number(ref.rstrip("0123456789")) if ref else len(values) + 1
                values += [None] * (column - 1 - len(values))
                kind = cell.get("t", "n")
                if kind == "inlineStr":
                    inline = cell.find(_INLINE)
                    text = _inline_text(inline) if inline is not None else None
                else:
                    text = cell.findtext(_VALUE)
                value = _cell_value(workbook, shared, kind, int(cell.get("s", 0)), text)
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
            )
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise FileFormatError(f"not a readable Excel workbook: {exc}", file=path) from None


def _stage_excel(con: duckdb.DuckDBPyConnection, path: Path, options: FileOptions) -> StagedFile:
    from sectorlink.sources.xlsx import stage_sheet_sql

    workbook = open_workbook(path)
    try:
        if options.sheet is not None:
            if options.sheet not in workbook.sheetnames:
                raise FileFormatError(
                    f"no sheet {options.sheet!r}; sheets: {', '.join(workbook.sheetnames)}",
                    file=path,
                )
            sheet = workbook[options.sheet]
        else:
            sheet = workbook.worksheets[0]
        header_row = options.header_row
        rows = _sheet_rows(sheet)
        first = next(rows, None)
        while first is not None and first[0] < header_row:  # a title above the header
            first = next(rows, None)
        rows.close()  # only the header is read this way; the data rows below
        if first is None:
            where = "" if header_row == 1 else f" from row {header_row} (file.header_row) on"
            raise FileFormatError(f"the sheet is empty{where}", file=path) from None
        header_cells = first[1] if first[0] == header_row else []
        header = [" ".join(str(c).split()) if c is not None else "" for c in header_cells]
        while header and not header[-1]:
            header.pop()  # a sheet's formatted but empty cells right of the table
        header = name_unnamed(header)
        _check_header(path, header, header_row)
        width = len(header)
        con.execute(f"DROP TABLE IF EXISTS {STAGING}_raw")

        def exact_cell(kind: str, style: int, text: str | None) -> str | None:
            return _excel_text(_cell_value(workbook, sheet._shared_strings, kind, style, text))

        if not stage_sheet_sql(con, sheet, width, f"{STAGING}_raw", exact_cell, header_row):
            _stage_excel_rows(con, sheet, width, header_row)
    except FileFormatError as exc:
        if exc.file is not None:
            raise
        raise FileFormatError(exc.message, file=path, row=exc.row) from None
    finally:
        workbook.close()
    columns = {name: f"c{i}" for i, name in enumerate(header)}
    if options.footer_rows:
        # The last rows that are not blank, and the blank rows between them and the data.
        filled = " OR ".join(f"coalesce(trim({c}), '') <> ''" for c in columns.values())
        con.execute(
            f"DELETE FROM {STAGING}_raw WHERE __row > (SELECT coalesce(max(__row), 0) FROM "
            f"{STAGING}_raw WHERE ({filled}) AND __row < (SELECT min(__row) FROM (SELECT "
            f"__row FROM {STAGING}_raw WHERE {filled} ORDER BY __row DESC "
            f"LIMIT {int(options.footer_rows)})))"
        )
    con.execute(f"CREATE TEMP VIEW {STAGING} AS SELECT * FROM {STAGING}_raw")
    row = con.execute(f"SELECT count(*) FROM {STAGING}_raw").fetchall()
    return StagedFile(
        path=path, format="excel", columns=columns, rows=int(row[0][0]), header_row=header_row
    )


def _stage_excel_rows(
    con: duckdb.DuckDBPyConnection, sheet: Any, width: int, header_row: int = 1
) -> None:
    """The exact reader's staging, row by row in Python (for sheets `xlsx` cannot read)."""
    data: list[list[str | None]] = [[] for _ in range(width)]
    row_numbers: list[int] = []
    blank_run: list[int] = []
    expected = header_row + 1
    rows = _sheet_rows(sheet)
    for number, cells in rows:
        if number <= header_row:  # the header, and any title above it
            continue
        blank_run += range(expected, number)  # rows missing from the XML are blank
        expected = number + 1
        values = [_excel_text(c) for c in cells[:width]]
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


# --- Parquet -------------------------------------------------------------------------------
def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> StagedFile:
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise FileFormatError(
            f"not a readable Parquet file: {str(exc).splitlines()[0]}", file=path
        ) from None
    header = [str(r[0]) for r in described]
    types = {str(r[0]): str(r[1]) for r in described}
    _check_header(path, header)
    columns = {name: f"c{i}" for i, name in enumerate(header)}
    select = ", ".join(
        f"{_parquet_text(quote_ident(name), types[name])} AS {c}" for name, c in columns.items()
    )
    unmappable = {
        name: kind
        for name, kind in types.items()
        if kind in ("BLOB", "BIT")
        or kind.endswith("]")
        or kind.startswith(("STRUCT", "MAP", "UNION"))
    }
    con.execute(f"DROP TABLE IF EXISTS {STAGING}_raw")
    try:
        con.execute(
            f"CREATE TEMP TABLE {STAGING}_raw AS SELECT {select} FROM read_parquet(?)", [str(path)]
        )
    except duckdb.Error as exc:
        raise FileFormatError(
            f"cannot read the Parquet data: {str(exc).splitlines()[0]}", file=path
        ) from None
    # Parquet has no header row: rows are numbered from 1.
    con.execute(f"CREATE TEMP VIEW {STAGING} AS SELECT rowid + 1 AS __row, * FROM {STAGING}_raw")
    row = con.execute(f"SELECT count(*) FROM {STAGING}_raw").fetchone()
    return StagedFile(
        path=path,
        format="parquet",
        columns=columns,
        rows=int(row[0]) if row else 0,
        unmappable=unmappable,
    )


def _parquet_text(column: str, kind: str) -> str:
    """A Parquet value as text. A whole number held as a float (pandas stores an integer
    column with gaps as float64, so an NHS number arrives as 9434765919.0) is written as an
    integer, as Excel's numbers are."""
    if kind not in ("DOUBLE", "FLOAT"):
        return f"CAST({column} AS VARCHAR)"
    return (
        f"CASE WHEN isfinite({column}) AND {column} = trunc({column}) "
        f"AND abs({column}) < 9007199254740992 THEN CAST(CAST({column} AS BIGINT) AS VARCHAR) "
        f"ELSE CAST({column} AS VARCHAR) END"
    )
