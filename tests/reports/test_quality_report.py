"""The hub report's quality section: figures from the warehouse, values escaped, no identifiers."""

from __future__ import annotations

import duckdb

from sectorlink.reports import bar_chart_svg, render_report
from sectorlink.reports.quality import FIELD_ISSUE_KINDS_SQL, REJECT_KINDS_SQL, quality_section
from sectorlink.sources import ingest

SPEC = """\
spec_version: 1
source: shelter
record_id: id
person:
  family_name: name
  birth_date: {column: dob, formats: ["%d/%m/%Y"]}
  sex: sex
"""
CSV = (
    "id,name,dob,sex\n1,Smith,01/01/1980,<script>alert(1)</script>\n2,Jones,31/02/1990,F\n3,Ng,,M\n"
)


def test_quality_section_counts_and_escapes(tmp_path):
    (tmp_path / "s.yaml").write_text(SPEC)
    (tmp_path / "d.csv").write_text(CSV)
    warehouse = tmp_path / "w.duckdb"
    ingest(tmp_path / "s.yaml", tmp_path / "d.csv", warehouse=warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    section = quality_section(con)
    out = render_report([section], tmp_path / "report.html", title="Hub <report>")
    html = out.read_text()
    assert section.headline["rows read"] == "3"
    assert section.headline["rows rejected (kept)"] == "0 (0.0%)"
    assert section.headline["values set empty (field issues)"] == "1"  # Jones's birth date
    from sectorlink.sources.summary import source_summaries

    assert [(s.source, s.rows_rejected, s.field_issues) for s in source_summaries(con)] == [
        ("shelter", 0, 1)
    ]
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the unmapped code, escaped
    assert "Hub &lt;report&gt;" in html
    assert "date does not parse" in html
    assert "31/02/1990" not in html  # invalid values are summarised by kind, not shown
    assert "Jones" not in html
    assert not (tmp_path / "report.html.tmp").exists()


def test_every_kind_of_reject_is_named_in_the_report(tmp_path):
    spec = SPEC + "events:\n  - event_type: {value: debt_advice}\n"
    spec += '    start_time: {column: seen, formats: ["%d/%m/%Y"]}\n'
    spec += "    detail:\n      benefit_support:\n        support_type: {value: debt_advice}\n"
    spec += "        debt_amount: debt\n"
    (tmp_path / "s.yaml").write_text(spec)
    (tmp_path / "d.csv").write_text(
        "id,name,dob,sex,seen,debt\n"
        "1,Smith,01/01/80,M,01/02/2024,10\n"  # %Y reads 80 as the year 80
        "2,Jones,01/01/1980,F,01/02/2099,10\n"  # in the future
        '3,Ng,01/01/1980,F,01/02/2024,"3,5"\n'  # a decimal comma
        "3,Ng,01/01/1980,F,01/02/2024,1\n"  # a duplicate id
        "id,name,dob,sex,seen,debt\n"  # the header again
    )
    warehouse = tmp_path / "w.duckdb"
    ingest(tmp_path / "s.yaml", tmp_path / "d.csv", warehouse=warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    kinds = {row[3] for row in con.execute(REJECT_KINDS_SQL).fetchall()}
    assert kinds == {"date in the future", "duplicate id", "header repeated in the file"}
    # the birth date and the amount are optional: set empty, their rows loaded
    issues = {(row[1], row[3]) for row in con.execute(FIELD_ISSUE_KINDS_SQL).fetchall()}
    assert issues == {
        ("person_record.birth_date", "two-digit year read as a four-digit one"),
        ("benefit_support.debt_amount", "not a number"),
    }


def test_every_problem_code_has_a_name_in_the_report():
    from sectorlink.sources import ProblemCode
    from sectorlink.sources.reasons import PROBLEM_LABELS

    assert set(PROBLEM_LABELS) == set(ProblemCode)


def test_a_warehouse_from_before_codes_and_field_issues_still_reports(tmp_path):
    """An older warehouse's rejects have no code and it has no field_issues table: the
    report opens it read-only, so it must read it as it is."""
    (tmp_path / "s.yaml").write_text(SPEC)
    (tmp_path / "d.csv").write_text("id,name,dob,sex\n1,Smith,01/01/1980,M\n1,Smith,,M\n")
    warehouse = tmp_path / "w.duckdb"
    ingest(tmp_path / "s.yaml", tmp_path / "d.csv", warehouse=warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DROP TABLE field_issues")
        con.execute("ALTER TABLE rejects DROP COLUMN code")
        con.execute("ALTER TABLE rejects ADD COLUMN code VARCHAR")  # as ensure_schema adds it
    con = duckdb.connect(str(warehouse), read_only=True)
    section = quality_section(con)
    assert section.headline["rows rejected (kept)"] == "1 (50.0%)"
    assert section.headline["values set empty (field issues)"] == "0"
    assert "<td>other</td>" in section.body


def test_bar_chart_scales_and_escapes():
    svg = bar_chart_svg(["a<b", "c"], [0.5, 1.0], title="T", max_value=1.0, percent=True, width=400)
    assert svg.startswith("<svg") and "a&lt;b" in svg
    assert "50.0%" in svg and "100.0%" in svg
