"""Every mapping feature of docs/mapping.md, loaded for real into a warehouse."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from openpyxl import Workbook

from sectorlink.sources import SpecError, ingest, load_spec

PEOPLE_CSV = """\
PatID,Surname,Forename,DOB,Sex,Postcode,NHS
P1,Smith,John,03/04/1980,1,NG1 5AB,9434765919
P2,Jones,Mary,1975-12-31,female,ng7  2rd,
P3,Patel,Anil,1962,M,,4010232137
"""

PEOPLE_SPEC = """\
spec_version: 1
source: gp_people
record_id: PatID
person:
  family_name: Surname
  given_name: Forename
  birth_date: {column: DOB, formats: ["%d/%m/%Y", "%Y-%m-%d"]}
  sex: Sex
  postcode: Postcode
  nhs_number: NHS
"""


def test_renames_several_date_formats_and_year_only(write, warehouse, query):
    result = ingest(write("p.yaml", PEOPLE_SPEC), write("p.csv", PEOPLE_CSV), warehouse=warehouse)
    assert result.status == "loaded"
    assert result.rows_written == {"person_record": 3}
    got = query(
        "SELECT record_id, given_name, family_name, birth_date, birth_year, sex, postcode "
        "FROM person_record ORDER BY record_id"
    )
    assert got == [
        ("P1", "John", "Smith", dt.date(1980, 4, 3), 1980, "M", "NG1 5AB"),
        ("P2", "Mary", "Jones", dt.date(1975, 12, 31), 1975, "F", "NG7 2RD"),
        ("P3", "Anil", "Patel", None, 1962, "M", None),
    ]
    # lineage: every row says which load and which file row it came from
    assert query("SELECT DISTINCT load_id FROM person_record") == [(result.load_id,)]
    assert query("SELECT source_row FROM person_record ORDER BY 1") == [(2,), (3,), (4,)]


@pytest.mark.parametrize(
    ("style", "value", "expected"),
    [
        ("surname_comma_forename", "SMITH, John Paul", (None, "John", "Paul", "SMITH")),
        ("surname_comma_forename", "O'NEIL,Siân", (None, "Siân", None, "O'NEIL")),
        ("title_forename_middle_surname", "Mr John  Paul Smith", ("Mr", "John", "Paul", "Smith")),
        (
            "title_forename_middle_surname",
            "Dr. Ann Marie Louise Hart-Jones",
            ("Dr.", "Ann", "Marie Louise", "Hart-Jones"),
        ),
        ("title_forename_middle_surname", "Ann Smith", (None, "Ann", None, "Smith")),
        ("forename_surname", "Mary Ann Smith", (None, "Mary", "Ann", "Smith")),
        ("surname_comma_forename", "NOCOMMA", (None, None, None, None)),
        # White space runs (tabs, line ends) are one space in every part.
        (
            "surname_comma_forename",
            "VAN\tDYKE ,  Jo\n Ann  Lee",
            (None, "Jo", "Ann Lee", "VAN DYKE"),
        ),
        ("surname_comma_forename", "SMITH,", (None, None, None, "SMITH")),
        ("surname_comma_forename", ", John", (None, "John", None, None)),
        ("surname_comma_forename", "SMITH, John, Paul", (None, "John,", "Paul", "SMITH")),
        ("title_forename_middle_surname", "MRS. Smith", ("MRS.", None, None, "Smith")),
        ("title_forename_middle_surname", "Mr", (None, None, None, "Mr")),
        ("title_forename_middle_surname", "Mrx Ann\nSmith", (None, "Mrx", "Ann", "Smith")),
        ("title_forename_middle_surname", "Mr.. Ann Smith", (None, "Mr..", "Ann", "Smith")),
        ("forename_surname", "Smith", (None, None, None, "Smith")),
        ("forename_surname", "Jo\tAnn\n Lee  Smith", (None, "Jo", "Ann Lee", "Smith")),
    ],
)
def test_full_name_split(write, warehouse, query, style, value, expected):
    spec = write(
        "s.yaml",
        f"""\
        spec_version: 1
        source: names
        record_id: id
        person:
          full_name: {{column: name, split: {style}}}
        """,
    )
    data = write("n.csv", f'id,name\n1,"{value}"\n')
    ingest(spec, data, warehouse=warehouse)
    assert query(
        "SELECT title, given_name, middle_names, family_name, full_name FROM person_record"
    ) == [(*expected, value)]


def test_separate_name_column_wins_over_split(write, warehouse, query):
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: names
        record_id: id
        person:
          full_name: {column: name, split: forename_surname}
          given_name: known_as
        """,
    )
    ingest(spec, write("n.csv", "id,name,known_as\n1,Robert Smith,Bob\n"), warehouse=warehouse)
    assert query("SELECT given_name, family_name FROM person_record") == [("Bob", "Smith")]


def test_code_crosswalks_builtin_spec_default_and_unmapped(write, warehouse, query):
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: police
        record_id: ref
        person:
          sex: {column: gender, codes: {"9": X}}
        events:
          - event_type: {column: kind, codes: {VIC: police_victim}, default: police_incident}
            start_time: {column: when, formats: ["%Y%m%d"]}
        """,
    )
    data = write(
        "p.csv",
        """\
        ref,gender,kind,when
        r1,Male,VIC,20240105
        r2,9,OTHER,20240106
        r3,Z,,20240107
        r4,z,vic,20240108
        """,
    )
    result = ingest(spec, data, warehouse=warehouse)
    assert query("SELECT record_id, sex FROM person_record ORDER BY 1") == [
        ("r1", "M"),
        ("r2", "X"),
        ("r3", None),
        ("r4", None),
    ]
    assert query("SELECT event_id, event_type FROM event ORDER BY 1") == [
        ("r1", "police_victim"),
        ("r2", "police_incident"),
        ("r3", "police_incident"),
        ("r4", "police_victim"),
    ]
    # unmapped values are reported as sent; event_type has a default so nothing is unmapped there
    assert [(u.field, u.local_value, u.rows, u.first_row) for u in result.unmapped] == [
        ("sex", "Z", 1, 4),
        ("sex", "z", 1, 5),
    ]
    assert query("SELECT field, local_value, rows FROM unmapped_code ORDER BY local_value") == [
        ("sex", "Z", 1),
        ("sex", "z", 1),
    ]


def test_constants_joins_prefix_attributes_and_domains(write, warehouse, query):
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: ambulance
        record_id: {column: inc, prefix: "AMB-"}
        person:
          address: {columns: [addr1, addr2, town], join: ", "}
        events:
          - event_type: {value: ambulance_callout}
            start_time: {column: t, formats: ["%d-%b-%Y %H:%M"]}
            site_code: {value: NWAS}
            attributes: [priority, outcome]
        """,
    )
    data = write(
        "a.csv",
        """\
        inc,addr1,addr2,town,t,priority,outcome
        1,1 High St,,Northgate,05-Mar-2024 10:15,C1,conveyed
        """,
    )
    ingest(spec, data, warehouse=warehouse)
    assert query("SELECT record_id, address FROM person_record") == [
        ("AMB-1", "1 High St, Northgate")
    ]
    event = query(
        "SELECT event_id, event_type, start_time, site_code, domains, attributes FROM event"
    )
    assert event[0][:5] == (
        "AMB-1",
        "ambulance_callout",
        dt.datetime(2024, 3, 5, 10, 15),
        "NWAS",
        ["physical"],
    )
    assert json.loads(str(event[0][5])) == {"priority": "C1", "outcome": "conveyed"}


def test_when_conditions_and_detail_tables(write, warehouse, query):
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: ae
        record_id: att
        events:
          - event_type: {value: ae_attendance}
            start_time: {column: arrived, formats: ["%d/%m/%Y %H:%M"]}
            when: {column: intent, not_in: [Assault]}
          - event_type: {value: ae_assault}
            event_id: {column: att, suffix: "-A"}
            start_time: {column: arrived, formats: ["%d/%m/%Y %H:%M"]}
            when: {column: intent, in: [assault]}
            detail:
              violence:
                assault_method: method
                assault_location_type: place
                reported_to_police:
                  {column: police, true_values: [reported], false_values: [not reported]}
        person:
          given_name: name
        """,
    )
    data = write(
        "ae.csv",
        """\
        att,name,arrived,intent,method,place,police
        1,Ann,01/02/2024 23:00,Assault,knife,pub,not reported
        2,Bob,02/02/2024 01:00,Fall,,,
        3,Cat,03/02/2024 02:00, ASSAULT ,bottle,street,reported
        """,
    )
    ingest(spec, data, warehouse=warehouse)
    assert query("SELECT event_id, event_type FROM event ORDER BY 1") == [
        ("1-A", "ae_assault"),
        ("2", "ae_attendance"),
        ("3-A", "ae_assault"),
    ]
    assert query(
        "SELECT event_id, assault_method, assault_location_type, reported_to_police "
        "FROM violence ORDER BY 1"
    ) == [("1-A", "03", "03", False), ("3-A", "04", "02", True)]


def test_resent_events_replace_their_detail_rows(write, warehouse, query):
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: ae
        record_id: att
        events:
          - event_type: {value: ae_assault}
            start_time: {column: arrived, formats: ["%d/%m/%Y %H:%M"]}
            detail:
              violence:
                assault_method: method
        person:
          given_name: name
        """,
    )
    header = "att,name,arrived,method\n"
    ingest(spec, write("jan.csv", header + "1,Ann,01/02/2024 23:00,knife\n"), warehouse=warehouse)
    feb = header + "1,Ann,01/02/2024 23:00,bottle\n2,Bob,02/02/2024 01:00,punch\n"
    result = ingest(spec, write("feb.csv", feb), warehouse=warehouse)
    assert result.rows_replaced == 2  # the person record and the event of attendance 1
    assert query("SELECT event_id, assault_method FROM violence ORDER BY 1") == [
        ("1", "04"),
        ("2", "01"),
    ]
    assert query("SELECT count(*) FROM event") == [(2,)]
    assert query("SELECT count(*) FROM person_record") == [(2,)]


def test_events_only_spec_refers_to_earlier_person_records(write, warehouse, query):
    ingest(write("p.yaml", PEOPLE_SPEC), write("p.csv", PEOPLE_CSV), warehouse=warehouse)
    spec = write(
        "c.yaml",
        """\
        spec_version: 1
        source: gp_people
        events:
          - event_type: {value: clinical_condition}
            event_id: cond_id
            record_id: PatID
            start_time: {column: date, formats: ["%Y%m%d"]}
            detail:
              clinical_condition:
                condition: {column: code, codes: {T2: diabetes}}
                diagnosis_date: {column: date, formats: ["%Y%m%d"]}
        """,
    )
    data = write(
        "c.csv",
        """\
        cond_id,PatID,code,date
        c1,P1,T2,20200101
        c2,P9,asthma,20210101
        c3,P2,COPD,20220101
        """,
    )
    result = ingest(spec, data, warehouse=warehouse)
    assert query("SELECT event_id, record_id FROM event ORDER BY 1") == [("c1", "P1"), ("c3", "P2")]
    assert query("SELECT event_id, condition FROM clinical_condition ORDER BY 1") == [
        ("c1", "diabetes"),
        ("c3", "copd"),
    ]
    assert result.rows_rejected == 1
    assert result.rejects[0].row == 3
    assert "no person record P9" in result.rejects[0].reason


def test_standalone_tables_with_numbers_and_booleans(write, warehouse, query):
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: lead_programme
        tables:
          property:
            property_id: uprn
            year_built: built
            condition: cond
            rented: {column: tenure, true_values: [rented], false_values: [owned]}
          property_inspection:
            inspection_id: {column: uprn, prefix: "INSP-"}
            property_id: uprn
            inspection_date: {column: inspected, formats: ["%m/%d/%Y"]}
            lead_hazard_found: hazard
            violation_count: violations
        """,
    )
    data = write(
        "props.csv",
        """\
        uprn,built,cond,tenure,inspected,hazard,violations
        100,1925,poor,rented,12/31/2023,Y,3
        101,1990.0,1,owned,01/15/2024,n,0
        """,
    )
    ingest(spec, data, warehouse=warehouse)
    assert query("SELECT property_id, year_built, condition, rented FROM property ORDER BY 1") == [
        ("100", 1925, "poor", True),
        ("101", 1990, "good", False),
    ]
    assert query(
        "SELECT inspection_id, inspection_date, lead_hazard_found, violation_count "
        "FROM property_inspection ORDER BY 1"
    ) == [
        ("INSP-100", dt.date(2023, 12, 31), True, 3),
        ("INSP-101", dt.date(2024, 1, 15), False, 0),
    ]


BENEFIT_SPEC = """\
spec_version: 1
source: advice
record_id: id
person: {given_name: name}
events:
  - event_type: {value: debt_advice}
    start_time: {column: d, formats: ["%Y-%m-%d"]}
    detail:
      benefit_support:
        support_type: {value: debt_advice}
        debt_amount: debt
"""


def test_benefit_amounts_with_currency_and_thousands(write, warehouse, query):
    spec = write("s.yaml", BENEFIT_SPEC)
    ingest(
        spec,
        write("b.csv", 'id,name,d,debt\n1,Al,2024-01-01,"£1,234.50"\n2,Bo,2024-01-02,\n'),
        warehouse=warehouse,
    )
    assert query("SELECT event_id, debt_amount FROM benefit_support ORDER BY 1") == [
        ("1", 1234.5),
        ("2", None),
    ]


def test_excel_input(write, warehouse, query, tmp_path):
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Clients"
    ws.append(["Client Ref", "Name", "Born", "NHS"])
    ws.append(["C1", "Mrs Jane Doe", dt.datetime(1990, 5, 17), 9434765919])
    ws.append([None, None, None, None])
    ws.append(["C2", "Tom Lee", "17/05/1991", None])
    ws.append([None, None, None, None])  # trailing blank rows are not data
    path = tmp_path / "clients.xlsx"
    wb.save(path)
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: housing
        file: {sheet: Clients}
        record_id: Client Ref
        person:
          full_name: {column: Name, split: title_forename_middle_surname}
          birth_date: {column: Born, formats: ["%Y-%m-%d", "%d/%m/%Y"]}
          nhs_number: NHS
        """,
    )
    result = ingest(spec, path, warehouse=warehouse)
    assert query(
        "SELECT record_id, title, given_name, family_name, birth_date, nhs_number, source_row "
        "FROM person_record ORDER BY 1"
    ) == [
        ("C1", "Mrs", "Jane", "Doe", dt.date(1990, 5, 17), "9434765919", 2),
        ("C2", None, "Tom", "Lee", dt.date(1991, 5, 17), None, 4),
    ]
    # the blank row inside the data is kept as a reject (missing record id), not dropped
    assert result.rows_rejected == 1 and result.rejects[0].row == 3


def test_parquet_input_with_typed_columns(write, warehouse, query, tmp_path):
    path = tmp_path / "x.parquet"
    pd.DataFrame(
        {
            "id": [1, 2],
            "dob": pd.to_datetime(["1980-01-02", "1999-12-31"]).date,
            "arrived": pd.to_datetime(["2024-01-01 10:00", "2024-02-01 11:30"]),
        }
    ).to_parquet(path)
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: pq
        record_id: id
        person:
          birth_date: dob
        events:
          - event_type: {value: ae_attendance}
            start_time: arrived
        """,
    )
    ingest(spec, path, warehouse=warehouse)
    assert query("SELECT record_id, birth_date FROM person_record ORDER BY 1") == [
        ("1", dt.date(1980, 1, 2)),
        ("2", dt.date(1999, 12, 31)),
    ]
    assert query("SELECT start_time FROM event ORDER BY 1") == [
        (dt.datetime(2024, 1, 1, 10),),
        (dt.datetime(2024, 2, 1, 11, 30),),
    ]


def test_latin1_semicolon_and_bom(write, warehouse, query):
    spec_latin = write(
        "l.yaml",
        """\
        spec_version: 1
        source: legal
        file: {encoding: latin-1, delimiter: ";"}
        record_id: id
        person: {family_name: nom}
        """,
    )
    ingest(
        spec_latin,
        write("l.csv", "id;nom\n1;Müller\n2;Siân\n", encoding="latin-1"),
        warehouse=warehouse,
    )
    spec_bom = write(
        "b.yaml",
        """\
        spec_version: 1
        source: bom
        record_id: id
        person: {family_name: nom}
        """,
    )
    ingest(spec_bom, write("b.csv", "\ufeffid,nom\n1,Zoë\n"), warehouse=warehouse)
    assert query("SELECT source, family_name FROM person_record ORDER BY 1, 2") == [
        ("bom", "Zoë"),
        ("legal", "Müller"),
        ("legal", "Siân"),
    ]


def test_detected_delimiter_tab(write, warehouse, query):
    spec = write(
        "s.yaml", "spec_version: 1\nsource: tabbed\nrecord_id: id\nperson: {family_name: name}\n"
    )
    ingest(spec, write("t.tsv", "id\tname\n1\tSmith, Jr\n"), warehouse=warehouse)
    assert query("SELECT family_name FROM person_record") == [("Smith, Jr",)]


def test_same_file_twice_is_a_no_op_and_replace_reloads(write, warehouse, query):
    spec, data = write("p.yaml", PEOPLE_SPEC), write("p.csv", PEOPLE_CSV)
    first = ingest(spec, data, warehouse=warehouse)
    second = ingest(spec, data, warehouse=warehouse)
    assert second.status == "skipped" and second.previous_load_id == first.load_id
    assert query("SELECT count(*) FROM person_record") == [(3,)]
    assert query("SELECT count(*) FROM load") == [(1,)]
    third = ingest(spec, data, warehouse=warehouse, replace=True)
    assert third.status == "loaded"
    assert query("SELECT DISTINCT load_id FROM person_record") == [(third.load_id,)]
    assert query("SELECT load_id, superseded_by FROM load ORDER BY started_at") == [
        (first.load_id, third.load_id),
        (third.load_id, None),
    ]


def test_newer_extract_replaces_rows_with_same_ids(write, warehouse, query):
    spec = write("p.yaml", PEOPLE_SPEC)
    ingest(spec, write("jan.csv", PEOPLE_CSV), warehouse=warehouse)
    feb = PEOPLE_CSV.replace("P2,Jones,Mary", "P2,Jones-Brown,Mary") + "P4,New,Person,,,,\n"
    result = ingest(spec, write("feb.csv", feb), warehouse=warehouse)
    assert result.rows_replaced == 3
    assert query("SELECT count(*) FROM person_record") == [(4,)]
    assert query("SELECT family_name FROM person_record WHERE record_id = 'P2'") == [
        ("Jones-Brown",)
    ]


def test_check_mode_writes_nothing(write, warehouse, tmp_path):
    result = ingest(
        write("p.yaml", PEOPLE_SPEC), write("p.csv", PEOPLE_CSV), warehouse=warehouse, check=True
    )
    assert result.status == "checked"
    assert result.rows_written == {"person_record": 3}
    assert not warehouse.exists()


def test_quality_report_completeness_and_validity(write, warehouse, query):
    result = ingest(write("p.yaml", PEOPLE_SPEC), write("p.csv", PEOPLE_CSV), warehouse=warehouse)
    by_field = {q.field: q for q in result.quality}
    assert (by_field["nhs_number"].present, by_field["nhs_number"].valid) == (2, 2)
    assert (by_field["postcode"].present, by_field["postcode"].valid) == (2, 2)
    assert by_field["birth_date"].valid == 3  # the year-only date counts as a valid partial date
    assert query(
        "SELECT field, rows, present, valid FROM load_quality WHERE field = 'nhs_number'"
    ) == [("nhs_number", 3, 2, 2)]


def test_approximate_birth_dates_keep_only_the_year(write, warehouse, query):
    spec = write(
        "s.yaml",
        """\
        spec_version: 1
        source: hmis
        record_id: PersonalID
        person:
          local_person_id: PersonalID
          birth_date: DOB
          birth_date_quality: DOBDataQuality
        """,
    )
    data = write("c.csv", "PersonalID,DOB,DOBDataQuality\n1,1980-01-01,2\n2,1975-06-30,1\n3,,99\n")
    ingest(spec, data, warehouse=warehouse)
    assert query(
        "SELECT record_id, local_person_id, birth_date, birth_year, birth_date_quality "
        "FROM person_record ORDER BY 1"
    ) == [
        ("1", "1", None, 1980, "approximate"),
        ("2", "2", dt.date(1975, 6, 30), 1975, "full"),
        ("3", "3", None, None, "unknown"),
    ]


def test_check_of_an_events_file_before_its_people_says_what_it_could_not_check(write, warehouse):
    spec = write(
        "c.yaml",
        """\
        spec_version: 1
        source: gp_people
        events:
          - event_type: {value: clinical_condition}
            event_id: cond_id
            record_id: PatID
            start_time: {column: date, formats: ["%Y%m%d"]}
        """,
    )
    data = write("c.csv", "cond_id,PatID,date\nc1,P1,20200101\nc2,P9,20210101\n")
    result = ingest(spec, data, warehouse=warehouse, check=True)
    assert result.rows_rejected == 0
    assert result.notes and "load the person file first" in result.notes[0]
    # once people are loaded, the check does look for them
    ingest(write("p.yaml", PEOPLE_SPEC), write("p.csv", PEOPLE_CSV), warehouse=warehouse)
    result = ingest(spec, data, warehouse=warehouse, check=True)
    assert result.rows_rejected == 1 and not result.notes


HEADER_ROW_SPEC = PEOPLE_SPEC.replace("record_id: PatID", "file: {header_row: 3}\nrecord_id: PatID")


def test_header_row_below_a_title_in_a_csv(write, warehouse, query):
    lines = PEOPLE_CSV.splitlines()
    lines[2] = lines[2].replace("1975-12-31", "31/31/1975")  # a field issue, at its own row
    lines[3] = lines[3].replace("P3", "")  # rejected (no record id), at its own row
    text = "Riverside GP extract, run 2024-03-01\n\n" + "\n".join(lines) + "\n"
    result = ingest(write("p.yaml", HEADER_ROW_SPEC), write("p.csv", text), warehouse=warehouse)
    assert result.rows_read == 3
    assert [r.row for r in result.rejects] == [6]
    assert [i.row for i in result.field_issue_sample] == [5]
    assert query("SELECT record_id, source_row FROM person_record ORDER BY 2") == [
        ("P1", 4),
        ("P2", 5),
    ]


def test_header_row_below_a_title_in_a_workbook(write, warehouse, query, tmp_path):
    from unittest import mock

    import duckdb

    from sectorlink.sources.readers import excel_xml as xlsx
    from sectorlink.sources.readers import stage_file
    from sectorlink.sources.spec import load_spec

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Riverside GP extract"])
    sheet.append([])
    for line in PEOPLE_CSV.splitlines():
        sheet.append(line.split(","))
    sheet.append([])  # a blank row inside the data is kept, and rejected
    sheet.append(["P4", "Ng", "Li", "01/01/2001", "F", "", ""])
    path = tmp_path / "p.xlsx"
    workbook.save(path)
    spec = load_spec(write("p.yaml", HEADER_ROW_SPEC))
    con = duckdb.connect()
    stage_file(con, path, spec.file)
    by_sql = con.execute("SELECT * FROM __staging ORDER BY __row").fetchall()
    with mock.patch.object(xlsx, "stage_sheet_sql", return_value=False):
        stage_file(con, path, spec.file)
    exactly = con.execute("SELECT * FROM __staging ORDER BY __row").fetchall()
    assert by_sql == exactly
    assert [row[0] for row in by_sql] == [4, 5, 6, 7, 8]
    assert by_sql[0][1:3] == ("P1", "Smith") and by_sql[3][1:] == (None,) * 7
    result = ingest(spec, path, warehouse=warehouse)
    assert [r.row for r in result.rejects] == [7]
    assert query("SELECT record_id FROM person_record ORDER BY source_row") == [
        ("P1",),
        ("P2",),
        ("P3",),
        ("P4",),
    ]


def test_real_date_cells_load_whatever_display_format_the_spec_names(
    write, warehouse, query, tmp_path
):
    """Excel shows a date cell as 01/02/1980; the reader stages it as 1980-02-01. A spec
    written from what Excel shows still loads it (and a Parquet date column likewise)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    spec = write(
        "d.yaml",
        """\
        spec_version: 1
        source: clinic
        record_id: id
        person:
          family_name: surname
          birth_date: {column: dob, formats: ["%d/%m/%Y"]}
        events:
          - event_type: {value: gp_registration}
            start_time: {column: seen, formats: ["%d/%m/%Y %H:%M"]}
        """,
    )
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "surname", "dob", "seen"])
    sheet.append(["1", "Smith", dt.date(1980, 2, 1), dt.datetime(2024, 4, 3, 10, 30)])
    sheet.append(["2", "Jones", "05/06/1990", "07/08/2024 09:15"])  # typed as text
    sheet["C2"].number_format = "dd/mm/yyyy"
    sheet["D2"].number_format = "dd/mm/yyyy hh:mm"
    workbook.save(tmp_path / "d.xlsx")
    result = ingest(spec, tmp_path / "d.xlsx", warehouse=warehouse)
    assert result.rows_rejected == 0
    assert query(
        "SELECT birth_date, start_time FROM person_record JOIN event USING (record_id)"
        " ORDER BY record_id"
    ) == [
        (dt.date(1980, 2, 1), dt.datetime(2024, 4, 3, 10, 30)),
        (dt.date(1990, 6, 5), dt.datetime(2024, 8, 7, 9, 15)),
    ]
    table = pa.table(
        {
            "id": ["3"],
            "surname": ["Ng"],
            "dob": pa.array([dt.date(2001, 12, 31)], pa.date32()),
            "seen": pa.array([dt.datetime(2024, 1, 2, 3, 4)], pa.timestamp("s")),
        }
    )
    pq.write_table(table, tmp_path / "d.parquet")
    assert ingest(spec, tmp_path / "d.parquet", warehouse=warehouse).rows_rejected == 0
    assert query("SELECT birth_date FROM person_record WHERE record_id = '3'") == [
        (dt.date(2001, 12, 31),)
    ]
    # A CSV has no typed cells: its dates must be in the spec's formats.
    csv = write("d.csv", "id,surname,dob,seen\n4,Li,2001-12-31,2024-01-02 03:04:00\n")
    assert ingest(spec, csv, warehouse=warehouse).rows_rejected == 1


def test_a_date_field_reads_a_time_of_day_written_after_the_date(write, warehouse, query):
    """Database exports write a date column as a midnight timestamp; a date keeps its day."""
    spec = write("p.yaml", PEOPLE_SPEC)
    dobs = [
        "03/04/1980 00:00",
        "1975-12-31 00:00:00.000",
        "1962-01-01T00:00:00",
        "02/02/1992 12:00:00 AM",
        "1990-09-27 23:59:59,1234567",
        "31/02/1980 00:00",  # no such day, with or without a time
        "1980-02-01 00:00 extra",
    ]
    text = "PatID,Surname,Forename,DOB,Sex,Postcode,NHS\n" + "".join(
        f"P{i},S,F,{dob},,,\n" for i, dob in enumerate(dobs, start=1)
    )
    result = ingest(spec, write("p.csv", text), warehouse=warehouse)
    assert query("SELECT record_id, birth_date FROM person_record ORDER BY 1") == [
        ("P1", dt.date(1980, 4, 3)),
        ("P2", dt.date(1975, 12, 31)),
        ("P3", dt.date(1962, 1, 1)),
        ("P4", dt.date(1992, 2, 2)),
        ("P5", dt.date(1990, 9, 27)),
        ("P6", None),  # a field issue: the record loads without its birth date
        ("P7", None),
    ]
    assert [(r.row, r.reason) for r in result.field_issue_sample] == [
        (
            row,
            f"DOB (person_record.birth_date): {dobs[row - 2]} is not a date in the format(s) "
            "%d/%m/%Y, %Y-%m-%d",
        )
        for row in (7, 8)
    ]


def test_a_comma_in_a_number_only_separates_thousands(write, warehouse, query):
    spec = write("s.yaml", BENEFIT_SPEC)
    rows = ["1,234.50", "12,500", "- £2,000", "3,5", "1.234,56", "1,23,456", "7.5"]
    text = "id,name,d,debt\n" + "".join(
        f'{i},N{i},2024-01-01,"{amount}"\n' for i, amount in enumerate(rows, start=1)
    )
    result = ingest(spec, write("b.csv", text), warehouse=warehouse)
    assert query("SELECT event_id, debt_amount FROM benefit_support ORDER BY 1") == [
        ("1", 1234.5),
        ("2", 12500.0),
        ("3", -2000.0),
        ("4", None),  # refused amounts are field issues: the rows load without them
        ("5", None),
        ("6", None),
        ("7", 7.5),
    ]
    assert sorted((r.row, r.reason) for r in result.field_issue_sample) == [
        (
            row,
            f"debt (benefit_support.debt_amount): {rows[row - 2]} is not a number (a comma "
            "may only separate thousands, as in 1,234.5)",
        )
        for row in (5, 6, 7)
    ]


def test_wrapped_and_double_spaced_header_names_match_the_spec(write, warehouse, query, tmp_path):
    """Excel wraps a long header onto two lines ('Date of', 'Birth'): the spec names it as
    it reads, 'Date of Birth'. So does a CSV whose header was exported with the line end."""
    spec = PEOPLE_SPEC.replace("Surname", "Family name").replace(
        "column: DOB", "column: Date of Birth"
    )
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["PatID", "Family  name", "Forename", "Date of\nBirth", "Sex", "Postcode", "NHS"])
    sheet.append(["P1", "Smith", "John", "03/04/1980", "1", "NG1 5AB", "9434765919"])
    workbook.save(tmp_path / "p.xlsx")
    ingest(write("p.yaml", spec), tmp_path / "p.xlsx", warehouse=warehouse)
    csv_text = 'PatID,"Family  name",Forename,"Date of\r\nBirth",Sex,Postcode,NHS\nP2,Jones,Mary,'
    csv_text += "31/12/1975,2,,\n"
    ingest(write("p.yaml", spec), write("p.csv", csv_text), warehouse=warehouse)
    # Excel on Windows: the wrapped header's line break is LF, rows end in CR LF, and an
    # in-cell line break (Alt+Enter) is LF too. DuckDB alone found no rows in it.
    excel_csv = (
        'PatID,"Family  name",Forename,"Date of\nBirth",Sex,Postcode,NHS\r\n'
        'P3,"Patel\nSingh",Anil,01/01/1962,M,,\r\nP4,Ng,Li,02/02/1992,F,,\r\n'
    )
    result = ingest(write("p.yaml", spec), write("e.csv", excel_csv), warehouse=warehouse)
    assert result.rows_read == 2 and [r.row for r in result.rejects] == []
    assert query("SELECT record_id, family_name, birth_date FROM person_record ORDER BY 1") == [
        ("P1", "Smith", dt.date(1980, 4, 3)),
        ("P2", "Jones", dt.date(1975, 12, 31)),
        ("P3", "Patel\nSingh", dt.date(1962, 1, 1)),
        ("P4", "Ng", dt.date(1992, 2, 2)),
    ]
    assert query("SELECT source_row FROM person_record WHERE record_id = 'P4'") == [(3,)]


def test_header_names_match_the_spec_whatever_their_case_unless_that_is_ambiguous(
    write, warehouse, query
):
    """A partner's new system version writes 'patid' and 'SURNAME' where the spec, written
    from the old export, says 'PatID' and 'Surname'."""
    spec = write("p.yaml", PEOPLE_SPEC)
    text = "patid,SURNAME,forename,dob,SEX,postcode,nhs\nP1,Smith,John,03/04/1980,M,,\n"
    assert ingest(spec, write("p.csv", text), warehouse=warehouse).rows_rejected == 0
    assert query("SELECT record_id, family_name, birth_date FROM person_record") == [
        ("P1", "Smith", dt.date(1980, 4, 3))
    ]
    # Two columns that differ only by case: which one the spec means is not guessed.
    both = "PatID,patid,Surname,Forename,DOB,Sex,Postcode,NHS\nP1,X,Smith,John,,,,\n"
    clash = "PATID" + both.removeprefix("PatID")
    with pytest.raises(SpecError, match=r"column 'PatID' is not in p2\.csv"):
        ingest(spec, write("p2.csv", clash), warehouse=warehouse)


def test_missing_value_markers_read_as_empty(write, warehouse, query):
    spec = PEOPLE_SPEC.replace(
        "record_id: PatID", "file: {missing: ['NULL', 'N/A', '-']}\nrecord_id: PatID"
    )
    text = (
        "PatID,Surname,Forename,DOB,Sex,Postcode,NHS\n"
        "P1,Smith,NULL,NULL,N/A, - ,9434765919\n"
        "P2,Null,Mary,1975-12-31,F,N/A,NULL\n"  # 'Null' is a name, not a marker
    )
    result = ingest(write("p.yaml", spec), write("p.csv", text), warehouse=warehouse)
    assert result.rows_rejected == 0 and result.unmapped == []
    assert query(
        "SELECT record_id, family_name, given_name, birth_date, sex, postcode, nhs_number "
        "FROM person_record ORDER BY 1"
    ) == [
        ("P1", "Smith", None, None, None, None, "9434765919"),
        ("P2", "Null", "Mary", dt.date(1975, 12, 31), "F", None, None),
    ]
    quality = {(q.field, q.present) for q in result.quality}
    assert ("given_name", 1) in quality and ("birth_date", 1) in quality
    # Unquoted, YAML reads NULL as no value: the spec says so instead of loading.
    with pytest.raises(SpecError, match="quote the texts"):
        ingest(
            write(
                "q.yaml",
                PEOPLE_SPEC.replace(
                    "record_id: PatID", "file: {missing: [NULL]}\nrecord_id: PatID"
                ),
            ),
            write("p.csv", text),
            warehouse=warehouse,
        )


ZONED_SPEC = """\
spec_version: 1
source: cad
file: {time_zone: Europe/London}
record_id: Ref
person:
  family_name: Surname
  birth_date: {column: DOB, formats: ["%Y-%m-%dT%H:%M:%S%z", "%d/%m/%Y"]}
events:
  - event_type: {value: ambulance_callout}
    start_time: {column: Received, formats: ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M"]}
"""

ZONED_CSV = """\
Ref,Surname,DOB,Received
C1,Smith,1981-03-02T00:00:00-05:00,2024-07-01T10:00:00Z
C2,Jones,1980-02-01T00:00:00Z,2024-07-01T10:00:00+01:00
C3,Patel,03/03/1983,2024-01-15T10:00:00+0000
C4,Khan,04/04/1984,2024-01-15 10:00
"""


@pytest.mark.parametrize("machine_zone", ["UTC", "America/New_York"])
def test_times_with_a_utc_offset_become_the_regions_local_times(
    write, warehouse, query, machine_zone
):
    import duckdb

    from sectorlink.warehouse import connect

    con = connect(warehouse)
    # Whatever zone the machine (and so DuckDB's session) is in, the spec's zone decides.
    con.execute(f"SET TimeZone = '{machine_zone}'")
    result = ingest(write("c.yaml", ZONED_SPEC), write("c.csv", ZONED_CSV), con=con)
    con.close()
    assert isinstance(con, duckdb.DuckDBPyConnection)
    assert result.rows_rejected == 0
    got = query(
        "SELECT p.record_id, birth_date, start_time FROM person_record p "
        "JOIN event e USING (record_id) ORDER BY 1"
    )
    assert got == [
        # 10:00 UTC is 11:00 in a British summer; a date keeps the day as written.
        ("C1", dt.date(1981, 3, 2), dt.datetime(2024, 7, 1, 11, 0)),
        ("C2", dt.date(1980, 2, 1), dt.datetime(2024, 7, 1, 10, 0)),
        ("C3", dt.date(1983, 3, 3), dt.datetime(2024, 1, 15, 10, 0)),  # GMT: UTC itself
        ("C4", dt.date(1984, 4, 4), dt.datetime(2024, 1, 15, 10, 0)),  # local already
    ]


def test_a_field_the_spec_marks_required_rejects_its_row(write, warehouse, query):
    """`required: true` makes a missing or invalid value reject the row, as a record id
    does; without it the value is a field issue and the row loads."""
    spec = PEOPLE_SPEC.replace(
        "birth_date: {column: DOB", "birth_date: {required: true, column: DOB"
    ).replace("sex: Sex", "sex: {column: Sex, required: true}")
    assert "required: true, column: DOB" in spec and "required: true}" in spec
    text = (
        "PatID,Surname,Forename,DOB,Sex,Postcode,NHS\n"
        "P1,Smith,John,03/04/1980,1,,\n"
        "P2,Jones,Mary,31/02/1975,2,,\n"  # no such date
        "P3,Patel,Anil,,1,,\n"  # no birth date
        "P4,Khan,Ali,1962,robot,,\n"  # a year-only birth date; a sex no crosswalk knows
    )
    result = ingest(write("r.yaml", spec), write("r.csv", text), warehouse=warehouse)
    assert result.field_issues == 0
    assert [(r.row, r.target, r.code) for r in result.rejects] == [
        (3, "person_record.birth_date", "not_a_date"),
        (4, "person_record.birth_date", "required_missing"),
        (5, "person_record.sex", "required_code_unmapped"),
    ]
    assert query("SELECT record_id FROM person_record") == [("P1",)]
    # the same file without `required` (loaded again, replacing the load): every row loads,
    # the bad date is a field issue, the old load's rejects are gone with it
    plain = ingest(
        write("p.yaml", PEOPLE_SPEC), write("r.csv", text), warehouse=warehouse, replace=True
    )
    assert plain.rows_rejected == 0 and plain.field_issues == 1
    assert [(i.row, i.code) for i in plain.field_issue_sample] == [(3, "not_a_date")]
    assert query("SELECT count(*) FROM rejects") == [(0,)]
    assert query("SELECT source_row, code FROM field_issues") == [(3, "not_a_date")]
    assert query("SELECT count(*) FROM person_record") == [(4,)]


def test_required_must_be_true_or_false(write):
    spec = PEOPLE_SPEC.replace("sex: Sex", "sex: {column: Sex, required: 'yes'}")
    with pytest.raises(SpecError, match="'required' is true or false"):
        load_spec(write("r.yaml", spec))


def test_an_impossible_date_with_a_utc_offset_is_not_read_as_a_later_day(write, warehouse, query):
    """DuckDB's strptime given a list of formats with %z reads 31 February as 3 March."""
    spec = write(
        "z.yaml",
        """\
        spec_version: 1
        source: calls
        file: {time_zone: Europe/London}
        record_id: id
        person:
          family_name: name
        events:
          - event_type: {value: ambulance_callout}
            start_time: {column: at, formats: ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z"]}
        """,
    )
    text = "id,name,at\n1,A,2022-02-31T18:51:38Z\n2,B,2022-03-03T18:51:38Z\n"
    result = ingest(spec, write("z.csv", text), warehouse=warehouse)
    assert [(r.row, r.target, r.code) for r in result.rejects] == [
        (2, "event.start_time", "not_a_date")
    ]
    assert query("SELECT event_id, start_time FROM event") == [
        ("2", dt.datetime(2022, 3, 3, 18, 51, 38))
    ]
