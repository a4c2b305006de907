"""`sectorlink link` and `sectorlink evaluate` are thin wrappers that report clearly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from linkage_helpers import person
from typer.testing import CliRunner

from sectorlink.cli import app

runner = CliRunner()

ROWS = [
    person("gp", "1", "ann", "lee", dt.date(1970, 1, 1), postcode="NG1 5AB"),
    person("ae", "1", "Ann", "LEE", dt.date(1970, 1, 1), postcode="NG15AB"),
    person("ae", "2", "bob", "stone", dt.date(1981, 2, 3), postcode="NG7 2RD"),
    person("gp", "2", "robert", "stone", dt.date(1981, 2, 3), postcode="NG7 2RD"),
]


def test_link_then_evaluate(warehouse, tmp_path: Path) -> None:
    path = warehouse(ROWS)
    out = tmp_path / "out"
    # four records cannot train a model: the run stops unless defaults are asked for
    result = runner.invoke(app, ["link", "--warehouse", str(path), "--out", str(out)])
    assert result.exit_code != 0
    assert "--allow-default-model" in result.output
    assert not (out / "person_index.csv").exists()
    result = runner.invoke(
        app, ["link", "--warehouse", str(path), "--out", str(out), "--allow-default-model"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("model: the documented default m and u probabilities")
    assert "Linked 4 records from 2 source(s) into 2 persons" in result.output
    assert (out / "person_index.csv").exists()
    assert (out / "linkage_report.html").exists()

    truth = tmp_path / "truth.csv"
    truth.write_text("source,record_id,person_id\ngp,1,A\nae,1,A\nae,2,B\ngp,2,B\n")
    result = runner.invoke(app, ["evaluate", "--truth", str(truth), "--warehouse", str(path)])
    assert result.exit_code == 0, result.output
    assert "1.0000" in result.output
    assert "2 persons found for 2 true persons" in result.output


def test_link_on_a_missing_warehouse_fails_clearly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["link", "--warehouse", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_link_on_an_empty_warehouse_fails_clearly(warehouse) -> None:
    result = runner.invoke(app, ["link", "--warehouse", str(warehouse([]))])
    assert result.exit_code == 2
    assert "no person records" in result.output


def test_unknown_engine_is_refused(warehouse) -> None:
    result = runner.invoke(app, ["link", "--warehouse", str(warehouse(ROWS)), "--engine", "x"])
    assert result.exit_code == 2
    assert "unknown engine" in result.output


def test_evaluate_before_link_fails_clearly(warehouse, tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("source,record_id,person_id\ngp,1,A\n")
    result = runner.invoke(
        app, ["evaluate", "--truth", str(truth), "--warehouse", str(warehouse(ROWS))]
    )
    assert result.exit_code == 2
    assert "run `sectorlink link` first" in result.output
