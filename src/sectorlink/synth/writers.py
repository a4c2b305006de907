"""Writing extract files byte for byte the way each partner's system would.

CSV is rendered with Arrow compute (quote only where needed, or quote everything),
so a chunk of a million rows becomes bytes without a Python loop; the encoding, the
byte-order mark and Windows line ends are applied to those bytes. Excel goes through
openpyxl's streaming writer, then the zip is rewritten with pinned timestamps so the
same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from sectorlink.synth.config import END_DATE

PINNED = dt.datetime(END_DATE.year, END_DATE.month, END_DATE.day)
ZIP_TIME = (PINNED.year, PINNED.month, PINNED.day, 0, 0, 0)


def _as_text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    return pc.fill_null(arr, "")


def _quoted(arr: pa.Array, delimiter: str, quote_all: bool) -> pa.Array:
    escaped = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    if quote_all:
        return escaped
    special = re.escape(delimiter) + '"\r\n'
    needs = pc.match_substring_regex(arr, f"[{special}]")
    return pc.if_else(needs, escaped, arr)


def csv_text(table: pa.Table, delimiter: str, quote_all: bool, header: bool, line_end: str) -> str:
    """The rows of `table` (and its header line if asked) as CSV text."""
    names = pa.array(table.column_names, pa.string())
    head = ""
    if header:
        head = delimiter.join(_quoted(names, delimiter, quote_all).to_pylist()) + line_end
    if table.num_rows == 0:
        return head
    cols = [_quoted(_as_text(table[name]), delimiter, quote_all) for name in table.column_names]
    rows = pc.binary_join_element_wise(*cols, delimiter) if len(cols) > 1 else cols[0]
    lines = pc.binary_join_element_wise(rows, "", line_end)
    offsets = pa.array([0, len(lines)], pa.int32())
    body = pc.binary_join(pa.ListArray.from_arrays(offsets, lines), "")[0].as_py()
    return head + str(body)


class CsvSink:
    """An extract or truth CSV written a chunk at a time."""

    def __init__(
        self,
        path: Path,
        delimiter: str = ",",
        encoding: str = "utf-8",
        bom: bool = False,
        crlf: bool = False,
        quote_all: bool = False,
    ) -> None:
        self.path = path
        self.delimiter = delimiter
        self.encoding = encoding
        self.bom = bom
        self.line_end = "\r\n" if crlf else "\n"
        self.quote_all = quote_all
        self.rows = 0
        self._fh: IO[bytes] | None = None

    def write(self, table: pa.Table) -> None:
        first = self._fh is None
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            if self.bom:
                self._fh.write(b"\xef\xbb\xbf")
        text = csv_text(table, self.delimiter, self.quote_all, first, self.line_end)
        # A latin-1 system cannot hold 'ł' or 'ś': like the real thing, it writes '?'.
        self._fh.write(text.encode(self.encoding, errors="replace"))
        self.rows += table.num_rows

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class XlsxSink:
    """An Excel workbook written row by row in openpyxl's write-only mode."""

    def __init__(self, path: Path, sheet: str, cover: str | None = None) -> None:
        from openpyxl import Workbook

        self.path = path
        self.workbook = Workbook(write_only=True)
        self.workbook.properties.creator = "sectorlink synth"
        self.workbook.properties.created = PINNED
        if cover is not None:
            about = self.workbook.create_sheet("About")
            about.append([cover])
        self.sheet = self.workbook.create_sheet(sheet)
        self.rows = 0
        self._header = False

    def write(self, table: pa.Table) -> None:
        if not self._header:
            self.sheet.append(table.column_names)
            self._header = True
        # openpyxl takes one Python row at a time; there is no columnar xlsx writer.
        columns = [table[name].to_pylist() for name in table.column_names]
        for row in zip(*columns, strict=True):
            self.sheet.append(list(row))
        self.rows += table.num_rows

    def close(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.workbook.save(self.path)
        pin_zip(self.path)


def pin_zip(path: Path) -> None:
    """Rewrite a zip (an .xlsx) with fixed entry times and document dates."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    stamp = PINNED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    data,
                )
            pinned = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = info.external_attr
            zout.writestr(pinned, data)
    os.replace(tmp, path)


def write_yaml(path: Path, data: dict[str, Any], header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
    path.write_text(header + body, encoding="utf-8")
