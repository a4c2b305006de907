"""`sectorlink demo --pprl`: partners encode at home, the hub links encodings only."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.warehouse import connect


@pytest.mark.slow
def test_demo_in_privacy_preserving_mode_links_without_identifiers_at_the_hub(
    tmp_path: Path,
) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--pprl", "--people", "400", "--out", str(out)])
    assert result.exit_code == 0, result.output
    encoded = sorted((out / "encoded").glob("*.enc.parquet"))
    assert encoded, "each partner's encoded extract is written"
    for path in encoded:
        columns = pq.read_schema(path).names
        assert all(c in ("source", "record_id") or c.startswith(("bf_", "tok_")) for c in columns)
    con = connect(out / "warehouse.duckdb", read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM person_record").fetchall()[0][0] == 0
        encoded_rows = con.execute("SELECT count(*) FROM encoded_person").fetchall()[0][0]
        engine, persons = con.execute("SELECT engine, persons FROM linkage_run").fetchall()[0]
    finally:
        con.close()
    assert encoded_rows == sum(pq.read_metadata(p).num_rows for p in encoded)
    assert engine == "bloom" and 0 < persons < encoded_rows
    report = (out / "report.html").read_text()
    assert "privacy-preserving" in report
    assert (out / "linkage" / "linkage_report.html").exists()
