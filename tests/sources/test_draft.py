"""`sectorlink spec draft`: a starting spec that reads the file as ingest will."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from sectorlink.sources import SpecError, ingest, load_spec
from sectorlink.sources.draft import draft_spec

MESSY = (
    "Northgate ED extract;run 2024-03-01\n"
    "\n"
    "AttendanceNo;PatientName;DOB;Gender;NHSNo;PostCode;ArrivalDate;Outcome\n"
    "A1;SMITH, John Paul;25/12/1980;1;9434765919;NX1 1AA;01/03/2024 10:30;Home\n"
    "A2;NÉEL, Zoë;03/04/1975;2;NULL;NX2 2AB;02/03/2024 11:00;NULL\n"
    "A3;JONES, Mary;01/02/1990;Z;4010232137;NULL;02/03/2024 12:15;Admitted\n"
)


def _check(draft, data: Path, tmp_path: Path):
    spec_path = tmp_path / "drafted.yaml"
    spec_path.write_text(draft.text, encoding="utf-8")
    return ingest(load_spec(spec_path), data, check=True, warehouse=tmp_path / "no.duckdb")


def test_a_messy_csv_is_read_and_mapped_as_ingest_will(tmp_path):
    data = tmp_path / "ed.csv"
    data.write_bytes(MESSY.encode("latin-1"))
    draft = draft_spec(data)
    options = draft.file_options
    assert (options.delimiter, options.header_row, options.missing) == (";", 3, ("NULL",))
    assert options.encoding in ("latin-1", "windows-1252")
    assert draft.record_id == "AttendanceNo" and draft.ready
    assert draft.fields == {
        "full_name": "PatientName",
        "birth_date": "DOB",
        "sex": "Gender",
        "nhs_number": "NHSNo",
        "postcode": "PostCode",
    }
    assert draft.date_columns == {"DOB": ("%d/%m/%Y",), "ArrivalDate": ("%d/%m/%Y %H:%M",)}
    assert "split: surname_comma_forename" in draft.text
    assert any('does not know "Z"' in todo for todo in draft.todo)
    assert "source: ed" in draft.text and "Outcome" in draft.text  # listed as not mapped
    result = _check(draft, data, tmp_path)
    assert (result.rows_read, result.rows_rejected) == (3, 0)
    by_field = {q.field: q for q in result.quality}
    assert by_field["family_name"].present == 3 and by_field["birth_date"].valid == 3
    assert by_field["nhs_number"].present == 2  # NULL read as empty
    assert [(u.field, u.local_value) for u in result.unmapped] == [("sex", "Z")]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["03/04/1980", "05/06/1990", "01/02/2000"], ("%d/%m/%Y",)),  # could be either
        (["03/04/1980", "12/31/1990", "01/02/2000"], ("%m/%d/%Y",)),  # 31 is no month
        (["1980-04-03", "19900506", "2000-02-01"], ("%Y-%m-%d", "%Y%m%d")),
        (
            ["1980-04-03T00:00:00Z", "1990-05-06T00:00:00+01:00", "2000-02-01T00:00:00.000Z"],
            ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"),
        ),
    ],
)
def test_date_formats_follow_the_values(tmp_path, dates, expected):
    rows = "".join(f"P{i},Smith,{d}\n" for i, d in enumerate(dates))
    data = tmp_path / "p.csv"
    data.write_text("PersonID,Surname,DateOfBirth\n" + rows)
    draft = draft_spec(data)
    assert draft.date_columns["DateOfBirth"] == expected
    assert _check(draft, data, tmp_path).rows_rejected == 0


def test_a_workbook_with_a_cover_sheet_and_a_title_row(tmp_path):
    workbook = Workbook()
    about = workbook.active
    assert about is not None
    about.title = "About"
    about.append(["Law centre cases; see the Cases sheet"])
    cases = workbook.create_sheet("Cases")
    cases.append(["Law centre MLP cases"])
    cases.append(["Case Ref", "Client Name", "Date of Birth", "Phone"])
    for i in range(6):
        cases.append([f"C{i}", f"Ann Lee{i}", dt.date(1980, 1, i + 1), f"0770090012{i}"])
    path = tmp_path / "mlp.xlsx"
    workbook.save(path)
    draft = draft_spec(path)
    assert (draft.file_options.sheet, draft.file_options.header_row) == ("Cases", 2)
    assert draft.record_id == "Case Ref"
    assert draft.fields == {
        "full_name": "Client Name",
        "birth_date": "Date of Birth",
        "phone": "Phone",
    }
    assert draft.date_columns["Date of Birth"] == ("%Y-%m-%d",)  # a real date cell reads as ISO
    assert _check(draft, path, tmp_path).rows_rejected == 0


def test_an_events_file_is_not_ready_and_says_why(tmp_path):
    data = tmp_path / "visits.csv"
    data.write_text("VisitID,ClientRef,VisitDate\nV1,C1,2024-01-02\nV2,C1,2024-02-03\n")
    draft = draft_spec(data)
    assert draft.record_id == "VisitID" and not draft.ready
    assert any("no column is named like a person field" in todo for todo in draft.todo)
    spec = tmp_path / "v.yaml"
    spec.write_text(draft.text)
    with pytest.raises(SpecError, match="maps nothing"):
        load_spec(spec)


def test_every_extract_of_a_synthetic_region_drafts_and_the_ready_ones_check(tmp_path):
    from sectorlink.synth import generate_region

    manifest = generate_region(tmp_path / "region", people=300, seed=3, progress=False)
    for entry in manifest.extracts:
        path = manifest.out_dir / entry.file
        draft = draft_spec(path)
        # A draft maps person records exactly where the partner's real spec does (events,
        # property and incident files are left to a person).
        assert draft.ready == (load_spec(manifest.out_dir / entry.spec).person is not None), (
            entry.file,
            draft.todo,
        )
        if draft.ready:
            result = _check(draft, path, tmp_path)
            assert result.rows_written["person_record"] > 0.9 * result.rows_read, entry.file


def test_the_command_prints_or_writes_and_keeps_an_existing_file(tmp_path):
    data = tmp_path / "ed.csv"
    data.write_bytes(MESSY.encode("latin-1"))
    cli = [sys.executable, "-c", "from sectorlink.cli import main; main()", "spec", "draft"]
    shown = subprocess.run([*cli, str(data)], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and 'record_id: "AttendanceNo"' in shown.stdout
    assert "Record id: AttendanceNo" in shown.stderr
    out = tmp_path / "spec.yaml"
    out.write_text("mine\n")
    kept = subprocess.run([*cli, str(data), "--out", str(out)], capture_output=True, text=True)
    assert kept.returncode == 2 and "exists" in kept.stderr and out.read_text() == "mine\n"
    written = subprocess.run(
        [*cli, str(data), "--out", str(out), "--force", "--source", "ae_northgate"],
        capture_output=True,
        text=True,
    )
    assert written.returncode == 0 and "source: ae_northgate" in out.read_text()
    assert load_spec(out).source == "ae_northgate"


def test_files_that_cannot_be_read_get_the_readers_errors(tmp_path):
    from sectorlink.sources import FileFormatError

    cases = {
        "locked.xlsx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "password-protected"),
        "nul.csv": (b"id,name\n1,Sm\0ith\n", "byte 0x00"),
        "empty.csv": (b"", "empty"),
        "notes.dat": (b"id,name\n1,Al\n", "cannot tell the format"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(FileFormatError, match=message):
            draft_spec(path)
    with pytest.raises(FileFormatError, match="file not found"):
        draft_spec(tmp_path / "missing.csv")


def test_a_gzipped_csv_is_drafted_from_the_csv_inside(tmp_path):
    import gzip

    data = tmp_path / "ed_extract.csv.gz"
    data.write_bytes(gzip.compress(MESSY.encode("latin-1")))
    draft = draft_spec(data)
    assert draft.record_id == "AttendanceNo" and draft.file_options.header_row == 3
    assert "source: ed_extract" in draft.text and "from ed_extract.csv.gz" in draft.text
    assert _check(draft, data, tmp_path).rows_rejected == 0


def test_a_windows_1252_byte_past_the_first_megabyte_is_read_as_windows_1252(tmp_path):
    # Only é (the same byte in both) in the first megabyte; an apostrophe (0x92) far below.
    rows = [f"{i},Ren\xe9e Smith,01/02/1980\n" for i in range(1, 60_001)]
    rows[-1] = "60000,Sin\u00e9ad O\u2019Brien,01/02/1980\n"
    data = tmp_path / "people.csv"
    data.write_bytes(("PersonID,Name,DOB\n" + "".join(rows)).encode("cp1252"))
    assert data.stat().st_size > 1 << 20
    draft = draft_spec(data)
    assert draft.file_options.encoding == "windows-1252"
    result = _check(draft, data, tmp_path)
    assert result.rows_read == 60_000 and result.rows_rejected == 0


def test_a_reports_footer_is_left_out_by_the_draft(tmp_path):
    data = tmp_path / "referrals.txt"
    data.write_text(
        "REF|SURNAME|DOB\nR1|Smith|01/02/2015\nR2|Jones|03/04/2016\n\nTOTAL: 2\n*** END ***\n"
    )
    draft = draft_spec(data)
    assert draft.file_options.footer_rows == 2
    assert "  footer_rows: 2" in draft.text
    assert _check(draft, data, tmp_path).rows_read == 2


def test_a_header_repeated_inside_the_file_is_no_value_to_the_draft(tmp_path):
    """Exports joined into one file: the header's names are not codes or dates to map."""
    header = "PatID,Sex,DOB\n"
    data = tmp_path / "joined.csv"
    data.write_text(header + "P1,M,01/02/1980\n" + header + "P2,F,03/04/1990\n")
    draft = draft_spec(data)
    assert not [t for t in draft.todo if "Sex" in t or "DOB" in t], draft.todo
    assert 'birth_date: {column: "DOB", formats: ["%d/%m/%Y"]}' in draft.text
    result = _check(draft, data, tmp_path)
    assert [r.row for r in result.rejects] == [3] and result.rows_rejected == 1


def test_an_age_column_is_read_at_the_rows_own_date(tmp_path):
    # Without age_at_date an age says nothing about a birth year: the draft maps the date
    # the age was taken on, preferring the date column named like the age.
    data = tmp_path / "ambulance.csv"
    data.write_text(
        "IncidentID,Logged,PatientName,DOB,AgeAtCall,CallDate\n"
        'I1,01/01/2024,"SMITH, John",03/04/1980,,02/01/2024 10:00\n'
        'I2,01/01/2024,"JONES, Mary",,44,03/01/2024 11:30\n'
        'I3,05/01/2024,"BROWN, Ann",,70,05/01/2024 09:15\n'
    )
    draft = draft_spec(data)
    assert draft.fields["age_years"] == "AgeAtCall"
    assert draft.fields["age_at_date"] == "CallDate"
    assert 'age_at_date: {column: "CallDate", formats: ["%d/%m/%Y %H:%M"]}' in draft.text
    spec = tmp_path / "a.yaml"
    spec.write_text(draft.text)
    warehouse = tmp_path / "hub.duckdb"
    ingest(load_spec(spec), data, warehouse=warehouse)
    import duckdb

    from sectorlink.identity import standardise

    con = duckdb.connect(str(warehouse))
    rows = standardise(con).order("record_id").fetchall()
    columns = standardise(con).columns
    years = [(r[columns.index("birth_year_min")], r[columns.index("birth_year_max")]) for r in rows]
    assert years == [(1980, 1980), (1979, 1980), (1953, 1954)]


def test_an_age_without_a_date_beside_it_is_a_todo(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("Ref,Surname,Age\nR1,Smith,40\nR2,Jones,51\n")
    draft = draft_spec(data)
    assert "age_at_date" not in draft.fields
    assert any("age_at_date" in todo for todo in draft.todo)


@pytest.mark.parametrize("column", ["ChildDOB", "Patient_DOB", "client date of birth"])
def test_a_birth_date_named_after_whose_it_is(tmp_path, column):
    data = tmp_path / "c.csv"
    data.write_text(
        f"Ref,ChildName,{column},DOBVerified\nR1,Amy Lee,03/04/2015,Y\nR2,Bo Li,2016,N\n"
    )
    draft = draft_spec(data)
    assert draft.fields["birth_date"] == column
    assert "DOBVerified" in draft.unmapped_columns


def test_the_partners_own_person_id_is_proposed_as_local_person_id(tmp_path):
    data = tmp_path / "ed.csv"
    data.write_text(
        "AttendanceNo,HospitalNo,CrimeNo,PatientPhoneNumber,Surname\n"
        "A1,K1,C1,07700900001,Smith\nA2,K1,C2,07700900002,Smith\nA3,K2,C3,07700900003,Jones\n"
    )
    draft = draft_spec(data)
    assert draft.record_id == "AttendanceNo"
    assert draft.fields["local_person_id"] == "HospitalNo"
    assert draft.fields["phone"] == "PatientPhoneNumber"
    assert "CrimeNo" in draft.unmapped_columns


def test_an_alias_column_is_mapped_as_alias(tmp_path):
    data = tmp_path / "clients.csv"
    data.write_text(
        "PersonalID,FirstName,LastName,Alias,DOB\n"
        "1,Kimberley,Ferrell,Zoe Ferrell,2001\n2,Pryia,Evans,,1973-01-12\n"
    )
    draft = draft_spec(data)
    assert draft.fields["alias"] == "Alias"
    assert _check(draft, data, tmp_path).rows_rejected == 0
