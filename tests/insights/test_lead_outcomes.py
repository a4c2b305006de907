"""Outcomes: units, impossible values, future dates, venous confirmation, and the
reference value in force at each test's date."""

from __future__ import annotations

import datetime as dt

import pytest

from sectorlink.insights.lead.outcomes import clean_results, screening_episodes
from sectorlink.insights.lead.reference import DEFAULT_REFERENCE_VALUES, ReferenceValues
from sectorlink.insights.lead.testing import day, lead_con

TODAY = dt.date(2026, 1, 1)


def results(con):  # type: ignore[no-untyped-def]
    return con.execute("SELECT * FROM lead_result ORDER BY event_id").df().set_index("event_id")


def issues(con):  # type: ignore[no-untyped-def]
    return con.execute("SELECT * FROM lead_issue ORDER BY event_id").df().set_index("event_id")


def test_reference_value_in_force_changes_on_28_october_2021() -> None:
    ref = DEFAULT_REFERENCE_VALUES
    assert ref.on(day("2021-10-27")) == 5.0
    assert ref.on(day("2021-10-28")) == 3.5
    assert ref.on(day("2012-01-01")) == 5.0
    with pytest.raises(ValueError, match="no blood lead reference value was in force"):
        ref.on(day("2011-12-31"))
    parsed = ReferenceValues.parse("2012-01-01:5,2021-10-28:3.5")
    assert parsed == ref
    with pytest.raises(ValueError, match="DATE:VALUE"):
        ReferenceValues.parse("5 then 3.5")
    with pytest.raises(ValueError, match="in order"):
        ReferenceValues.parse("2021-10-28:3.5,2012-01-01:5")


def test_micromoles_are_converted_and_unknown_units_are_field_issues() -> None:
    con = lead_con(
        [
            {"id": "a", "child": "c1", "date": "2023-01-05", "result": 0.25, "unit": "µmol/L"},
            {"id": "b", "child": "c2", "date": "2023-01-05", "result": 4.0, "unit": "ug/dL"},
            {"id": "c", "child": "c3", "date": "2023-01-05", "result": 4.0, "unit": "ppm"},
            {"id": "d", "child": "c4", "date": "2023-01-05", "result": 40.0, "unit": "ug/L"},
        ]
    )
    counts = clean_results(con, today=TODAY)
    kept = results(con)
    assert kept.loc["a", "result_ug_dl"] == pytest.approx(0.25 * 20.72, abs=0.01)
    assert kept.loc["b", "result_ug_dl"] == 4.0
    assert kept.loc["d", "result_ug_dl"] == pytest.approx(4.0)
    assert "c" not in kept.index
    assert issues(con).loc["c", "field"] == "unit"
    assert "ppm" in issues(con).loc["c", "value"]
    assert counts.converted == 2 and counts.issues == 1


def test_impossible_missing_and_future_results_are_issues_not_results() -> None:
    con = lead_con(
        [
            {"id": "neg", "child": "c1", "date": "2023-01-05", "result": -1.0},
            {"id": "huge", "child": "c2", "date": "2023-01-05", "result": 950.0},
            {"id": "none", "child": "c3", "date": "2023-01-05", "result": None},
            {"id": "future", "child": "c4", "date": "2031-02-01", "result": 2.0},
            {"id": "ok", "child": "c5", "date": "2023-01-05", "result": 0.5},
        ]
    )
    clean_results(con, today=TODAY)
    assert list(results(con).index) == ["ok"]
    found = issues(con)
    assert found.loc["neg", "issue"] == "a negative blood lead level"
    assert "not a possible blood lead level" in found.loc["huge", "issue"]
    assert found.loc["none", "issue"] == "no result"
    assert found.loc["future", "field"] == "sample_date"
    assert "in the future" in found.loc["future", "issue"]


def _episodes(con, **kwargs):  # type: ignore[no-untyped-def]
    clean_results(con, today=TODAY)
    screening_episodes(con, DEFAULT_REFERENCE_VALUES, **kwargs)
    return con.execute("SELECT * FROM lead_episode ORDER BY event_id").df().set_index("event_id")


def test_capillary_counts_only_when_a_venous_test_confirms_it() -> None:
    tests = [
        # confirmed: raised capillary, raised venous three weeks later
        {"id": "c1cap", "child": "k1", "date": "2023-03-01", "result": 6.0, "type": "capillary"},
        {"id": "c1ven", "child": "k1", "date": "2023-03-22", "result": 5.1, "type": "venous"},
        # contaminated: raised capillary, venous below the value
        {"id": "c2cap", "child": "k2", "date": "2023-03-01", "result": 7.0, "type": "capillary"},
        {"id": "c2ven", "child": "k2", "date": "2023-03-20", "result": 1.1, "type": "venous"},
        # never followed up
        {"id": "c3cap", "child": "k3", "date": "2023-03-01", "result": 6.0, "type": "capillary"},
        # a venous screen stands alone
        {"id": "v4", "child": "k4", "date": "2023-03-01", "result": 4.0, "type": "venous"},
    ]
    on = _episodes(lead_con(tests))
    # the confirming venous tests are not screens of their own
    assert sorted(on.index) == ["c1cap", "c2cap", "c3cap", "v4"]
    assert on["elevated"].to_dict() == {"c1cap": True, "c2cap": False, "c3cap": False, "v4": True}
    off = _episodes(lead_con(tests), confirm_capillary=False)
    assert bool(off.loc["c3cap", "elevated"]) and bool(off.loc["c2cap", "elevated"])


def test_elevated_uses_the_reference_value_in_force_at_the_sample_date() -> None:
    tests = [
        {"id": "before", "child": "k1", "date": "2021-10-27", "result": 4.0},
        {"id": "after", "child": "k2", "date": "2021-10-28", "result": 4.0},
    ]
    on = _episodes(lead_con(tests))
    assert on.loc["before", "reference_value"] == 5.0
    assert not on.loc["before", "elevated"]
    assert on.loc["after", "reference_value"] == 3.5
    assert on.loc["after", "elevated"]
