"""The CSV reader's repair steps, named and in the order they are applied.

Each step says whether a file needs it (`needed`) and makes a repaired copy (`apply`):
rows, their order and their numbers are unchanged, so a reject in the copy is a reject at
the same row of the partner's file. A step may also only check (the text check refuses a
file it cannot read and copies nothing). `run_steps` applies them in order, each to the
copy the step before made. Each step can be run on its own: `UNPACK.apply(source, out)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sectorlink.sources.readers.textfile import (
    check_encoding,
    check_plain_text,
    copy_head,
    footer_start,
    has_crlf,
    packing,
    read_header,
    transcode_to_utf8,
    unpack_csv,
    write_lf_line_endings,
)
from sectorlink.sources.spec import FileOptions

# Encodings DuckDB's CSV reader reads itself; the others are transcoded to UTF-8 first.
READ_NATIVELY = ("utf-8", "latin-1")


@dataclass(frozen=True)
class Source:
    """The file the next step reads (the partner's file or a repaired copy of it), and the
    options it is read with (a transcoded copy is UTF-8, a copy without its footer has
    none)."""

    path: Path
    options: FileOptions


@dataclass(frozen=True)
class Step:
    """One repair of a CSV file: its name, when it is needed, how it is made."""

    name: str
    what: str
    needed: Callable[[Source], bool]
    run: Callable[[Source, Path], Source]
    """Repair `source` into the file at the path given (or only check it, returning it)."""

    def apply(self, source: Source, out: Path) -> Source:
        return self.run(source, out)


def _unpack(source: Source, out: Path) -> Source:
    kind = packing(source.path)
    assert kind is not None
    unpack_csv(source.path, kind, out)
    return Source(out, source.options)


def _check_text(source: Source, out: Path) -> Source:
    options = source.options
    check_plain_text(source.path, options.encoding)
    # DuckDB checks that a UTF-8 file is UTF-8 as it reads; the byte-by-byte check (which
    # names the byte, row and column) runs on UTF-8 files only when DuckDB finds one wrong.
    if options.encoding != "utf-8":
        check_encoding(source.path, options.encoding, options.delimiter)
    return source


def _transcode(source: Source, out: Path) -> Source:
    transcode_to_utf8(source.path, source.options.encoding, out)
    return Source(out, dataclasses.replace(source.options, encoding="utf-8"))


def _drop_footer(source: Source, out: Path) -> Source:
    copy_head(source.path, footer_start(source.path, source.options.footer_rows), out)
    return Source(out, dataclasses.replace(source.options, footer_rows=0))


def _lf(source: Source, out: Path) -> Source:
    write_lf_line_endings(source.path, out)
    return Source(out, source.options)


def wrapped_header_in_crlf_file(source: Source) -> bool:
    """A header wrapped by a line break inside quotes, in a file whose rows end in CR LF:
    DuckDB takes the file's first line end for the row end and found no rows at all. (A
    file whose rows end both ways is found when DuckDB refuses it: a full scan of every
    file for it would cost every load.)"""
    o = source.options
    header, _ = read_header(source.path, o.encoding, o.delimiter, o.quote, o.header_row)
    return any("\n" in name or "\r" in name for name in header) and has_crlf(source.path)


UNPACK = Step(
    "unpack",
    "a gzip, bzip2 or xz file, or a zip archive of one file, is read as the CSV inside "
    "(known by its first bytes, whatever its name)",
    lambda s: packing(s.path) is not None,
    _unpack,
)
CHECK_TEXT = Step(
    "text check",
    "refuse a zstd file, a UTF-16 file declared otherwise (or the reverse), and bytes that "
    "are not in the declared encoding, naming the byte, row and column (copies nothing)",
    lambda s: True,
    _check_text,
)
TRANSCODE = Step(
    "transcode",
    "windows-1252 and UTF-16 are read from a UTF-8 copy (DuckDB reads UTF-8 and latin-1)",
    lambda s: s.options.encoding not in READ_NATIVELY,
    _transcode,
)
FOOTER = Step(
    "footer",
    "file.footer_rows: the last lines that are not empty (a total, 'end of report') and the "
    "empty lines above them are left out",
    lambda s: s.options.footer_rows > 0,
    _drop_footer,
)
LINE_ENDS = Step(
    "line ends",
    "a file whose rows end partly in CR LF and partly in LF, or whose wrapped header holds "
    "an LF in a CR LF file, is read from a copy with LF throughout",
    wrapped_header_in_crlf_file,
    _lf,
)

CSV_STEPS: tuple[Step, ...] = (UNPACK, CHECK_TEXT, TRANSCODE, FOOTER, LINE_ENDS)
"""The repair steps of a CSV file, in the order they are applied."""


def run_steps(
    source: Source, folder: Path, steps: tuple[Step, ...] = CSV_STEPS
) -> tuple[Source, list[str]]:
    """Apply each step the file needs, in order; (the file to read, the steps taken).

    Copies are written in `folder`; a copy is removed once the next one is made from it.
    """
    taken: list[str] = []
    for i, step in enumerate(steps):
        if not step.needed(source):
            continue
        out = folder / f"{i}-{step.name.replace(' ', '-')}.csv"
        repaired = step.apply(source, out)
        if repaired.path != source.path:
            taken.append(step.name)
            if source.path.parent == folder:
                source.path.unlink()
        source = repaired
    return source, taken
