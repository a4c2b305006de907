"""`sectorlink demo --pprl`: partners encode at home and send their rows without
identifiers; the hub links encodings only and still runs every analysis."""

from __future__ import annotations

import csv
import html
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.insights import InsightRun
from sectorlink.insights.registry import list_analyses
from sectorlink.model import TABLES
from sectorlink.pprl import package
from sectorlink.warehouse import connect

IDENTIFIER_HEADERS = {"nhsnumber", "nhsno", "nhs", "email", "phone", "telephone"}


def _identifier_values(region: Path) -> set[str]:
    """Distinctive identifiers the partners hold: NHS numbers, emails and phone numbers of
    the region's people, from the CSV extracts whose header names them. (Postcodes are left
    out: an event's place travels, and an ambulance call-out at home has its postcode.)"""
    found: set[str] = set()
    for path in (region / "extracts").glob("*.csv"):
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline()
            delimiter = max(",;\t|", key=header.count)
            fh.seek(0)
            for row in csv.DictReader(fh, delimiter=delimiter):
                for column, value in row.items():
                    name = "".join(ch for ch in (column or "").lower() if ch.isalnum())
                    if name in IDENTIFIER_HEADERS and value and len(value.strip()) >= 8:
                        found.add(value.strip().lower())
    return found


@pytest.mark.slow
def test_demo_in_privacy_preserving_mode_runs_every_analysis_without_identifiers_at_the_hub(
    tmp_path: Path,
) -> None:
    from sectorlink.demo import run_demo

    out = tmp_path / "demo"
    result = run_demo(out, people=1_000, seed=7, pprl=True)
    # before the partners sent their rows, every analysis said "not run: the hub holds
    # none of what it reads"; a region this small may still be too small to train on
    not_run = [str(r) for r in result.insights if "not run" in str(r)]
    assert not not_run, not_run
    ran = {r.analysis.name for r in result.insights if isinstance(r, InsightRun)}
    small = [str(r) for r in result.insights if not isinstance(r, InsightRun)]
    assert all("too few" in s for s in small), small
    assert len(result.insights) == len(list_analyses())
    assert {"violence-hotspots", "homeless-care", "vulnerability", "value-case"} <= ran

    encoded = sorted((out / "encoded").glob("*.enc.parquet"))
    assert encoded, "each partner's encoded extract is written"
    for path in encoded:
        columns = pq.read_schema(path).names
        assert all(c in ("source", "record_id") or c.startswith(("bf_", "tok_")) for c in columns)
        assert path.with_name(path.name.replace(".parquet", ".manifest.json")).exists()

    con = connect(out / "warehouse.duckdb", read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        identifier_names = {c for t in TABLES.values() for c in package.identifier_columns(t)}
        for table in tables:
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table]
                ).fetchall()
            ]
            model = TABLES.get(table)
            marked = set(package.identifier_columns(model)) if model else identifier_names
            for column in set(columns) & marked:
                values = con.execute(
                    f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
                ).fetchall()
                if (table, column) == package.MARKER_COLUMN:
                    assert set(values) <= {(package.NO_FIXED_ABODE_POSTCODE,)}
                elif model is not None or table != "geo_postcode":
                    assert values == [], f"identifier column {table}.{column} holds values"
        # and no distinctive identifier value sits in any text column of any table
        known = _identifier_values(result.region_dir)
        assert known
        for table in tables:
            text_columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                    "AND data_type IN ('VARCHAR', 'JSON')",
                    [table],
                ).fetchall()
            ]
            for column in text_columns:
                values = {
                    str(r[0]).strip().lower()
                    for r in con.execute(
                        f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
                    ).fetchall()
                }
                assert not values & known, f"{table}.{column} holds a partner's identifier"
        events = con.execute("SELECT count(*) FROM event").fetchall()[0][0]
        engine, persons = con.execute("SELECT engine, persons FROM linkage_run").fetchall()[0]
        encoded_rows = con.execute("SELECT count(*) FROM encoded_person").fetchall()[0][0]
    finally:
        con.close()
    assert events > 0
    assert encoded_rows == sum(pq.read_metadata(p).num_rows for p in encoded)
    assert engine == "bloom" and 0 < persons < encoded_rows
    report = (out / "report.html").read_text()
    assert "privacy-preserving" in report
    for r in result.insights:
        if isinstance(r, InsightRun):
            assert html.escape(r.analysis.title) in report
    assert (out / "linkage" / "linkage_report.html").exists()


def test_the_demo_cli_takes_pprl() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0 and "--pprl" in result.output
