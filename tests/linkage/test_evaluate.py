"""Pairwise precision and recall on a hand-checked index."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sectorlink.linkage.evaluate import evaluate
from sectorlink.linkage.store import ensure_tables
from sectorlink.model import model_ddl


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for statement in model_ddl():
        c.execute(statement)
    ensure_tables(c)
    # records: a1 a2 b1 b2 (sources a, b); the index puts a1, a2, b1 together, b2 alone
    index = [("a", "1", "K1"), ("a", "2", "K1"), ("b", "1", "K1"), ("b", "2", "K2")]
    c.executemany("INSERT INTO person_index VALUES (?, ?, ?, 1, 'r')", [list(row) for row in index])
    c.executemany(
        "INSERT INTO person_record (source, record_id, given_name) VALUES (?, ?, 'x')",
        [[s, r] for s, r, _ in index],
    )
    return c


def test_pairwise_scores(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    # truth: a1, b1, b2 are one person; a2 another
    truth.write_text("source,record_id,person_id\na,1,P\nb,1,P\nb,2,P\na,2,Q\n")
    ev = evaluate(con, truth)
    # predicted pairs: a1-a2, a1-b1, a2-b1; true pairs: a1-b1, a1-b2, b1-b2; correct: a1-b1
    assert (ev.overall.predicted_pairs, ev.overall.true_pairs, ev.overall.correct_pairs) == (
        3,
        3,
        1,
    )
    assert ev.overall.precision == pytest.approx(1 / 3)
    assert ev.overall.recall == pytest.approx(1 / 3)
    # cross-source: predicted a1-b1, a2-b1; true a1-b1, a1-b2; b1-b2 is within source b
    assert (ev.cross_source.predicted_pairs, ev.cross_source.true_pairs) == (2, 2)
    assert ev.cross_source.correct_pairs == 1
    assert (ev.clusters, ev.true_persons, ev.records) == (2, 2, 4)
    kinds = {(e.side, e.pairs) for e in ev.errors}
    assert ("wrong link", 2) in kinds
    assert ("missed link", 2) in kinds


def test_perfect_index_scores_one(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("source,record_id,person_id\na,1,P\na,2,P\nb,1,P\nb,2,Q\n")
    ev = evaluate(con, truth)
    assert ev.overall.f1 == 1.0
    assert ev.cross_source.f1 == 1.0
    assert ev.errors == []
