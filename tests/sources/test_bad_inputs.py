"""Every bad input named in the foundation issue, and more: clear errors, nothing half-loaded."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap

import pytest
from openpyxl import Workbook

from sectorlink.sources import FileFormatError, SpecError, ingest, load_spec

GOOD_SPEC = """\
spec_version: 1
source: clinic
record_id: id
person:
  family_name: surname
  birth_date: {column: dob, formats: ["%d/%m/%Y"]}
events:
  - event_type: {value: gp_registration}
    start_time: {column: seen, formats: ["%d/%m/%Y"]}
"""
GOOD_CSV = "id,surname,dob,seen\n1,Smith,01/02/1980,03/04/2024\n2,Jones,05/06/1990,07/08/2024\n"


def table_counts(query):
    return query(
        "SELECT (SELECT count(*) FROM person_record), (SELECT count(*) FROM event), "
        "(SELECT count(*) FROM load), (SELECT count(*) FROM rejects)"
    )


# --- the spec -------------------------------------------------------------------------------
def test_misspelt_column_names_the_column_and_suggests(write, warehouse):
    spec = write("s.yaml", GOOD_SPEC.replace("family_name: surname", "family_name: surnme"))
    with pytest.raises(SpecError) as err:
        ingest(spec, write("d.csv", GOOD_CSV), warehouse=warehouse)
    message = str(err.value)
    assert "'surnme' is not in d.csv" in message and "closest: 'surname'" in message
    assert "person.family_name" in message
    assert err.value.column == "surnme"
    assert not warehouse.exists() or table_counts_empty(warehouse)


def table_counts_empty(warehouse):
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM load").fetchone()
    return row == (0,)


def test_unknown_model_field_points_at_the_spec_line(write):
    spec = write("s.yaml", GOOD_SPEC.replace("  family_name: surname", "  familyname: surname"))
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert err.value.line == 5
    assert "person_record has no field 'familyname'" in str(err.value)
    assert "did you mean 'family_name'" in str(err.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("  family_name: surname", "  sex: {column: surname, codes: {m: Male}}"),
            "'Male' is not a code of sex",
        ),
        (
            ("  family_name: surname", "  family_name: {column: surname, codes: {a: b}}"),
            "has no code set",
        ),
        (
            ("gp_registration", "gp_registraton"),
            None,
        ),  # a constant event type is checked at load time
        (("source: clinic", "source: Clinic A"), "must be lower-case"),
        (("spec_version: 1", "spec_version: 2"), "spec_version must be 1"),
        (("events:", "evnts:"), "unknown key 'evnts' (did you mean 'events'?)"),
        (('formats: ["%d/%m/%Y"]}', 'formats: ["dd/mm/yyyy"]}'), "is not a strftime format"),
        (
            (
                "  family_name: surname",
                "  family_name: {column: surname, split: surname_comma_forename}",
            ),
            "'split' is for full_name",
        ),
    ],
)
def test_spec_mistakes_are_named(write, change, expected):
    spec = write("s.yaml", GOOD_SPEC.replace(*change, 1))
    if expected is None:
        load_spec(spec)
        return
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert expected in str(err.value)
    assert str(spec) in str(err.value)


def test_unknown_detail_table_and_code_set(write):
    spec = write("s.yaml", GOOD_SPEC + "    detail:\n      violance: {assault_method: m}\n")
    with pytest.raises(
        SpecError, match=r"unknown detail table 'violance'.*did you mean 'violence'"
    ):
        load_spec(spec)


def test_not_yaml(write):
    with pytest.raises(SpecError, match="not valid YAML") as err:
        load_spec(write("s.yaml", "spec_version: 1\nsource: [unclosed\n"))
    assert err.value.line is not None


def test_unmapped_constant_event_type_rejects_rows(write, warehouse):
    spec = write("s.yaml", GOOD_SPEC.replace("gp_registration", "gp_registraton"))
    result = ingest(spec, write("d.csv", GOOD_CSV), warehouse=warehouse)
    assert result.rows_rejected == 2
    assert "code gp_registraton is not mapped" in result.rejects[0].reason


# --- the file -------------------------------------------------------------------------------
def test_empty_file(write, warehouse):
    with pytest.raises(FileFormatError, match="empty") as err:
        ingest(write("s.yaml", GOOD_SPEC), write("d.csv", ""), warehouse=warehouse)
    assert err.value.file is not None and err.value.file.name == "d.csv"


def test_header_only_file(write, warehouse):
    with pytest.raises(FileFormatError, match="header but no data rows") as err:
        ingest(
            write("s.yaml", GOOD_SPEC), write("d.csv", "id,surname,dob,seen\n"), warehouse=warehouse
        )
    assert err.value.row == 2


def test_wrong_delimiter_is_diagnosed(write, warehouse):
    with pytest.raises(SpecError, match="delimiter is probably wrong"):
        ingest(
            write(
                "s.yaml",
                GOOD_SPEC.replace("record_id: id", "file: {delimiter: ','}\nrecord_id: id"),
            ),
            write("d.csv", GOOD_CSV.replace(",", ";")),
            warehouse=warehouse,
        )


def test_latin1_file_declared_utf8(write, warehouse):
    data = write(
        "d.csv",
        "id,surname,dob,seen\n1,Smith,01/02/1980,03/04/2024\n2,Mü,05/06/1990,07/08/2024\n",
        encoding="latin-1",
    )
    with pytest.raises(FileFormatError, match=r"not valid UTF-8.*latin-1") as err:
        ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert err.value.row == 3
    assert err.value.column == "surname"


def test_bad_byte_deep_in_a_utf8_file_is_found_with_its_row_and_column(tmp_path, write, warehouse):
    # Past DuckDB's sniffing sample and its first parallel chunk: found as the file is read.
    rows = [f"{i},Smith,01/02/1980,03/04/2024\n" for i in range(1, 40_001)]
    rows[29_999] = "30000,M\xfcller,01/02/1980,03/04/2024\n"
    data = tmp_path / "d.csv"
    data.write_bytes(("id,surname,dob,seen\n" + "".join(rows)).encode("latin-1"))
    with pytest.raises(FileFormatError, match=r"byte 0xFC .* not valid UTF-8") as err:
        ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert (err.value.row, err.value.column) == (30_001, "surname")


def test_utf8_file_cut_inside_a_character(tmp_path, write, warehouse, query):
    data = tmp_path / "d.csv"
    data.write_bytes(
        (b"id,surname,dob,seen\n1,Smith,01/02/1980,03/04/2024\n2,Zo") + "ë".encode()[:1]
    )
    with pytest.raises(FileFormatError, match=r"(middle of a UTF-8 character|not valid UTF-8)"):
        ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert table_counts(query) == [(0, 0, 0, 0)]


def test_utf8_file_declared_latin1(write, warehouse):
    spec = write(
        "s.yaml", GOOD_SPEC.replace("record_id: id", "file: {encoding: latin-1}\nrecord_id: id")
    )
    data = write("d.csv", "id,surname,dob,seen\n1,Zoë,01/02/1980,03/04/2024\n")
    with pytest.raises(FileFormatError, match=r"valid UTF-8.*garble") as err:
        ingest(spec, data, warehouse=warehouse)
    assert err.value.row == 2


def test_windows_1252_quote_in_a_file_declared_latin1_names_the_encoding(
    tmp_path, write, warehouse, query
):
    # 0x92 is a curly apostrophe in windows-1252 and an invisible control in latin-1.
    spec = write(
        "s.yaml", GOOD_SPEC.replace("record_id: id", "file: {encoding: latin-1}\nrecord_id: id")
    )
    data = tmp_path / "d.csv"
    data.write_bytes(
        b"id,surname,dob,seen\n1,M\xfcller,01/02/1980,03/04/2024\n2,O\x92Brien,01/02/1980,"
        b"03/04/2024\n"
    )
    with pytest.raises(FileFormatError, match=r"0x92 .*control character.*windows-1252") as err:
        ingest(spec, data, warehouse=warehouse)
    assert (err.value.row, err.value.column) == (3, "surname")
    assert table_counts(query) == [(0, 0, 0, 0)]


def test_bom_with_latin1_declared(write, warehouse):
    spec = write(
        "s.yaml", GOOD_SPEC.replace("record_id: id", "file: {encoding: latin-1}\nrecord_id: id")
    )
    with pytest.raises(FileFormatError, match="byte-order mark"):
        ingest(spec, write("d.csv", "\ufeff" + GOOD_CSV), warehouse=warehouse)


def test_bad_and_future_dates_are_rejected_with_row_and_column(write, warehouse, query):
    """An event's start identifies it: a bad one rejects the row. A birth date is optional:
    a bad one is set empty and recorded as a field issue, and the row loads."""
    data = write(
        "d.csv",
        GOOD_CSV
        + "3,Bad,01/01/1980,31/02/2024\n4,Future,01/01/1980,01/01/2099\n"
        + "5,BadBirth,31/02/1980,01/01/2024\n6,FutureBirth,01/01/2099,01/01/2024\n",
    )
    result = ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert result.rows_rejected == 2
    assert query("SELECT source_row, column_name, reason, code FROM rejects ORDER BY 1") == [
        (
            4,
            "seen",
            "seen (event.start_time): 31/02/2024 is not a date in the format(s) %d/%m/%Y",
            "not_a_date",
        ),
        (5, "seen", "seen (event.start_time): 01/01/2099 lies in the future", "future_date"),
    ]
    # the rejected rows are kept whole, never dropped
    raw = query("SELECT raw->>'surname' FROM rejects ORDER BY source_row")
    assert raw == [("Bad",), ("Future",)]
    assert result.field_issues == 2
    assert query(
        "SELECT source, source_row, column_name, field, code, reason FROM field_issues ORDER BY 2"
    ) == [
        (
            "clinic",
            6,
            "dob",
            "person_record.birth_date",
            "not_a_date",
            "dob (person_record.birth_date): 31/02/1980 is not a date in the format(s) %d/%m/%Y",
        ),
        (
            "clinic",
            7,
            "dob",
            "person_record.birth_date",
            "future_date",
            "dob (person_record.birth_date): 01/01/2099 lies in the future",
        ),
    ]
    # the rows with a bad birth date load, without it (and without a birth year from it)
    assert query(
        "SELECT record_id, birth_date, birth_year FROM person_record WHERE record_id IN "
        "('5', '6') ORDER BY 1"
    ) == [("5", None, None), ("6", None, None)]
    assert query("SELECT count(*) FROM person_record") == [(4,)]
    assert query("SELECT count(*) FROM event") == [(4,)]


def test_truncated_file_mid_row(write, warehouse):
    data = write("d.csv", GOOD_CSV + "3,Trunc")
    with pytest.raises(FileFormatError, match="cut off") as err:
        ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert err.value.row == 4
    assert "'dob'" in str(err.value)


def test_unterminated_quote(write, warehouse):
    data = write("d.csv", GOOD_CSV + '3,"Trunc,01/01/1980,01/01/2020\n')
    with pytest.raises(FileFormatError, match="never closed") as err:
        ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert err.value.row == 4


def test_duplicate_header_columns(write, warehouse):
    with pytest.raises(FileFormatError, match="appears twice"):
        ingest(
            write("s.yaml", GOOD_SPEC),
            write("d.csv", "id,surname,dob,seen,id\n1,a,,,1\n"),
            warehouse=warehouse,
        )


def test_duplicate_record_ids_reject_later_rows(write, warehouse, query):
    data = write("d.csv", GOOD_CSV + "1,Again,01/01/1970,01/01/2020\n")
    result = ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert result.rows_rejected == 1
    reasons = [r[0] for r in query("SELECT reason FROM rejects WHERE source_row = 4")]
    assert "id: duplicate record_id 1 (first at row 2)" in reasons
    assert query("SELECT family_name FROM person_record WHERE record_id = '1'") == [("Smith",)]


def test_missing_required_value(write, warehouse):
    result = ingest(
        write("s.yaml", GOOD_SPEC),
        write("d.csv", GOOD_CSV + ",NoId,,01/01/2020\n"),
        warehouse=warehouse,
    )
    assert result.rows_rejected == 1
    assert "required value is missing" in result.rejects[0].reason


def test_a_failed_load_leaves_the_warehouse_as_it_was(write, warehouse, query):
    ingest(write("s.yaml", GOOD_SPEC), write("d.csv", GOOD_CSV), warehouse=warehouse)
    before = table_counts(query)
    with pytest.raises(FileFormatError):
        ingest(
            write("s.yaml", GOOD_SPEC), write("e.csv", GOOD_CSV + "9,Trunc"), warehouse=warehouse
        )
    assert table_counts(query) == before


def test_process_killed_mid_load_leaves_warehouse_exactly_as_before(
    write, warehouse, query, tmp_path
):
    """Kill -9 equivalent in the middle of the transaction: rows are inserted, nothing committed."""
    spec = write("s.yaml", GOOD_SPEC)
    ingest(spec, write("d.csv", GOOD_CSV), warehouse=warehouse)
    before = query("SELECT * FROM person_record ORDER BY record_id")
    counts = table_counts(query)
    big = "id,surname,dob,seen\n" + "".join(
        f"{i},N{i},01/02/1980,03/04/2024\n" for i in range(100, 20100)
    )
    script = textwrap.dedent(f"""
        import os
        import sectorlink.sources.loader as ing
        def die(*args, **kwargs):
            os._exit(9)  # no rollback, no close: as if the process were killed here
        ing._write_quality = die
        ing.ingest({str(spec)!r}, {str(write("big.csv", big))!r}, warehouse={str(warehouse)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), timeout=120)
    assert proc.returncode == 9
    assert table_counts(query) == counts
    assert query("SELECT * FROM person_record ORDER BY record_id") == before


def test_large_file_streams_with_a_small_memory_limit(write, tmp_path):
    """A file several times the memory limit still loads (DuckDB spills to disk)."""
    import duckdb

    from sectorlink.warehouse import connect

    rows = 300_000
    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("id,surname,dob,seen\n")
        fh.writelines(
            f"{i},Surname{i:07d}xxxxxxxxxxxxxxxx,01/02/1980,03/04/2024\n" for i in range(rows)
        )
    assert path.stat().st_size > 12_000_000
    con = connect(tmp_path / "hub.duckdb")
    con.execute("SET memory_limit = '64MB'")
    con.execute("SET threads = 1")
    result = ingest(write("s.yaml", GOOD_SPEC), path, con=con)
    assert result.rows_written == {"person_record": rows, "event": rows}
    count = con.execute("SELECT count(*) FROM person_record").fetchone()
    assert count == (rows,)
    con.close()
    assert isinstance(con, duckdb.DuckDBPyConnection)


def test_windows_1252_file_with_euro_and_smart_quotes(write, warehouse, query):
    spec = write(
        "s.yaml", GOOD_SPEC.replace("record_id: id", "file: {encoding: cp1252}\nrecord_id: id")
    )
    text = "id,surname,dob,seen\n1,O\u2019Brien \u20ac,01/02/1980,03/04/2024\n"
    ingest(spec, write("d.csv", text, encoding="cp1252"), warehouse=warehouse)
    assert query("SELECT family_name FROM person_record") == [("O\u2019Brien \u20ac",)]


def test_crlf_line_endings(write, warehouse, query):
    ingest(
        write("s.yaml", GOOD_SPEC),
        write("d.csv", GOOD_CSV.replace("\n", "\r\n")),
        warehouse=warehouse,
    )
    assert query("SELECT record_id, family_name FROM person_record ORDER BY 1") == [
        ("1", "Smith"),
        ("2", "Jones"),
    ]


def test_ambiguous_day_month_formats_are_refused(write):
    spec = write("s.yaml", GOOD_SPEC.replace('["%d/%m/%Y"]', '["%d/%m/%Y", "%m/%d/%Y"]'))
    with pytest.raises(SpecError, match="read days 1-12 both ways"):
        load_spec(spec)


def test_corrupt_excel_and_parquet_and_missing_sheet(write, warehouse, tmp_path):

    with pytest.raises(FileFormatError, match="not a readable Excel workbook"):
        ingest(
            write("s.yaml", GOOD_SPEC),
            write("d.xlsx", b"PK\x03\x04 not really"),
            warehouse=warehouse,
        )
    with pytest.raises(FileFormatError, match="password-protected workbook or one in the old"):
        ingest(
            write("s.yaml", GOOD_SPEC),
            write("e.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)),
            warehouse=warehouse,
        )
    with pytest.raises(FileFormatError, match="not a readable Parquet file"):
        ingest(write("s.yaml", GOOD_SPEC), write("d.parquet", b"PAR1garbage"), warehouse=warehouse)
    wb = Workbook()
    wb.save(tmp_path / "x.xlsx")
    spec = write(
        "s2.yaml", GOOD_SPEC.replace("record_id: id", "file: {sheet: Clients}\nrecord_id: id")
    )
    with pytest.raises(FileFormatError, match="no sheet 'Clients'; sheets: Sheet"):
        ingest(spec, tmp_path / "x.xlsx", warehouse=warehouse)


def test_a_column_empty_on_every_row_loads_and_reports_zero_completeness(write, warehouse):
    data = write("d.csv", "id,surname,dob,seen\n1,Smith,,03/04/2024\n2,Jones,,07/08/2024\n")
    result = ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert result.rows_rejected == 0
    dob = next(q for q in result.quality if q.field == "birth_date")
    assert (dob.rows, dob.present, dob.valid) == (2, 0, 0)


def test_folders_and_unreadable_files_get_clear_errors(write, warehouse, tmp_path):
    spec = write("s.yaml", GOOD_SPEC)
    with pytest.raises(FileFormatError, match="this is a folder"):
        ingest(spec, tmp_path, warehouse=warehouse)
    with pytest.raises(SpecError, match="this is a folder"):
        load_spec(tmp_path)
    with pytest.raises(FileFormatError, match="file not found"):
        ingest(spec, tmp_path / "nope.csv", warehouse=warehouse)


def test_workbook_with_its_sheet_cut_off_names_the_row_and_loads_nothing(
    tmp_path, write, warehouse, query
):
    import zipfile

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "surname", "dob", "seen"])
    for i in range(1, 201):
        sheet.append([str(i), f"Name{i}", "01/02/1980", "03/04/2024"])
    whole = tmp_path / "whole.xlsx"
    book.save(whole)
    cut = tmp_path / "cut.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(cut, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # a download that stopped half way
            target.writestr(name, data)
    with pytest.raises(FileFormatError, match="XML is broken") as err:
        ingest(write("s.yaml", GOOD_SPEC), cut, warehouse=warehouse)
    assert err.value.file == cut
    assert 50 < err.value.row < 150
    assert table_counts(query) == [(0, 0, 0, 0)]


# --- more file mistakes met in partners' extracts -------------------------------------------
def test_a_zero_byte_is_refused_with_its_row_and_column(write, warehouse, query):
    data = write("d.csv", GOOD_CSV.replace("Jones", "Jo\0nes").encode())
    with pytest.raises(FileFormatError, match=r"byte 0x00 \(NUL\).*UTF-16") as err:
        ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert (err.value.row, err.value.column) == (3, "surname")
    assert table_counts(query) == [(0, 0, 0, 0)]


@pytest.mark.parametrize("packed", ["gzip", "zip", "bz2", "xz"])
def test_a_compressed_csv_loads_as_the_csv_inside(write, warehouse, query, tmp_path, packed):
    import bz2
    import gzip
    import lzma
    import zipfile

    raw = GOOD_CSV.replace("Jones", "Zoë").encode()
    suffix = {"gzip": "gz", "bz2": "bz2", "xz": "xz", "zip": "zip"}[packed]
    path = tmp_path / f"d.csv.{suffix}"
    if packed == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("clinic/d.csv", raw)
    else:
        path.write_bytes({"gzip": gzip, "bz2": bz2, "xz": lzma}[packed].compress(raw))
    result = ingest(write("s.yaml", GOOD_SPEC), path, warehouse=warehouse)
    assert result.file == path and result.rows_read == 2
    assert query("SELECT family_name, source_row FROM person_record ORDER BY 2") == [
        ("Smith", 2),
        ("Zoë", 3),
    ]


def test_packed_files_that_cannot_be_read_say_why(write, warehouse, tmp_path):
    import gzip
    import zipfile

    spec = write("s.yaml", GOOD_SPEC)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.csv", GOOD_CSV)
        archive.writestr("b.csv", GOOD_CSV)
    with pytest.raises(FileFormatError, match="holds 2 files"):
        ingest(spec, two, warehouse=warehouse)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress(GOOD_CSV.encode() * 50)[:40])
    with pytest.raises(FileFormatError, match="cannot unpack the gzip file"):
        ingest(spec, cut, warehouse=warehouse)

    Workbook().save(tmp_path / "book.xlsx")
    renamed = tmp_path / "book.csv"
    renamed.write_bytes((tmp_path / "book.xlsx").read_bytes())
    with pytest.raises(FileFormatError, match=r"this is an Excel workbook.*file.format: excel"):
        ingest(spec, renamed, warehouse=warehouse)
    zstd = tmp_path / "d.csv"
    zstd.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(32))
    with pytest.raises(FileFormatError, match="zstd-compressed"):
        ingest(spec, zstd, warehouse=warehouse)


@pytest.mark.parametrize("endings", [("\r\n", "\n"), ("\n", "\r\n")])
def test_mixed_line_endings_load_every_row_with_its_own_number(write, warehouse, query, endings):
    rows = [f"{i},Smith{i},01/02/1980,03/04/2024" for i in range(1, 7)]
    rows[3] = "4,Jones,01/02/1980,31/02/2024"  # not a date: rejected at its own row
    first, second = endings
    text = "id,surname,dob,seen" + first + first.join(rows[:3]) + first
    text += second.join(rows[3:]) + second
    result = ingest(write("s.yaml", GOOD_SPEC), write("d.csv", text.encode()), warehouse=warehouse)
    assert result.rows_read == 6 and result.file.name == "d.csv"
    assert [r.row for r in result.rejects] == [5]
    assert query("SELECT record_id, family_name, source_row FROM person_record ORDER BY 3") == [
        ("1", "Smith1", 2),
        ("2", "Smith2", 3),
        ("3", "Smith3", 4),
        ("5", "Smith5", 6),
        ("6", "Smith6", 7),
    ]
    assert query("SELECT count(*) FROM event WHERE CAST(start_time AS DATE) = '2024-04-03'") == [
        (5,)
    ]


def test_utf16_file_loads_when_declared_and_is_named_when_not(write, warehouse, query):
    utf16 = write("d.csv", GOOD_CSV.replace("Jones", "Zoë"), encoding="utf-16")
    with pytest.raises(FileFormatError, match=r"UTF-16 byte-order mark.*utf-16") as err:
        ingest(write("s.yaml", GOOD_SPEC), utf16, warehouse=warehouse)
    assert err.value.row == 1
    declared = GOOD_SPEC.replace("record_id: id", "file: {encoding: utf-16}\nrecord_id: id")
    ingest(write("u.yaml", declared), utf16, warehouse=warehouse)
    assert query("SELECT family_name FROM person_record ORDER BY source_row") == [
        ("Smith",),
        ("Zoë",),
    ]
    with pytest.raises(FileFormatError, match="not UTF-16"):
        ingest(write("u.yaml", declared), write("e.csv", GOOD_CSV), warehouse=warehouse)


@pytest.mark.parametrize("text", [b"\xef\xbb\xbf", b"\n\n  \n"])
def test_a_file_of_only_a_bom_or_blank_lines_has_no_header(write, warehouse, text):
    with pytest.raises(FileFormatError, match="no header row") as err:
        ingest(write("s.yaml", GOOD_SPEC), write("d.csv", text), warehouse=warehouse)
    assert err.value.row == 1


def test_utf16_file_cut_inside_a_character(write, warehouse):
    declared = GOOD_SPEC.replace("record_id: id", "file: {encoding: utf-16}\nrecord_id: id")
    cut = GOOD_CSV.encode("utf-16")[:-1]
    with pytest.raises(FileFormatError, match="ends in the middle of a utf-16 character"):
        ingest(write("s.yaml", declared), write("d.csv", cut), warehouse=warehouse)


# --- the warehouse --------------------------------------------------------------------------
def test_a_warehouse_that_cannot_be_opened_says_why(write, tmp_path):
    from sectorlink.warehouse import WarehouseError

    spec, data = write("s.yaml", GOOD_SPEC), write("d.csv", GOOD_CSV)
    (tmp_path / "folder").mkdir()
    with pytest.raises(WarehouseError, match="is a folder"):
        ingest(spec, data, warehouse=tmp_path / "folder")
    with pytest.raises(WarehouseError, match="not a DuckDB database"):
        ingest(spec, data, warehouse=write("notes.duckdb", "meeting notes\n" * 500))
    assert (tmp_path / "notes.duckdb").read_text() == "meeting notes\n" * 500  # left alone


def test_a_warehouse_held_by_another_process_names_it_on_the_command_line(write, tmp_path):
    spec, data = write("s.yaml", GOOD_SPEC), write("d.csv", GOOD_CSV)
    held = tmp_path / "hub.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(held)!r}); print('open', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        cli = [sys.executable, "-c", "from sectorlink.cli import main; main()"]
        proc = subprocess.run(
            [*cli, "ingest", str(spec), str(data), "--warehouse", str(held)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.communicate("", timeout=60)
    assert proc.returncode == 2
    assert f"open for writing in another process (process {holder.pid}" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- Parquet columns that are not flat values -----------------------------------------------
def _parquet(path, **columns):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)
    return path


def test_a_parquet_list_or_binary_column_mapped_to_a_field_is_refused(write, warehouse, tmp_path):
    import pyarrow as pa

    common = {"id": ["1", "2"], "dob": ["01/02/1980", None], "seen": ["03/04/2024"] * 2}
    listed = _parquet(tmp_path / "l.parquet", surname=[["Smith"], ["Jones", "Ng"]], **common)
    with pytest.raises(FileFormatError, match=r"person.family_name: column 'surname' holds "):
        ingest(write("s.yaml", GOOD_SPEC), listed, warehouse=warehouse)
    binary = pa.array([b"Smith", b"Jones"], pa.binary())
    with pytest.raises(FileFormatError, match="holds BLOB values") as err:
        ingest(
            write("s.yaml", GOOD_SPEC),
            _parquet(tmp_path / "b.parquet", surname=binary, **common),
            warehouse=warehouse,
        )
    assert err.value.column == "surname"
    # An unmapped nested column is no obstacle.
    result = ingest(
        write("s.yaml", GOOD_SPEC),
        _parquet(tmp_path / "ok.parquet", surname=["Smith", "Jones"], tags=[["a"], []], **common),
        warehouse=warehouse,
    )
    assert result.rows_written["person_record"] == 2


def test_whole_numbers_stored_as_parquet_floats_read_as_integers(write, warehouse, query, tmp_path):
    # pandas stores an integer column with a gap as float64: ids must not become '1.0'.
    data = _parquet(
        tmp_path / "f.parquet",
        id=[1.0, 9434765919.0, 2.5],
        surname=["Smith", "Jones", "Ng"],
        dob=["01/02/1980"] * 3,
        seen=["03/04/2024"] * 3,
    )
    ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert query("SELECT record_id FROM person_record ORDER BY source_row") == [
        ("1",),
        ("9434765919",),
        ("2.5",),
    ]


# --- a title above the header ---------------------------------------------------------------
def test_a_title_above_the_header_is_named_with_the_setting_that_skips_it(
    write, warehouse, tmp_path
):

    titled = "Clinic extract for March\n" + GOOD_CSV
    with pytest.raises(FileFormatError, match=r"if row 1 is a title.*set file.header_row") as err:
        ingest(write("s.yaml", GOOD_SPEC), write("d.csv", titled), warehouse=warehouse)
    assert err.value.row == 2
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Clinic extract for March"])
    for line in GOOD_CSV.splitlines():
        sheet.append(line.split(","))
    workbook.save(tmp_path / "d.xlsx")
    with pytest.raises(SpecError, match=r"row 1: 'Clinic extract for March'.*file.header_row"):
        ingest(write("s.yaml", GOOD_SPEC), tmp_path / "d.xlsx", warehouse=warehouse)
    fixed = GOOD_SPEC.replace("record_id: id", "file: {header_row: 2}\nrecord_id: id")
    assert (
        ingest(write("f.yaml", fixed), write("d.csv", titled), warehouse=warehouse).rows_read == 2
    )


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("{header_row: 0}", "header_row must be a row number"),
        ("{header_row: two}", "header_row must be a row number"),
        ("{format: parquet, header_row: 2}", "Parquet has none"),
    ],
)
def test_bad_header_row_settings(write, setting, expected):
    with pytest.raises(SpecError, match=expected):
        load_spec(
            write("s.yaml", GOOD_SPEC.replace("record_id: id", f"file: {setting}\nrecord_id: id"))
        )


def test_a_header_row_past_the_end_of_the_file(write, warehouse):
    spec = GOOD_SPEC.replace("record_id: id", "file: {header_row: 9}\nrecord_id: id")
    with pytest.raises(FileFormatError, match=r"no header row at row 9 \(file.header_row\)") as err:
        ingest(write("s.yaml", spec), write("d.csv", GOOD_CSV), warehouse=warehouse)
    assert err.value.row == 9


def test_a_two_digit_year_read_by_a_four_digit_format_is_rejected(write, warehouse, query):
    # %Y reads 01/02/80 as the year 80 AD: stored, it would be a silent error. The event's
    # start rejects its row; the birth date is a field issue, and its row loads without it.
    data = write(
        "d.csv", "id,surname,dob,seen\n1,Smith,01/02/80,03/04/2024\n2,Ng,01/02/1980,03/04/24\n"
    )
    result = ingest(write("s.yaml", GOOD_SPEC), data, warehouse=warehouse)
    assert result.rows_rejected == 1
    assert [r.reason for r in result.rejects] == [
        "seen (event.start_time): 03/04/24 reads as the year 24; for two-digit years put %y in "
        "the formats",
    ]
    assert [(i.row, i.reason, i.code) for i in result.field_issue_sample] == [
        (
            2,
            "dob (person_record.birth_date): 01/02/80 reads as the year 80; for two-digit years "
            "put %y in the formats",
            "year_under_1000",
        )
    ]
    assert query("SELECT record_id, birth_date FROM person_record") == [("1", None)]


def test_a_repeated_header_row_is_rejected_as_what_it_is(write, warehouse, query, tmp_path):
    """Monthly extracts joined into one file carry each month's header: such a row is
    rejected with one reason that says so, and counts in no field's quality or codes."""
    spec = GOOD_SPEC.replace("  birth_date:", "  sex: sex\n  birth_date:")
    header = "id,surname,sex,dob,seen\n"
    text = (
        header
        + "1,Smith,M,01/02/1980,03/04/2024\n"
        + " id , surname,sex,dob,seen\n"  # spaces around names, as the header's were trimmed
        + "2,Jones,F,05/06/1990,07/08/2024\n"
        + "id,Smith,sex,dob,seen\n"  # one value that is not its column's name: data
        + "\ufeffid,surname,sex,dob,seen\n"  # a joined export's byte-order mark and header
    )
    result = ingest(write("s.yaml", spec), write("d.csv", text), warehouse=warehouse)
    assert result.rows_read == 5 and result.rows_written == {"person_record": 2, "event": 2}
    assert [(r.row, r.target, r.column) for r in result.rejects][:1] == [(3, "row", None)]
    assert result.rejects[0].reason == (
        "the row repeats the header (row 1): several extracts joined into one file?"
    )
    assert sorted({r.row for r in result.rejects}) == [3, 5, 6]  # row 5 fails as data does
    assert [(g.column, g.rows, g.first_row) for g in result.reject_groups if g.target == "row"] == [
        (None, 2, 3)
    ]
    assert {u.local_value for u in result.unmapped} == {"sex"}  # from row 5 only
    assert all(q.rows == 3 for q in result.quality if q.table == "person_record")
    assert query("SELECT raw->>'surname' FROM rejects WHERE source_row = 3") == [(" surname",)]
    # The same in a workbook, under a title row.
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (
        ["Clinic extract"],
        ["id", "surname", "sex", "dob", "seen"],
        ["3", "Ng", "M", "01/02/1980", "03/04/2024"],
        ["id", "surname", "sex", "dob", "seen"],
    ):
        sheet.append(row)
    workbook.save(tmp_path / "d.xlsx")
    excel_spec = spec.replace("record_id: id", "file: {header_row: 2}\nrecord_id: id")
    result = ingest(write("x.yaml", excel_spec), tmp_path / "d.xlsx", warehouse=warehouse)
    assert [(r.row, r.reason) for r in result.rejects] == [
        (4, "the row repeats the header (row 2): several extracts joined into one file?")
    ]


def test_columns_without_a_name_load_unmapped(write, warehouse, query):
    trailing = "".join(line + ",\n" for line in GOOD_CSV.splitlines())
    result = ingest(write("s.yaml", GOOD_SPEC), write("d.csv", trailing), warehouse=warehouse)
    assert result.rows_read == 2 and result.rows_rejected == 0
    assert query("SELECT family_name FROM person_record ORDER BY source_row") == [
        ("Smith",),
        ("Jones",),
    ]
    # pandas and R write their row index as a first column without a name.
    indexed = "".join(f"{i or ''},{line}\n" for i, line in enumerate(GOOD_CSV.splitlines()))
    result = ingest(write("s.yaml", GOOD_SPEC), write("i.csv", indexed), warehouse=warehouse)
    assert result.rows_read == 2 and result.rows_rejected == 0
    assert query("SELECT record_id, family_name FROM person_record ORDER BY 1") == [
        ("1", "Smith"),
        ("2", "Jones"),
    ]


def test_a_blank_first_line_above_the_header_is_named(write, warehouse):
    with pytest.raises(FileFormatError, match="row 1, where the header should be, is blank"):
        ingest(write("s.yaml", GOOD_SPEC), write("d.csv", "\n" + GOOD_CSV), warehouse=warehouse)
    fixed = GOOD_SPEC.replace("record_id: id", "file: {header_row: 2}\nrecord_id: id")
    result = ingest(write("f.yaml", fixed), write("d.csv", "\n" + GOOD_CSV), warehouse=warehouse)
    assert [r.row for r in result.rejects] == [] and result.rows_read == 2
    header_only = write("h.csv", "Clinic extract\n" + GOOD_CSV.splitlines()[0] + "\n")
    with pytest.raises(FileFormatError, match="header but no data rows") as err:
        ingest(write("f.yaml", fixed), header_only, warehouse=warehouse)
    assert err.value.row == 3


def test_a_planned_end_may_lie_in_the_future_but_a_start_may_not(write, warehouse, query):
    spec = GOOD_SPEC.replace(
        '    start_time: {column: seen, formats: ["%d/%m/%Y"]}',
        '    start_time: {column: seen, formats: ["%d/%m/%Y"]}\n'
        '    end_time: {column: ends, formats: ["%d/%m/%Y"]}',
    )
    text = (
        "id,surname,dob,seen,ends\n"
        "1,Smith,01/02/1980,03/04/2024,31/12/2099\n"  # a care package planned to 2099
        "2,Jones,05/06/1990,07/08/2099,\n"  # started in 2099: a keying error
    )
    result = ingest(write("s.yaml", spec), write("d.csv", text), warehouse=warehouse)
    assert [(r.row, r.reason) for r in result.rejects] == [
        (3, "seen (event.start_time): 07/08/2099 lies in the future")
    ]
    assert query("SELECT record_id, CAST(end_time AS DATE) FROM event") == [
        ("1", dt.date(2099, 12, 31))
    ]


def test_rejects_are_counted_by_column_and_field(write, warehouse):
    text = (
        "id,surname,dob,seen\n"
        "1,Smith,01/02/1980,31/02/2024\n"
        "2,Jones,01/02/1980,03/04/2024\n"
        "3,Ng,30/02/1990,30/02/2024\n"
        "2,Jones,01/02/1980,03/04/2024\n"
    )
    result = ingest(write("s.yaml", GOOD_SPEC), write("d.csv", text), warehouse=warehouse)
    groups = [(g.column, g.target, g.rows, g.first_row, g.code) for g in result.reject_groups]
    assert groups[0] == ("seen", "event.start_time", 2, 2, "not_a_date")
    assert sorted(groups[1:]) == [
        ("dob", "person_record.birth_date", 1, 4, "not_a_date"),  # on a rejected row
        ("id", "event.event_id", 1, 5, "duplicate_id"),
        ("id", "person_record.record_id", 1, 5, "duplicate_id"),
    ]
    assert result.reject_groups[0].example.endswith(
        "31/02/2024 is not a date in the format(s) %d/%m/%Y"
    )
    assert sum(g.rows for g in result.reject_groups) == 5 and result.rows_rejected == 3
    assert result.field_issue_groups == []


def test_a_placeholder_birth_date_is_pointed_out_and_can_be_read_as_empty(write, warehouse):
    import random

    rng = random.Random(4)
    rows = [
        f"{i},N{i},{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1930, 2010)},"
        "03/04/2024\n"
        for i in range(1, 401)
    ]
    for i in range(0, 400, 10):  # 40 of 400 people: 'unknown' keyed as 01/01/1900
        rows[i] = f"{i + 1},N{i + 1},01/01/1900,03/04/2024\n"
    text = "id,surname,dob,seen\n" + "".join(rows)
    result = ingest(
        write("s.yaml", GOOD_SPEC), write("d.csv", text), check=True, warehouse=warehouse
    )
    notes = [n for n in result.notes if "placeholder" in n]
    assert len(notes) == 1
    assert notes[0].startswith("dob (person_record.birth_date): 1900-01-01 is on 40 of 400 rows")
    listed = GOOD_SPEC.replace("record_id: id", "file: {missing: ['01/01/1900']}\nrecord_id: id")
    result = ingest(write("m.yaml", listed), write("d.csv", text), check=True, warehouse=warehouse)
    assert not [n for n in result.notes if "placeholder" in n]
    assert {q.field: q.present for q in result.quality}["birth_date"] == 360
    # The event dates (all 03/04/2024) are one day for every row, not a placeholder among others.
    assert not any("seen" in n for n in result.notes)


@pytest.mark.parametrize(
    ("file_line", "fmt", "message"),
    [
        ("", "%Y-%m-%dT%H:%M:%S%z", r"reads a UTC offset: set file.time_zone"),
        ("file: {time_zone: Europe/Londn}", "%Y-%m-%d", r"Europe/Londn.*'Europe/London'"),
        ("file: {time_zone: Europe/London}", "%Y-%m-%dT%H:%M:%SZ", r"literal Z.*write %z"),
        ("file: {time_zone: Europe/London}", "%Y-%m-%d %H:%M %Z", r"time zone name.*BST"),
    ],
)
def test_times_with_zones_need_an_offset_and_the_regions_zone(write, file_line, fmt, message):
    spec = f"""\
        spec_version: 1
        source: cad
        {file_line}
        record_id: Ref
        events:
          - event_type: {{value: ambulance_callout}}
            start_time: {{column: Received, formats: ["{fmt}"]}}
        """
    with pytest.raises(SpecError, match=message):
        load_spec(write("s.yaml", spec))


def test_identifiers_excel_showed_in_exponent_form_get_a_note(write, warehouse, query):
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: gp
        record_id: id
        person:
          family_name: surname
          nhs_number: nhs
        """,
    )
    data = write(
        "d.csv",
        "id,surname,nhs\n1,Smith,9434765919\n2,Jones,9.43477E+09\n3,Patel,4.01023E+09\n"
        "4,Khan,E+1\n",
    )
    result = ingest(spec, data, warehouse=warehouse)
    assert result.rows_rejected == 0  # a note: only the partner can send the digits
    notes = [n for n in result.notes if "Excel" in n]
    assert len(notes) == 1
    assert notes[0].startswith("nhs (person_record.nhs_number): 2 of 4 rows")
    assert "9.43477E+09, first at row 3" in notes[0]


def test_a_sheet_with_an_unnamed_index_column_loads(write, warehouse, query, tmp_path):

    book = Workbook()
    sheet = book.active
    sheet.append([None, "id", "surname", "dob", "seen"])
    sheet.append([0, "1", "Smith", "01/02/1980", "03/04/2024"])
    sheet.append([1, "2", "Jones", "05/06/1990", "07/08/2024"])
    book.save(tmp_path / "d.xlsx")
    result = ingest(write("s.yaml", GOOD_SPEC), tmp_path / "d.xlsx", warehouse=warehouse)
    assert result.rows_read == 2 and result.rows_rejected == 0
    assert query("SELECT family_name FROM person_record ORDER BY source_row") == [
        ("Smith",),
        ("Jones",),
    ]


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_empty_lines_inside_a_csv_keep_the_rows_numbers(write, warehouse, query, end):
    lines = [
        "id,surname,dob,seen",  # 1
        "",
        "1,Smith,01/02/1980,03/04/2024",  # 3
        "",
        "",
        "2,Jones,05/06/1990,07/08/2024",  # 6
        "",
        "3,Khan,01/02/1990,31/02/2024",  # 8: no such date
        "",
        "",
    ]
    text = end.join(lines)
    result = ingest(write("s.yaml", GOOD_SPEC), write("d.csv", text), warehouse=warehouse)
    # Rows as an editor numbers the file's lines: DuckDB skips the empty ones.
    assert [r.row for r in result.rejects] == [8]
    assert query("SELECT record_id, source_row FROM person_record ORDER BY 1") == [
        ("1", 3),
        ("2", 6),
    ]
    assert query("SELECT source_row FROM rejects") == [(8,)]


def test_a_reports_footer_is_named_and_footer_rows_leaves_it_out(write, warehouse, query):
    text = GOOD_CSV + "\nTotal records: 2\n*** END OF REPORT ***\n\n"
    with pytest.raises(FileFormatError, match=r"footer.*set file.footer_rows: 2$") as err:
        ingest(write("s.yaml", GOOD_SPEC), write("d.csv", text), warehouse=warehouse)
    assert err.value.row == 5
    footed = GOOD_SPEC.replace("record_id: id", "file: {footer_rows: 2}\nrecord_id: id")
    result = ingest(write("f.yaml", footed), write("d.csv", text), warehouse=warehouse)
    assert result.rows_read == 2 and result.rows_rejected == 0
    assert query("SELECT family_name, source_row FROM person_record ORDER BY 2") == [
        ("Smith", 2),
        ("Jones", 3),
    ]
    too_many = footed.replace("footer_rows: 2", "footer_rows: 9")
    with pytest.raises(FileFormatError, match="footer_rows is 9, but the file has fewer lines"):
        ingest(write("t.yaml", too_many), write("d.csv", text), warehouse=warehouse, check=True)


def test_a_row_cut_short_at_the_end_is_told_from_a_footer(write, warehouse):
    cut = GOOD_CSV + "3,Khan"  # no line end: the file stops mid-row
    with pytest.raises(FileFormatError, match="cut off in the middle of this row"):
        ingest(write("s.yaml", GOOD_SPEC), write("d.csv", cut), warehouse=warehouse)


def test_footer_rows_in_a_sheet(write, warehouse, query, tmp_path):

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "surname", "dob", "seen"])
    sheet.append(["1", "Smith", "01/02/1980", "03/04/2024"])
    sheet.append(["2", "Jones", "05/06/1990", "07/08/2024"])
    sheet.append([])
    sheet.append(["Total", 2])
    book.save(tmp_path / "d.xlsx")
    footed = GOOD_SPEC.replace("record_id: id", "file: {footer_rows: 1}\nrecord_id: id")
    result = ingest(write("f.yaml", footed), tmp_path / "d.xlsx", warehouse=warehouse)
    assert result.rows_read == 2 and result.rows_rejected == 0
    assert query("SELECT family_name FROM person_record ORDER BY source_row") == [
        ("Smith",),
        ("Jones",),
    ]
