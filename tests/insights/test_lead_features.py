"""Point-in-time features: nothing dated on or after the prediction date is used."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from sectorlink.insights.lead.features import FEATURES, load_points, point_features
from sectorlink.insights.lead.outcomes import clean_results, screening_episodes
from sectorlink.insights.lead.reference import DEFAULT_REFERENCE_VALUES as REF
from sectorlink.insights.lead.score import lead_context
from sectorlink.insights.lead.testing import SOURCE, lead_con

TABLE_DATES = {
    "event": "start_time",
    "lead_test": "sample_date",
    "property_inspection": "inspection_date",
}


def _points(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """SELECT source || '/' || event_id AS point_id, source, person_key, property_id,
                  area, sample_date AS as_of, CAST(NULL AS DOUBLE) AS age_months
           FROM lead_episode ORDER BY point_id"""
    ).df()


def _features(con: duckdb.DuckDBPyConnection, points: pd.DataFrame) -> pd.DataFrame:
    load_points(con, points)
    return point_features(con, REF).set_index("point_id")


def _truncated(con: duckdb.DuckDBPyConnection, cutoff: pd.Timestamp) -> duckdb.DuckDBPyConnection:
    """A copy of the context's tables holding only what is dated before `cutoff`."""
    copy = duckdb.connect(":memory:")
    for table in ("event", "lead_test", "property", "property_inspection", "person"):
        where = f"WHERE {TABLE_DATES[table]} < ?" if table in TABLE_DATES else ""
        frame = con.execute(f"SELECT * FROM {table} {where}", [cutoff] if where else []).df()
        copy.register("_t", frame)
        copy.execute(f"CREATE TABLE {table} AS SELECT * FROM _t")
        copy.unregister("_t")
    return copy


@pytest.mark.slow  # recomputes the features on eight truncated copies of the region
def test_no_feature_uses_anything_dated_on_or_after_the_prediction_date(linked_region) -> None:  # type: ignore[no-untyped-def]
    registry = linked_region.registry()
    try:
        ctx = lead_context(linked_region.warehouse, registry, linked_region.organisation)
    finally:
        registry.close()
    con = ctx.con
    clean_results(con)
    screening_episodes(con, REF)
    points = _points(con)
    full = _features(con, points)
    # The classic leak: an elevated child's home inspected (hazard found) after the test
    # the inspection was triggered by. Those prediction dates are the cutoffs checked,
    # with a spread of others.
    triggered = con.execute(
        """SELECT DISTINCT e.source || '/' || e.event_id AS point_id, e.sample_date
           FROM lead_episode e JOIN property_inspection i
             ON i.source = e.source AND i.property_id = e.property_id
            AND i.inspection_date > e.sample_date
            AND i.inspection_date <= e.sample_date + INTERVAL 90 DAY
           WHERE e.raised AND i.lead_hazard_found ORDER BY 2"""
    ).df()
    assert len(triggered) >= 3, "the region should hold inspections after raised tests"
    rng = np.random.default_rng(1)
    others = points["as_of"].iloc[rng.choice(len(points), 4, replace=False)]
    cutoffs = sorted(set(triggered["sample_date"].head(4)) | set(others))
    checked = 0
    for cutoff in cutoffs:
        at = points[points["as_of"] == cutoff]
        copy = _truncated(con, pd.Timestamp(cutoff))
        clean_results(copy)
        again = _features(copy, at)
        pdt.assert_frame_equal(again, full.loc[again.index], check_dtype=False)
        checked += len(at)
    assert checked >= len(cutoffs)
    # and the triggered inspection's finding is indeed not counted at its own test
    leak = full.loc[triggered["point_id"].head(4)]
    after = con.execute(
        "SELECT count(*) FROM property_inspection WHERE lead_hazard_found"
    ).fetchall()[0][0]
    assert after > leak["hazards_found_before"].sum()


def test_features_count_only_earlier_rows_and_keep_unknowns_unknown() -> None:
    con = lead_con(
        [
            {"id": "t1", "child": "k1", "date": "2022-03-01", "result": 6.0, "property": "p1"},
            {"id": "t2", "child": "k1", "date": "2023-03-01", "result": 2.0, "property": "p1"},
            {"id": "t3", "child": "k2", "date": "2023-06-01", "result": 1.0, "property": "p2"},
            {"id": "t4", "child": "k3", "date": "2023-06-01", "result": 1.0},
        ],
        properties=[
            {
                "property_id": "p1",
                "small_area": "A",
                "year_built": 1905,
                "condition": "poor",
                "tenure": "private_rented",
                "rented": True,
            },
            {
                "property_id": "p2",
                "small_area": "A",
                "year_built": None,
                "condition": None,
                "tenure": None,
                "rented": None,
            },
        ],
        inspections=[
            # triggered by t1, after it: must not count at t1, must at t2
            {
                "inspection_id": "i1",
                "property_id": "p1",
                "inspection_date": "2022-04-10",
                "lead_hazard_found": True,
                "violation_count": 2,
            },
        ],
        people=[{"person_key": "k1", "birth_month": "2021-01-01"}],
    )
    clean_results(con)
    screening_episodes(con, REF)
    f = _features(con, _points(con))
    first, second = f.loc[f"{SOURCE}/t1"], f.loc[f"{SOURCE}/t2"]
    assert first["hazards_found_before"] == 0 and first["violations_before"] == 0
    assert first["child_tests_before"] == 0 and np.isnan(first["child_max_before"])
    assert second["hazards_found_before"] == 1 and second["violations_before"] == 2
    assert second["child_tests_before"] == 1 and second["child_max_before"] == 6.0
    assert second["child_raised_before"] == 1
    assert first["year_built"] == 1905 and first["condition"] == 2 and first["tenure"] == 1
    assert first["age_months"] == 14 and second["age_months"] == 26
    # a home with no year built: unknown, not old and not new
    no_year = f.loc[f"{SOURCE}/t3"]
    assert np.isnan(no_year["year_built"]) and np.isnan(no_year["built_before_1978"])
    # another child's raised result at the same small area counts for k2 (t1 before t3)
    assert no_year["area_tests_before"] == 2 and no_year["area_raised_rate_before"] == 0.5
    # a child with no address: no home features, and no birth month: no age
    homeless = f.loc[f"{SOURCE}/t4"]
    assert np.isnan(homeless["year_built"]) and np.isnan(homeless["age_months"])
    assert list(f.columns) == list(FEATURES)


@pytest.mark.parametrize("missing", ["as_of", "person_key"])
def test_points_need_their_columns(missing: str) -> None:
    con = lead_con([])
    points = pd.DataFrame(
        {
            c: []
            for c in (
                "point_id",
                "source",
                "person_key",
                "property_id",
                "area",
                "as_of",
                "age_months",
            )
            if c != missing
        }
    )
    with pytest.raises(ValueError, match=missing):
        load_points(con, points)
