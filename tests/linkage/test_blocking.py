"""Blocking rules chosen from the fields present, with counts that match brute force."""

from __future__ import annotations

import duckdb
import pytest

from sectorlink.linkage.blocking import (
    CANDIDATES,
    Candidate,
    choose_blocking_rules,
    count_pairs,
    training_rules,
)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute(
        """CREATE TABLE std AS SELECT range AS unique_id,
               ['smith', 'jones', 'lee'][range % 3 + 1] AS family_name,
               CASE WHEN range % 7 = 0 THEN NULL ELSE 'NG' || (range % 4) END AS postcode,
               ['19800102', '19800201', '19900303'][range % 3 + 1] AS birth_date_text,
               ['19800201', '19800102', NULL][range % 3 + 1] AS birth_date_swapped
           FROM range(60)"""
    )
    return c


def brute(con: duckdb.DuckDBPyConnection, rule: Candidate) -> int:
    cond = " AND ".join(f"l.{a} = r.{b}" for a, b in rule.equalities)
    if rule.symmetric:
        sql = f"SELECT count(*) FROM std l JOIN std r ON l.unique_id < r.unique_id AND {cond}"
    else:
        sql = f"SELECT count(*) FROM std l JOIN std r ON l.unique_id <> r.unique_id AND {cond}"
    return int(con.execute(sql).fetchall()[0][0])


@pytest.mark.parametrize(
    "rule",
    [
        Candidate("family", (("family_name", "family_name"),)),
        Candidate("family + postcode", (("family_name", "family_name"), ("postcode", "postcode"))),
        Candidate("swap", (("birth_date_swapped", "birth_date_text"),)),
    ],
)
def test_counts_match_brute_force(con: duckdb.DuckDBPyConnection, rule: Candidate) -> None:
    assert count_pairs(con, "std", rule) == brute(con, rule)


def test_rules_need_their_fields() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE std AS SELECT range AS unique_id, 'x' || range AS email FROM range(10)"
    )
    choices = choose_blocking_rules(con, "std", {"email"}, 10)
    used = [c.name for c in choices if c.used]
    assert used == []  # every email differs: the rule makes no pairs
    assert all("no values in" in c.note for c in choices if c.name != "email")


def test_a_rule_over_budget_is_narrowed() -> None:
    con = duckdb.connect()
    # one family name for everyone: far over the budget; birth years narrow it
    con.execute(
        """CREATE TABLE std AS SELECT range AS unique_id, 'smith' AS family_name,
               'john' AS given_canonical, 1900 + range % 500 AS birth_year
           FROM range(3000)"""
    )
    choices = choose_blocking_rules(
        con, "std", {"family_name", "given_canonical", "birth_year"}, 3000
    )
    chosen = next(c for c in choices if c.name.startswith("given name (canonical) + family name"))
    assert chosen.used
    assert "birth_year" in chosen.sql
    assert chosen.pairs <= 1_000_000


def test_candidates_have_unique_names() -> None:
    names = [c.name for c in CANDIDATES]
    assert len(names) == len(set(names))


def test_training_rules_follow_the_fields() -> None:
    assert [
        d for d, _ in training_rules({"birth_date_text", "given_canonical", "family_name"})
    ] == [
        "same birth date",
        "same given name (canonical) and family name",
    ]
    assert [d for d, _ in training_rules({"postcode", "birth_year"})] == [
        "same postcode",
        "same birth year",
    ]
