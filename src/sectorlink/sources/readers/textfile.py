"""Checks and repairs of a text file's bytes, each on its own: what the CSV reader's steps
(`readers.steps`) are made of. A check raises :class:`FileFormatError` naming the byte, row
and column; a repair writes a repaired copy, rows and their numbers unchanged."""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import re
from pathlib import Path
from typing import Any

from sectorlink.sources.errors import FileFormatError
from sectorlink.sources.reasons import FileErrorCode

CHUNK = 1 << 20
DELIMITER_CANDIDATES = (",", ";", "\t", "|")

_UNPACK = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "lzma"}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zip")


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
                code=FileErrorCode.ENCODING_MISMATCH,
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
                    column = column_at(path, bad, delimiter)
                    raise FileFormatError(
                        f"byte 0x{chunk[exc.start]:02X} at offset {bad} is not valid UTF-8, "
                        "but the "
                        "spec says encoding utf-8; if the partner exported it from Excel or an "
                        "older system it is probably latin-1 or windows-1252 (set file.encoding)",
                        file=path,
                        row=row,
                        column=column,
                        code=FileErrorCode.WRONG_ENCODING,
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
            code=FileErrorCode.WRONG_ENCODING,
        )
    if encoding != "utf-8" and non_ascii_at is not None:
        raise FileFormatError(
            "the file is valid UTF-8 with non-ASCII characters, but the spec says encoding "
            f"{encoding}, which would garble them ('é' read as 'Ã©'); set file.encoding: utf-8",
            file=path,
            row=non_ascii_at,
            code=FileErrorCode.ENCODING_MISMATCH,
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
                column=column_at(path, offset + found.start(), delimiter),
                code=FileErrorCode.WRONG_ENCODING,
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
                        code=FileErrorCode.UNKNOWN_FORMAT,
                    )
                if len(names) != 1:
                    raise FileFormatError(
                        f"the zip archive holds {len(names)} files "
                        f"({', '.join(names[:5])}); give the extract itself, or a zip of it "
                        "alone",
                        file=path,
                        code=FileErrorCode.PACKED,
                    )
                with archive.open(names[0]) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
            return
        opener: Any = {"gzip": gzip.open, "bz2": bz2.open, "lzma": lzma.open}[kind]
        with opener(path, "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise FileFormatError(
            f"cannot unpack the {kind} file: {exc} (cut off, or damaged?)",
            file=path,
            code=FileErrorCode.PACKED,
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
            code=FileErrorCode.PACKED,
        )
    if encoding != "utf-16" and head.startswith(_UTF16_BOMS):
        raise FileFormatError(
            "the file starts with a UTF-16 byte-order mark (what Excel's 'Unicode Text' "
            f"export writes) but the spec says encoding {encoding}; set file.encoding: utf-16",
            file=path,
            row=1,
            code=FileErrorCode.ENCODING_MISMATCH,
        )
    if encoding == "utf-16" and not head.startswith(_UTF16_BOMS) and b"\0" not in head:
        raise FileFormatError(
            "the spec says encoding utf-16, but the file has no UTF-16 byte-order mark and "
            "no zero bytes, so it is not UTF-16; it is probably utf-8 or latin-1",
            file=path,
            row=1,
            code=FileErrorCode.ENCODING_MISMATCH,
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
            column=column_at(path, bad, delimiter),
            code=FileErrorCode.NUL_BYTE,
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


def column_at(path: Path, offset: int, delimiter: str | None) -> str | None:
    """The header name of the field holding byte `offset` (best effort, for messages)."""
    with open(path, "rb") as fh:
        header_line = fh.readline()
        start = max(0, offset - 65536)
        fh.seek(start)
        before = fh.read(offset - start)
    line_start = before.rfind(b"\n") + 1
    prefix = before[line_start:]
    header = header_line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    delim = delimiter or sniff_delimiter(header)
    names = next(csv.reader([header], delimiter=delim), [])
    index = prefix.count(delim.encode())
    return names[index].strip() if index < len(names) else None


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITER_CANDIDATES}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


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
                    code=FileErrorCode.WRONG_ENCODING,
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
                code=FileErrorCode.WRONG_ENCODING,
            ) from None


def footer_start(path: Path, footer_rows: int) -> int:
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
                code=FileErrorCode.FOOTER_TOO_LONG,
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


def empty_lines(path: Path, header_row: int) -> list[int]:
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


def has_crlf(path: Path) -> bool:
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(b"\r\n") >= 0


def count_lines(path: Path) -> tuple[int, bool]:
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


def read_header(
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
            code=FileErrorCode.HEADER,
        )
    first_line = text.splitlines()[0] if text.splitlines() else ""
    delim = delimiter or sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text), delimiter=delim, quotechar=quote)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FileFormatError(
            f"cannot read the header row: {exc}",
            file=path,
            row=header_row,
            code=FileErrorCode.HEADER,
        ) from None
    return [h.strip() for h in header], delim
