"""The streaming sheet reader gives the values openpyxl's own read-only rows give."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from sectorlink.sources.readers.excel import excel_text as _excel_text
from sectorlink.sources.readers.excel import sheet_rows as _sheet_rows


def test_streamed_rows_match_openpyxl(tmp_path: Path) -> None:
    workbook = Workbook()  # openpyxl writes shared strings, styles and numbers
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Data"
    sheet.append(["id", "when", "amount", "flag", "note", "count"])
    sheet.append(["a1", dt.datetime(2021, 3, 4), 12.5, True, "café ", 3])
    sheet.append(["a2", dt.datetime(2021, 3, 4, 10, 30), 7.0, False, None, -2])
    sheet["B3"].number_format = "dd/mm/yyyy hh:mm"
    sheet.cell(row=6, column=5, value="after a gap")  # rows 4-5 absent; cells A-D absent
    sheet.cell(row=7, column=1, value=dt.date(1999, 12, 31))
    sheet.cell(row=7, column=3, value=1e-7)
    path = tmp_path / "w.xlsx"
    workbook.save(path)

    book = load_workbook(path, read_only=True, data_only=True)
    expected = {
        number: [_excel_text(v) for v in row]
        for number, row in enumerate(book["Data"].iter_rows(values_only=True), start=1)
        if any(v is not None for v in row)
    }
    streamed = {
        number: [_excel_text(v) for v in row] + [None] * (6 - len(row))
        for number, row in _sheet_rows(book["Data"])
    }
    book.close()
    assert streamed == expected
    assert streamed[2] == ["a1", "2021-03-04", "12.5", "true", "café ", "3"]


def _workbook_with_sheet_xml(path: Path, rows_xml: str) -> None:
    """An openpyxl workbook (shared strings, a date style at index 1) whose sheet XML is
    replaced by `rows_xml`, for cell shapes openpyxl does not write (inline strings, rich
    text, character references, formula text, errors)."""
    import zipfile

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Data"
    sheet.append(["shared text", dt.datetime(2020, 1, 2)])
    workbook.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    start, end = xml.index("<sheetData"), xml.index("</sheetData>") + len("</sheetData>")
    parts["xl/worksheets/sheet1.xml"] = (
        xml[:start] + f"<sheetData>{rows_xml}</sheetData>" + xml[end:]
    ).encode()
    # openpyxl writes inline strings; Excel writes a shared-string table: add one.
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{main}" count="2" uniqueCount="2"><si><t>shared text</t></si>'
        "<si><r><t>rich </t></r><r><t>shared</t></r></si></sst>"
    ).encode()
    relation = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdS" Type="{relation}/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>',
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    ).encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


def _stage_both(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], bool]:
    """(rows staged by the SQL reader, rows staged by the exact reader, SQL reader used)."""
    from unittest import mock

    import duckdb

    from sectorlink.sources.readers import excel_xml as xlsx
    from sectorlink.sources.readers import stage_file
    from sectorlink.sources.spec import FileOptions

    used: list[bool] = []
    real = xlsx.stage_sheet_sql

    def spy(*args: object) -> bool:
        used.append(real(*args))  # type: ignore[arg-type]
        return used[-1]

    con = duckdb.connect()
    options = FileOptions(format="excel", sheet="Data")
    with mock.patch.object(xlsx, "stage_sheet_sql", spy):
        stage_file(con, path, options)
    fast = con.execute("SELECT * FROM __staging ORDER BY __row").fetchall()
    with mock.patch.object(xlsx, "stage_sheet_sql", return_value=False):
        stage_file(con, path, options)
    exact = con.execute("SELECT * FROM __staging ORDER BY __row").fetchall()
    return fast, exact, used == [True]


HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>text</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>number</t></is></c>'
    '<c r="D1" t="inlineStr"><is><t>other</t></is></c></row>'
)


def test_sql_sheet_reader_gives_the_exact_readers_values(tmp_path: Path) -> None:
    rows = HEADER + (
        # shared string, a date-styled serial, a plain decimal, a boolean
        '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" s="1"><v>43832.5</v></c>'
        '<c r="C2"><v>12.5</v></c><c r="D2" t="b"><v>1</v></c></row>'
        # inline rich text with a phonetic run, entities, a character reference
        '<row r="3"><c r="A3" t="inlineStr"><is><r><t>Mc</t></r><r><rPr><b/></rPr>'
        '<t xml:space="preserve">Bride &amp; Co </t></r><rPh sb="0" eb="1"><t>x</t></rPh>'
        '</is></c><c r="B3" t="inlineStr"><is><t>line&#10;two &lt;b&gt;</t></is></c>'
        '<c r="C3"><v>1E-7</v></c><c r="D3" t="str"><f>A1</f><v>R&amp;D</v></c></row>'
        # row 4 missing, row 5 blank (whitespace only): both kept as empty rows
        '<row r="5"><c r="A5" t="inlineStr"><is><t> </t></is></c></row>'
        # integers, a date serial at midnight, an error, a cell past the header
        '<row r="6"><c r="A6"><v>-42</v></c><c r="B6" s="1"><v>10</v></c>'
        '<c r="C6"><v>3.0</v></c><c r="D6" t="e"><v>#N/A</v></c>'
        '<c r="E6" t="inlineStr"><is><t>ignored</t></is></c></row>'
        '<row r="7"><c r="B7" t="inlineStr"><is><t>only B</t></is></c><c r="C7"/>'
        '<c r="D7" t="s"><v>1</v></c></row>'
        '<row r="8"><c r="A8" t="inlineStr"><is><t/></is></c></row>'  # trailing blank
    )
    path = tmp_path / "shapes.xlsx"
    _workbook_with_sheet_xml(path, rows)
    fast, exact, used_sql = _stage_both(path)
    assert used_sql
    assert fast == exact
    assert fast == [
        (2, "shared text", "2020-01-02 12:00:00", "12.5", "true"),
        (3, "McBride & Co ", "line\ntwo <b>", "1e-07", "R&D"),
        (4, None, None, None, None),
        (5, None, None, None, None),
        (6, "-42", "1900-01-10", "3", "#N/A"),
        (7, None, "only B", None, "rich shared"),
    ]


def test_sheet_without_cell_references_uses_the_exact_reader(tmp_path: Path) -> None:
    rows = HEADER + '<row r="2"><c t="inlineStr"><is><t>a</t></is></c><c><v>7</v></c></row>'
    path = tmp_path / "norefs.xlsx"
    _workbook_with_sheet_xml(path, rows)
    fast, exact, used_sql = _stage_both(path)
    assert not used_sql
    assert fast == exact == [(2, "a", "7", None, None)]


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="B2" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c>',
        '<c r="B2"><!-- a comment --><v>7</v></c>',
        '<c r="B2"><?pi data?><v>7</v></c>',
        '<c r="B2" t="inlineStr"><is\n><t>x</t></is></c>',
    ],
)
def test_markup_the_sql_reader_does_not_follow_goes_to_the_exact_reader(
    tmp_path: Path, cell: str
) -> None:
    rows = HEADER + f'<row r="2"><c r="A2"><v>1</v></c>{cell}</row>'
    path = tmp_path / "markup.xlsx"
    _workbook_with_sheet_xml(path, rows)
    fast, exact, used_sql = _stage_both(path)
    assert not used_sql
    assert fast == exact
    assert fast[0][:2] == (2, "1")


@pytest.mark.parametrize("batch_bytes", [7, 2000])
def test_sheet_read_in_small_batches_gives_the_same_rows(
    tmp_path: Path, batch_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches cut between rows (and blocks cut anywhere, even inside a tag) change nothing:
    the rows staged match the exact reader's, gaps and trailing blank rows included."""
    from sectorlink.sources.readers import excel_xml as xlsx

    rows = HEADER + "".join(
        f'<row r="{n}"><c r="A{n}"><v>{n}</v></c>'
        f'<c r="B{n}" t="inlineStr"><is><t>name &amp; {n}</t></is></c>'
        f'<c r="D{n}" t="s"><v>{n % 2}</v></c></row>'
        for n in range(2, 60)
        if n % 7  # every seventh row absent: kept as an empty row
    )
    rows += '<row r="60"><c r="A60" t="inlineStr"><is><t/></is></c></row>'  # trailing blank
    path = tmp_path / "batches.xlsx"
    _workbook_with_sheet_xml(path, rows)
    monkeypatch.setattr(xlsx, "BATCH_BYTES", batch_bytes)
    fast, exact, used_sql = _stage_both(path)
    assert used_sql
    assert fast == exact
    assert len(fast) == 58 and fast[-1][0] == 59
    assert fast[5] == (7, None, None, None, None)
    assert fast[0] == (2, "2", "name & 2", None, "shared text")
