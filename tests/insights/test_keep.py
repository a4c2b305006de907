"""What an analysis keeps lands in the warehouse in the shape the catalogue defines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sectorlink.insights.context import InsightContext
from sectorlink.insights.run import _keep
from sectorlink.model.catalogue import FrameMismatch


def _ctx(kept: dict[str, pd.DataFrame]) -> InsightContext:
    # `_keep` reads only `kept`; the rest of a context (a grant, an in-memory copy of the
    # linked model) is not needed to write it
    ctx = InsightContext.__new__(InsightContext)
    ctx.kept = kept
    return ctx


def _scores(**changes: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "rank": [1.0, 2.0],  # nullable integers often arrive as doubles
            "score": [0.9, 0.4],
            "person_key": ["P1", "P2"],
            "as_of": [pd.Timestamp("2024-06-30")] * 2,  # pandas has no date type
            "model_version": ["v1", "v1"],
            "model": ["ew", "ew"],
        }
    )
    return frame.assign(**changes)


def _columns(warehouse: Path, table: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]
    finally:
        con.close()


def test_a_kept_table_has_the_catalogues_columns_and_types(tmp_path: Path) -> None:
    warehouse = tmp_path / "hub.duckdb"
    duckdb.connect(str(warehouse)).close()
    assert _keep(warehouse, _ctx({"risk_score": _scores()})) == ["risk_score"]
    # the definition's order and types, not the frame's (which had rank first, as DOUBLE,
    # and as_of as a TIMESTAMP)
    assert _columns(warehouse, "risk_score") == [
        ("model", "VARCHAR"),
        ("model_version", "VARCHAR"),
        ("as_of", "DATE"),
        ("person_key", "VARCHAR"),
        ("score", "DOUBLE"),
        ("rank", "BIGINT"),
    ]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        got = con.execute("SELECT person_key, rank, as_of FROM risk_score ORDER BY 1").fetchall()
    finally:
        con.close()
    assert got == [("P1", 1, dt.date(2024, 6, 30)), ("P2", 2, dt.date(2024, 6, 30))]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_scores().drop(columns="rank"), "missing rank"),
        (_scores(extra=[1, 2]), "not in its definition: extra"),
        (_scores(score=["high", "low"]), "score is VARCHAR, defined as number"),
    ],
)
def test_a_frame_unlike_its_definition_writes_nothing(
    tmp_path: Path, frame: pd.DataFrame, message: str
) -> None:
    warehouse = tmp_path / "hub.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE risk_score AS SELECT 'earlier run' AS model")
    con.close()
    # set straight into `kept`, past `ctx.keep`'s own check: the writer checks again
    ctx = _ctx({"my_own_result": pd.DataFrame({"anything": [1]}), "risk_score": frame})
    with pytest.raises(FrameMismatch, match=message):
        _keep(warehouse, ctx)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("SELECT * FROM risk_score").fetchall() == [("earlier run",)]
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    finally:
        con.close()
    assert "my_own_result" not in tables  # checked before anything is written


def test_a_table_the_catalogue_does_not_define_is_kept_as_it_is(tmp_path: Path) -> None:
    warehouse = tmp_path / "hub.duckdb"
    duckdb.connect(str(warehouse)).close()
    _keep(warehouse, _ctx({"my_own_result": pd.DataFrame({"anything": [1]})}))
    assert _columns(warehouse, "my_own_result") == [("anything", "BIGINT")]
