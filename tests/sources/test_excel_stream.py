"""The streaming sheet reader gives the values openpyxl's own read-only rows give."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook, load_workbook

from sectorlink.sources.readers import _excel_text, _sheet_rows


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
