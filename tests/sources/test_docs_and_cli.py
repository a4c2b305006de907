"""docs/mapping.md's worked example runs as written; the ingest CLI is a thin wrapper."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.sources import ingest

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def worked_example() -> tuple[str, str]:
    doc = (ROOT / "docs" / "mapping.md").read_text()
    csv_block = re.search(r"```\n(AttendanceNo;.*?)```", doc, re.DOTALL)
    yaml_block = re.search(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert csv_block and yaml_block
    return yaml_block.group(1), csv_block.group(1)


def test_mapping_doc_worked_example_loads_as_described(tmp_path):
    spec_text, csv_text = worked_example()
    spec = tmp_path / "ae.yaml"
    spec.write_text(spec_text)
    data = tmp_path / "ae.csv"
    data.write_bytes(csv_text.encode("latin-1"))
    result = ingest(spec, data, warehouse=tmp_path / "hub.duckdb")
    assert result.rows_rejected == 0 and not result.unmapped
    assert result.rows_written == {"person_record": 2, "event": 2, "violence": 1}
    import duckdb

    con = duckdb.connect(str(tmp_path / "hub.duckdb"))
    assert con.execute(
        "SELECT given_name, middle_names, family_name FROM person_record WHERE record_id = 'A0001'"
    ).fetchone() == ("John", "Paul", "SMITH")
    assert con.execute("SELECT event_type FROM event ORDER BY event_id").fetchall() == [
        ("ae_assault",),
        ("ae_attendance",),
    ]
    assert con.execute("SELECT assault_method, assault_location_type FROM violence").fetchone() == (
        "01",
        "03",
    )


def test_cli_ingest_check_and_load(tmp_path):
    spec_text, csv_text = worked_example()
    (tmp_path / "ae.yaml").write_text(spec_text)
    (tmp_path / "ae.csv").write_bytes(csv_text.encode("latin-1"))
    args = [
        str(tmp_path / "ae.yaml"),
        str(tmp_path / "ae.csv"),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
    ]
    checked = runner.invoke(app, ["ingest", "--check", *args])
    assert checked.exit_code == 0, checked.output
    assert "Checked" in checked.output and not (tmp_path / "w.duckdb").exists()
    loaded = runner.invoke(app, ["ingest", *args])
    assert loaded.exit_code == 0 and "Loaded" in loaded.output
    again = runner.invoke(app, ["ingest", *args])
    assert again.exit_code == 0 and "Already loaded" in again.output


def test_cli_check_exits_1_on_row_problems_and_2_on_unusable_input(tmp_path):
    spec_text, csv_text = worked_example()
    (tmp_path / "ae.yaml").write_text(spec_text)
    (tmp_path / "bad.csv").write_bytes(
        (csv_text + "A0003;X, Y;99/99/1999;1;;;01/01/2024 10:00;;;;\n").encode("latin-1")
    )
    result = runner.invoke(
        app, ["ingest", "--check", str(tmp_path / "ae.yaml"), str(tmp_path / "bad.csv")]
    )
    assert result.exit_code == 1
    assert "99/99/1999 is not a date" in result.output
    (tmp_path / "empty.csv").write_bytes(b"")
    result = runner.invoke(
        app,
        [
            "ingest",
            str(tmp_path / "ae.yaml"),
            str(tmp_path / "empty.csv"),
            "-w",
            str(tmp_path / "w.duckdb"),
        ],
    )
    assert result.exit_code == 2
    assert "empty.csv" in result.output and "empty" in result.output
    assert "Traceback" not in result.output


def test_cli_model_export_and_docs(tmp_path):
    result = runner.invoke(app, ["model", "export", str(tmp_path / "schemas")])
    assert result.exit_code == 0
    assert (tmp_path / "schemas" / "event.schema.json").exists()
    result = runner.invoke(app, ["model", "docs", str(tmp_path / "dm.md")])
    assert result.exit_code == 0
    assert (tmp_path / "dm.md").read_text() == (ROOT / "docs" / "data-model.md").read_text()
