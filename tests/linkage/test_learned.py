"""Twins and birth-gap contradictions: strong when matches rarely show them, trained when
a data set's errors make them common among matches."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import duckdb
import pytest
from linkage_helpers import insert_records, person

from sectorlink.identity import standardise
from sectorlink.linkage.comparisons import CONTRADICTION_WEIGHT
from sectorlink.linkage.fields import LINKAGE_FIELDS
from sectorlink.linkage.learned import NOISE_RATE, learn_contradictions, pattern_sql
from sectorlink.model import model_ddl

D = dt.date(1980, 5, 17)
TWINS_U = 5e-5
GAP_U = 0.5


def setup(matching_pairs: int) -> duckdb.DuckDBPyConnection:
    """Records 1-2: twins (same date, different first names); 3-4: 40 years apart, same
    name; then ``matching_pairs`` pairs of identical records. Pairs all scored p = 0.9."""
    rows = [
        person("a", "1", "oliver", "smith", D),
        person("b", "2", "harriet", "smith", D),
        person("a", "3", "john", "jones", dt.date(1940, 1, 2)),
        person("b", "4", "john", "jones", dt.date(1980, 3, 4)),
    ]
    for i in range(matching_pairs):
        born = dt.date(1950 + i % 40, 1 + i % 12, 1 + i % 28)
        rows += [person("a", f"m{i}", "anna", f"f{i}", born)]
        rows += [person("b", f"m{i}", "anna", f"f{i}", born)]
    con = duckdb.connect()
    for statement in model_ddl():
        con.execute(statement)
    insert_records(con, rows)
    con.execute(f"CREATE TABLE std AS {standardise(con).sql_query()}")
    weight = math.log2(0.9 / 0.1)
    con.execute(
        f"""CREATE TABLE pairs AS
            SELECT a.unique_id AS unique_id_l, b.unique_id AS unique_id_r,
                   {weight}::DOUBLE AS match_weight, 0.9::DOUBLE AS match_probability
            FROM std a JOIN std b ON a.record_id = b.record_id AND a.source = 'a'
                                 AND b.source = 'b'
            UNION ALL
            SELECT a.unique_id, b.unique_id, {weight}::DOUBLE, 0.9::DOUBLE FROM std a, std b
            WHERE (a.record_id, b.record_id) IN (('1', '2'), ('3', '4'))
              AND a.source = 'a' AND b.source = 'b'"""
    )
    return con


EXACT_M, EXACT_U = 0.85, 1e-3


def model() -> dict[str, Any]:
    levels = [{"u_probability": TWINS_U, "m_probability": TWINS_U}]
    levels += [
        {"label_for_charts": "exact date", "m_probability": EXACT_M, "u_probability": EXACT_U}
    ]
    levels += [{"u_probability": GAP_U, "m_probability": GAP_U}]
    return {"comparisons": [{"comparison_levels": levels}]}


def run(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, Any], dict[str, Any]]:
    fitted, learned = learn_contradictions(
        con,
        std="std",
        pairs="pairs",
        fields=set(LINKAGE_FIELDS),
        model=model(),
        positions={"twins": (0, 0), "birth_gap": (0, 2)},
        floor=0.01,
    )
    return fitted, {c.kind: c for c in learned}


def kept(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    rows = con.execute(
        """SELECT a.record_id, b.record_id FROM pairs p
           JOIN std a ON a.unique_id = p.unique_id_l JOIN std b ON b.unique_id = p.unique_id_r
           WHERE a.record_id IN ('1', '3')"""
    ).fetchall()
    return {(str(r[0]), str(r[1])) for r in rows}


def test_rare_patterns_stay_strong_contradictions() -> None:
    con = setup(matching_pairs=400)  # 1 in 402 pairs: a quarter of NOISE_RATE
    fitted, learned = run(con)
    assert learned["twins"].rate == pytest.approx(0.9 / (0.9 * 402))
    assert learned["twins"].strict and learned["birth_gap"].strict
    assert learned["twins"].weight == CONTRADICTION_WEIGHT
    # both contradicting pairs fall below the floor and are dropped; the matches stay
    assert kept(con) == set()
    assert con.execute("SELECT count(*) FROM pairs").fetchall()[0][0] == 400
    level = fitted["comparisons"][0]["comparison_levels"][0]
    assert level["m_probability"] == pytest.approx(TWINS_U * 2.0**CONTRADICTION_WEIGHT)


def test_common_patterns_are_trained_with_bounded_weights() -> None:
    con = setup(matching_pairs=10)  # 1 in 12 pairs (8%) shows each pattern
    fitted, learned = run(con)
    twins, gap = learned["twins"], learned["birth_gap"]
    assert twins.rate == pytest.approx(1 / 12) and twins.rate >= NOISE_RATE
    assert not twins.strict and not gap.strict
    # twins: m/u favours a link, up to what an exact birth date counts and no more
    assert math.log2((1 / 12) / TWINS_U) > math.log2(EXACT_M / EXACT_U)
    assert twins.weight == pytest.approx(math.log2(EXACT_M / EXACT_U))
    assert gap.weight == pytest.approx(math.log2((1 / 12) / GAP_U))
    assert CONTRADICTION_WEIGHT < gap.weight < 0
    assert kept(con) == {("1", "2"), ("3", "4")}
    p_gap = con.execute(
        """SELECT p.match_probability FROM pairs p JOIN std a ON a.unique_id = p.unique_id_l
           WHERE a.record_id = '3'"""
    ).fetchall()[0][0]
    assert p_gap == pytest.approx(1 / (1 + 2.0 ** -(math.log2(9) + gap.weight)))
    assert fitted["comparisons"][0]["comparison_levels"][2]["m_probability"] == pytest.approx(
        GAP_U * 2.0**gap.weight
    )


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="no learnable contradiction 'nhs_number'"):
        pattern_sql("nhs_number", LINKAGE_FIELDS)
