"""Housing status read in time order, and the exit horizon estimated from the HMIS itself
(hand-made contexts: the helpers build the tables the status reads)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sectorlink.insights.homelessness import StatusRules, attendance_status
from sectorlink.insights.homelessness.spells import DEFAULT_HORIZON_DAYS, MIN_ENDED_SPELLS
from sectorlink.insights.homelessness.status import applied_horizon

from .test_homeless_status import context, known, status_of


def _day(start: str, days: int) -> str:
    return (dt.date.fromisoformat(start) + dt.timedelta(days=days)).isoformat()


def test_a_contact_on_the_street_is_old_news_once_the_client_is_housed() -> None:
    con = context(
        [
            ("A1", "p", "2024-03-15"),  # 24 days after a street contact, 14 after housing
            ("A2", "q", "2024-03-15"),  # the same, but q left for the street
        ],
        [
            ("p", "4", "2024-01-01", "2024-03-01", "410"),
            ("q", "4", "2024-01-01", "2024-03-01", "116"),
        ],
        [("p", "2024-02-20", "116"), ("q", "2024-02-20", "116")],
        nfa={"A1": False, "A2": False},
    )
    status = status_of(con, StatusRules(contact_days=90, exit_homeless_days=30))
    assert not status.at["A1", "known_to_services"]
    assert status.at["A1", "status"] == "housed"
    assert status.at["A2", "known_to_services"]
    assert status.at["A2", "status"] == "literally homeless"


def test_the_hospital_marker_makes_a_former_client_known_again() -> None:
    con = context(
        [
            ("A1", "p", "2024-06-01"),  # a year after being housed: the hospital wrote NFA
            ("A2", "p", "2024-07-01"),  # a fixed address again
            ("A3", "r", "2024-06-01"),  # an open prevention client now of no fixed abode
        ],
        [
            ("p", "0", "2023-01-01", "2023-03-01", "410"),
            ("r", "12", "2024-05-01", None, ""),
        ],
        nfa={"A1": True, "A2": False, "A3": True},
    )
    status = status_of(con)
    assert status.at["A1", "known_to_services"]
    assert status.at["A1", "status"] == "literally homeless"
    assert status.at["A1", "evidence"] == (
        "hospital recorded no fixed abode; client since 2023-01-01"
    )
    assert known(con).at["A1", "provider_record_id"] == "C-p"
    assert not status.at["A2", "known_to_services"]
    assert status.at["A3", "known_to_services"]  # homeless now, whatever the project was


def _spells(n: int) -> list[tuple[str, str, str, str | None, str]]:
    """n clients housed after 100, 110, ... days in a shelter (median: the 13th of 25)."""
    return [(f"s{i}", "0", "2022-01-01", _day("2022-01-01", 100 + 10 * i), "410") for i in range(n)]


def test_the_exit_horizon_is_the_median_spell_length_in_the_hmis() -> None:
    exit_day = "2023-02-01"
    con = context(
        [("A1", "p", _day(exit_day, 215)), ("A2", "p", _day(exit_day, 225))],
        [*_spells(25), ("p", "4", "2023-01-01", exit_day, "116")],
    )
    status = status_of(con)
    horizon, nfa_days = applied_horizon(con)
    # 26 spells (p's is censored at its exit), 25 ended; half ended by day 220
    assert (horizon.days, horizon.spells, horizon.ended) == (220, 26, 25)
    assert horizon.source == "estimated" and nfa_days == 220
    assert "median length of a spell" in horizon.describe()
    assert status.at["A1", "known_to_services"]
    assert not status.at["A2", "known_to_services"]
    # a horizon given is used as given, and said so
    given = status_of(con, StatusRules(exit_homeless_days=100))
    assert not given.at["A1", "known_to_services"]
    assert applied_horizon(con)[0].source == "given"


def test_too_few_ended_spells_fall_back_to_the_default_and_say_so() -> None:
    con = context(
        [("A1", "p", "2023-06-01")],
        [*_spells(MIN_ENDED_SPELLS - 1), ("p", "4", "2023-01-01", "2023-02-01", "116")],
    )
    attendance_status(con)
    horizon, _ = applied_horizon(con)
    assert horizon.days == DEFAULT_HORIZON_DAYS and horizon.source == "default"
    assert f"{MIN_ENDED_SPELLS - 1} of {MIN_ENDED_SPELLS} spells" in horizon.describe()


def test_a_spell_returning_after_housing_is_a_new_spell() -> None:
    # q was housed after 50 days, homeless again a year later for a spell still open
    con = context(
        [("A1", "q", "2024-01-01")],
        [
            *_spells(MIN_ENDED_SPELLS),
            ("q", "0", "2022-01-01", "2022-02-20", "410"),
            ("q", "0", "2023-03-01", None, ""),
        ],
    )
    attendance_status(con)
    horizon, _ = applied_horizon(con)
    assert horizon.spells == MIN_ENDED_SPELLS + 2
    assert horizon.ended == MIN_ENDED_SPELLS + 1


def test_rules_refuse_a_horizon_that_is_not_a_number_of_days() -> None:
    with pytest.raises(ValueError, match="exit_homeless_days"):
        StatusRules(exit_homeless_days=-5)
    with pytest.raises(ValueError, match="nfa_days"):
        StatusRules(nfa_days=True)
    assert pd.isna(StatusRules().exit_homeless_days)
