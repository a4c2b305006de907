"""Strong contradictions: what vetoes a link and what a typo or nickname explains."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from linkage_helpers import insert_records, nhs_number, person

from sectorlink.identity import standardise
from sectorlink.linkage.contradictions import contradiction_sql, pair_projection
from sectorlink.linkage.fields import LINKAGE_FIELDS
from sectorlink.model import model_ddl

D = dt.date(1980, 5, 17)


def kind(left: dict[str, object], right: dict[str, object]) -> str | None:
    con = duckdb.connect()
    for statement in model_ddl():
        con.execute(statement)
    insert_records(con, [{**left, "record_id": "1"}, {**right, "record_id": "2"}])
    con.execute(f"CREATE TABLE std AS {standardise(con).sql_query()}")
    rule = contradiction_sql(set(LINKAGE_FIELDS))
    rows = con.execute(
        f"""SELECT ({rule}) FROM (SELECT {pair_projection("a", "b")}
            FROM std a JOIN std b ON a.unique_id = 1 AND b.unique_id = 2)"""
    ).fetchall()
    return rows[0][0]


def p(given: str | None, family: str | None = "smith", born: dt.date | None = D, **kw: object):
    return person("a", "x", given, family, born, **kw)


def test_twins_are_a_contradiction() -> None:
    assert kind(p("oliver"), p("harriet")) == "twins"


def test_twins_on_a_day_month_swapped_date_are_a_contradiction() -> None:
    assert (
        kind(p("oliver", born=dt.date(1980, 3, 4)), p("harriet", born=dt.date(1980, 4, 3)))
        == "twins"
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("robert", "bob"),  # nickname table
        ("karen", "kaz"),  # same initial: never clearly different
        ("jon", "jonathan"),
        ("oliver", "olivre"),  # typo
    ],
)
def test_names_a_nickname_or_typo_explains_are_not_twins(left: str, right: str) -> None:
    assert kind(p(left), p(right)) is None


def test_swapped_names_with_a_typo_are_not_twins() -> None:
    assert kind(p("harriet", "smith"), p("smyth", "harriet")) is None


def test_middle_name_used_as_first_name_is_not_twins() -> None:
    assert kind(p("harriet", middle_names="chloe"), p("chlpe")) is None


def test_parent_and_child_are_a_contradiction() -> None:
    assert (
        kind(p("john", born=dt.date(1960, 1, 1)), p("john", born=dt.date(1991, 6, 2)))
        == "birth_gap"
    )


def test_age_range_gap_is_a_contradiction() -> None:
    child = p("john", born=None, age_years=10, age_at_date=dt.date(2024, 1, 1))
    assert kind(p("john", born=dt.date(1960, 1, 1)), child) == "birth_gap"


def test_small_birth_gap_is_not_a_contradiction() -> None:
    assert kind(p("john", born=dt.date(1980, 1, 1)), p("john", born=dt.date(1985, 1, 1))) is None


def test_different_valid_nhs_numbers_are_a_contradiction() -> None:
    assert kind(
        p("john", nhs_number=nhs_number(123456780)), p("john", nhs_number=nhs_number(223456780))
    ) == ("nhs_number")


def test_invalid_nhs_number_is_no_evidence() -> None:
    valid = nhs_number(123456780)
    mistyped = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert kind(p("john", nhs_number=valid), p("john", nhs_number=mistyped)) is None


def test_a_shared_national_number_overrides_name_and_date_contradictions() -> None:
    same = nhs_number(323456780)
    assert kind(p("oliver", nhs_number=same), p("harriet", nhs_number=same)) is None
    old = p("john", born=dt.date(1940, 1, 1), nhs_number=same)
    assert kind(old, p("john", born=dt.date(1990, 1, 1), nhs_number=same)) is None


def test_ssn_one_digit_apart_is_a_typo_not_a_contradiction() -> None:
    assert kind(p("john", ssn="123-45-6780"), p("john", ssn="123-45-6781")) is None
    assert kind(p("john", ssn="123-45-6780"), p("john", ssn="223-55-6781")) == "ssn"


def test_first_of_january_says_nothing_about_twins() -> None:
    # 1 January is what many systems write for an unknown day and month
    same_day = kind(p("oliver", born=dt.date(1980, 1, 1)), p("harriet", born=dt.date(1980, 1, 1)))
    # not twins; the names alone still keep them out of one cluster unless bridged
    assert same_day == "given_name"


def test_clearly_different_first_names_without_a_shared_identifier_contradict() -> None:
    assert kind(p("oliver", born=None), p("harriet", born=None)) == "given_name"
    # a nickname, an initial or a shared NHS number explains the difference
    assert kind(p("robert", born=None), p("bob", born=None)) is None
    assert kind(p("oliver", born=None), p("o", born=None)) is None
    nhs = {"nhs_number": "9434765919"}
    assert kind(p("oliver", born=None, **nhs), p("harriet", born=None, **nhs)) is None


def test_a_mistyped_year_is_not_a_birth_gap() -> None:
    # 1853 keyed as 1823: thirty years apart, but one keystroke
    assert kind(p("john", born=dt.date(1853, 3, 31)), p("john", born=dt.date(1823, 3, 31))) is None


def test_a_name_the_other_record_gives_as_an_alias_is_no_contradiction() -> None:
    # A homeless service knows her as Kimberley, her registered name Zoe in its alias.
    assert kind(p("kimberley"), p("zoe")) == "twins"
    assert kind(p("kimberley", alias="Zoe Smith"), p("zoe")) is None
    assert kind(p("zoe"), p("kimberley", alias="Zoe Ferrell; Kim Jones")) is None
