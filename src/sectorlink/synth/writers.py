"""Writing extract files byte for byte the way each partner's system would.

CSV is rendered with Arrow compute (quote only where needed, or quote everything),
so a chunk of a million rows becomes bytes without a Python loop; the encoding, the
byte-order mark and Windows line ends are applied to those bytes. Excel goes through
its own streaming writer (sheet XML built with Arrow compute, zip entries with pinned
times), so the same seed gives the same bytes and a big sheet costs no per-cell Python.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from sectorlink.synth.config import END_DATE

PINNED = dt.datetime(END_DATE.year, END_DATE.month, END_DATE.day)
ZIP_TIME = (PINNED.year, PINNED.month, PINNED.day, 0, 0, 0)


def _as_text(column: pa.ChunkedArray | pa.Array, missing: str = "") -> pa.Array:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    arr = pc.fill_null(arr, missing)
    return pc.if_else(pc.equal(arr, ""), missing, arr) if missing else arr


def _quoted(arr: pa.Array, delimiter: str, quote_all: bool) -> pa.Array:
    escaped = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    if quote_all:
        return escaped
    special = re.escape(delimiter) + '"\r\n'
    needs = pc.match_substring_regex(arr, f"[{special}]")
    return pc.if_else(needs, escaped, arr)


def csv_text(
    table: pa.Table,
    delimiter: str,
    quote_all: bool,
    header: bool,
    line_end: str,
    missing: str = "",
) -> str:
    """The rows of `table` (and its header line if asked) as CSV text; an empty value is
    written as `missing`."""
    names = pa.array(table.column_names, pa.string())
    head = ""
    if header:
        head = delimiter.join(_quoted(names, delimiter, quote_all).to_pylist()) + line_end
    if table.num_rows == 0:
        return head
    cols = [
        _quoted(_as_text(table[name], missing), delimiter, quote_all) for name in table.column_names
    ]
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
        preamble: tuple[str, ...] = (),
        missing: str = "",
        footer: tuple[str, ...] = (),
    ) -> None:
        self.path = path
        self.delimiter = delimiter
        self.encoding = encoding
        self.bom = bom
        self.line_end = "\r\n" if crlf else "\n"
        self.quote_all = quote_all
        self.preamble = preamble
        self.missing = missing
        self.footer = footer
        self.rows = 0
        self._fh: IO[bytes] | None = None

    def write(self, table: pa.Table, header_at: int | None = None) -> None:
        """Append `table`'s rows; with `header_at`, the header again before that row (the
        file is several exports joined, each with its header), counted as a row."""
        if header_at is not None:
            self.write(table.slice(0, header_at))
            assert self._fh is not None
            head = csv_text(table.slice(0, 0), self.delimiter, self.quote_all, True, self.line_end)
            self._fh.write(head.encode(self.encoding, errors="replace"))
            self.rows += 1
            table = table.slice(header_at)
        first = self._fh is None
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            if self.bom:
                self._fh.write(b"\xef\xbb\xbf")
            for line in self.preamble:
                self._fh.write((line + self.line_end).encode(self.encoding, errors="replace"))
        text = csv_text(table, self.delimiter, self.quote_all, first, self.line_end, self.missing)
        # A latin-1 system cannot hold 'ł' or 'ś': like the real thing, it writes '?'.
        self._fh.write(text.encode(self.encoding, errors="replace"))
        self.rows += table.num_rows

    def close(self) -> None:
        if self._fh is not None:
            for line in self.footer:
                text = line.format(rows=self.rows) + self.line_end
                self._fh.write(text.encode(self.encoding, errors="replace"))
            self._fh.close()
            self._fh = None


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _column_letters(n: int) -> list[str]:
    out = []
    for i in range(n):
        name, k = "", i + 1
        while k:
            k, rem = divmod(k - 1, 26)
            name = chr(65 + rem) + name
        out.append(name)
    return out


def _xml_text(arr: pa.Array) -> pa.Array:
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        arr = pc.replace_substring(arr, char, entity)
    return arr


def sheet_rows_xml(table: pa.Table, first_row: int) -> str:
    """`<row>` elements for `table`, numbered from `first_row`: strings as inline strings,
    floats and integers as numbers, nulls as absent cells. Built with Arrow compute, so a
    sheet of any size is written without a loop over its rows or cells."""
    n = table.num_rows
    if n == 0:
        return ""
    numbers = pc.cast(pa.array(range(first_row, first_row + n), pa.int64()), pa.string())
    cells = []
    for letter, name in zip(_column_letters(table.num_columns), table.column_names, strict=True):
        column = table[name].combine_chunks()
        numeric = pa.types.is_floating(column.type) or pa.types.is_integer(column.type)
        value = pc.cast(column, pa.string()) if numeric else _xml_text(pc.cast(column, pa.string()))
        if numeric:
            cell = pc.binary_join_element_wise(
                f'<c r="{letter}', numbers, '"><v>', value, "</v></c>", ""
            )
        else:
            cell = pc.binary_join_element_wise(
                f'<c r="{letter}',
                numbers,
                '" t="inlineStr"><is><t xml:space="preserve">',
                value,
                "</t></is></c>",
                "",
            )
        cells.append(pc.fill_null(cell, ""))
    joined = pc.binary_join_element_wise(*cells, "") if len(cells) > 1 else cells[0]
    rows = pc.binary_join_element_wise('<row r="', numbers, '">', joined, "</row>", "")
    offsets = pa.array([0, n], pa.int32())
    return str(pc.binary_join(pa.ListArray.from_arrays(offsets, rows), "")[0].as_py())


class XlsxSink:
    """An Excel workbook streamed to disk: sheet rows go to a temporary file a chunk at a
    time, and the package is zipped at close with pinned times (same seed, same bytes)."""

    def __init__(self, path: Path, sheet: str, cover: str | None = None) -> None:
        self.path = path
        self.sheet = sheet
        self.cover = cover
        self.rows = 0
        self.columns = 0
        self._body = path.with_suffix(path.suffix + ".rows")
        self._fh: IO[bytes] | None = None

    def write(self, table: pa.Table) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self._body, "wb")  # noqa: SIM115 - closed in close()
            header = pa.table({name: pa.array([name]) for name in table.column_names})
            self._fh.write(sheet_rows_xml(header, 1).encode("utf-8"))
            self.columns = table.num_columns
        self._fh.write(sheet_rows_xml(table, self.rows + 2).encode("utf-8"))
        self.rows += table.num_rows

    def close(self) -> None:
        if self._fh is None:
            return
        self._fh.close()
        self._fh = None
        sheets = [("About", self.cover)] if self.cover is not None else []
        names = [name for name, _ in sheets] + [self.sheet]
        last = _column_letters(max(self.columns, 1))[-1]
        with zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED) as zf:

            def put(name: str, text: str) -> None:
                zf.writestr(_zip_info(name), text.encode("utf-8"))

            put("[Content_Types].xml", _content_types(len(names)))
            put("_rels/.rels", _package_rels())
            put("docProps/core.xml", _core_properties())
            put(
                "docProps/app.xml",
                _XML_HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/'
                'officeDocument/2006/extended-properties"><Application>sectorlink</Application>'
                "</Properties>",
            )
            put("xl/workbook.xml", _workbook(names))
            put("xl/_rels/workbook.xml.rels", _workbook_rels(len(names)))
            put("xl/styles.xml", _STYLES)
            for i, (_, text) in enumerate(sheets, start=1):
                cover = pa.table({"text": pa.array([text])})
                put(
                    f"xl/worksheets/sheet{i}.xml",
                    _sheet_head("A1:A1") + sheet_rows_xml(cover, 1) + _SHEET_TAIL,
                )
            with zf.open(_zip_info(f"xl/worksheets/sheet{len(names)}.xml"), "w") as out:
                out.write(_sheet_head(f"A1:{last}{self.rows + 1}").encode("utf-8"))
                with open(self._body, "rb") as body:
                    shutil.copyfileobj(body, out, 1 << 20)
                out.write(_SHEET_TAIL.encode("utf-8"))
        self._body.unlink()


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def _sheet_head(dimension: str) -> str:
    return f'{_XML_HEAD}<worksheet xmlns="{_NS}"><dimension ref="{dimension}"/><sheetData>'


_SHEET_TAIL = "</sheetData></worksheet>"
_STYLES = (
    f'{_XML_HEAD}<styleSheet xmlns="{_NS}"><fonts count="1"><font><sz val="11"/>'
    '<name val="Calibri"/>'
    '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
    '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/>'
    '<top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1">'
    '<xf numFmtId="0" fontId="0" '
    'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles></styleSheet>'
)


def _content_types(sheets: int) -> str:
    parts = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        f'ContentType="{_CT}.spreadsheetml.worksheet+xml"/>'
        for i in range(1, sheets + 1)
    )
    return (
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels"'
        ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>'
        f"{parts}"
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{_CT}.extended-properties+xml"/>'
        "</Types>"
    )


def _package_rels() -> str:
    return (
        f'{_XML_HEAD}<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG}/metadata/core-properties"'
        ' Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )


def _core_properties() -> str:
    stamp = PINNED.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{_XML_HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>sectorlink synth</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _workbook(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    return (
        f'{_XML_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'
    )


def _workbook_rels(sheets: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, sheets + 1)
    )
    styles = f'<Relationship Id="rId{sheets + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
    return f'{_XML_HEAD}<Relationships xmlns="{_PKG}">{rels}{styles}</Relationships>'


def write_yaml(path: Path, data: dict[str, Any], header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
    path.write_text(header + body, encoding="utf-8")
