"""Point-in-time features: what was known about a child and their home before a date.

A *point* is one prediction: a child (or a home alone) at an `as_of` date. Every feature
is computed from rows dated strictly before `as_of` (inspections, earlier test results of
the child, of other children at the address and in the small area), or from the property
snapshot (year built, condition, tenure: the extract carries no dates for them) and the
child's birth month. Nothing dated on or after `as_of` is read, so an inspection that a
child's own raised result triggered cannot leak into that result's prediction; the test
`tests/insights/test_lead_features.py` proves it by deleting everything from each
prediction date on and recomputing.

`lead_point` (a temporary table the caller fills) has the columns `point_id, source,
person_key, property_id, area, as_of, age_months` (`age_months` NULL: from the child's
birth month; set: a fixed age, as for scoring a home for "a two-year-old living there").
"""

from __future__ import annotations

import duckdb
import pandas as pd

from sectorlink.insights.lead.reference import ReferenceValues

FEATURES: tuple[str, ...] = (
    "year_built",
    "built_before_1978",
    "condition",
    "tenure",
    "rented",
    "inspections_before",
    "violations_before",
    "lead_assessments_before",
    "hazards_found_before",
    "years_since_inspection",
    "child_tests_before",
    "child_venous_before",
    "child_max_before",
    "child_raised_before",
    "address_tests_before",
    "address_raised_before",
    "area_tests_before",
    "area_raised_rate_before",
    "area_old_housing_share",
    "age_months",
)
"""Model inputs, in order. `condition` is 0 good .. 3 dilapidated; `tenure` 0 owner
occupied, 1 private rented, 2 social rented (NULL when unknown)."""

CATEGORICAL: tuple[str, ...] = ("tenure",)

MONOTONE: dict[str, int] = {
    # Directions the evidence and the literature agree on; constraining them keeps a model
    # trained on a few hundred elevated tests from learning noise (and explains better).
    "year_built": -1,
    "built_before_1978": 1,
    "condition": 1,
    "violations_before": 1,
    "hazards_found_before": 1,
    "child_max_before": 1,
    "child_raised_before": 1,
    "address_raised_before": 1,
}

POINT_COLUMNS = ("point_id", "source", "person_key", "property_id", "area", "as_of", "age_months")


def load_points(con: duckdb.DuckDBPyConnection, points: pd.DataFrame) -> None:
    """Put `points` (the POINT_COLUMNS) into the temporary table `lead_point`."""
    missing = [c for c in POINT_COLUMNS if c not in points.columns]
    if missing:
        raise ValueError(f"points need the columns {', '.join(missing)}")
    con.register("_points", points[list(POINT_COLUMNS)])
    con.execute(
        """CREATE OR REPLACE TEMP TABLE lead_point AS
        SELECT CAST(point_id AS VARCHAR) AS point_id, CAST(source AS VARCHAR) AS source,
               CAST(person_key AS VARCHAR) AS person_key,
               CAST(property_id AS VARCHAR) AS property_id, CAST(area AS VARCHAR) AS area,
               CAST(as_of AS DATE) AS as_of, CAST(age_months AS DOUBLE) AS age_months
        FROM _points"""
    )
    con.unregister("_points")


def point_features(con: duckdb.DuckDBPyConnection, reference: ReferenceValues) -> pd.DataFrame:
    """One row per `lead_point`: `point_id` and the FEATURES, from `lead_result`,
    `property`, `property_inspection` and `person`."""
    raised = f"r.result_ug_dl >= {reference.sql('r.sample_date')}"
    return con.execute(
        f"""
        WITH results AS (
            SELECT r.*, coalesce({raised}, false) AS raised,
                   coalesce(pr.small_area, r.area) AS small_area
            FROM lead_result r
            LEFT JOIN property pr ON pr.source = r.source AND pr.property_id = r.property_id
        ), homes AS (
            SELECT p.point_id, p.as_of, pr.year_built, pr.condition, pr.tenure, pr.rented,
                   coalesce(pr.small_area, p.area) AS small_area
            FROM lead_point p
            LEFT JOIN property pr ON pr.source = p.source AND pr.property_id = p.property_id
        ), inspections AS (
            SELECT p.point_id, count(*) AS inspections_before,
                   sum(coalesce(i.violation_count, 0)) AS violations_before,
                   count(i.lead_hazard_found) AS lead_assessments_before,
                   count(*) FILTER (WHERE i.lead_hazard_found) AS hazards_found_before,
                   date_diff('day', max(i.inspection_date)::DATE, p.as_of) / 365.25
                       AS years_since_inspection
            FROM lead_point p JOIN property_inspection i
              ON i.source = p.source AND i.property_id = p.property_id
             AND i.inspection_date::DATE < p.as_of
            GROUP BY p.point_id, p.as_of
        ), child AS (
            SELECT p.point_id, count(*) AS child_tests_before,
                   count(*) FILTER (WHERE r.sample_type = 'venous') AS child_venous_before,
                   max(r.result_ug_dl) AS child_max_before,
                   count(*) FILTER (WHERE r.raised) AS child_raised_before
            FROM lead_point p JOIN results r
              ON r.person_key = p.person_key AND r.sample_date < p.as_of
            GROUP BY p.point_id
        ), address AS (
            SELECT p.point_id, count(*) AS address_tests_before,
                   count(*) FILTER (WHERE r.raised) AS address_raised_before
            FROM lead_point p JOIN results r
              ON r.source = p.source AND r.property_id = p.property_id
             AND r.sample_date < p.as_of
             AND r.person_key IS DISTINCT FROM p.person_key
            GROUP BY p.point_id
        ), area AS (
            SELECT h.point_id, count(*) AS area_tests_before,
                   avg(CASE WHEN r.raised THEN 1.0 ELSE 0.0 END) AS area_raised_rate_before
            FROM homes h JOIN lead_point p USING (point_id)
            JOIN results r ON r.small_area = h.small_area
             AND r.sample_date < p.as_of AND r.person_key IS DISTINCT FROM p.person_key
            GROUP BY h.point_id
        ), stock AS (
            SELECT small_area, avg(CASE WHEN year_built < 1978 THEN 1.0 ELSE 0.0 END)
                   AS area_old_housing_share
            FROM property WHERE year_built IS NOT NULL AND small_area IS NOT NULL
            GROUP BY small_area
        )
        SELECT p.point_id,
               CAST(h.year_built AS DOUBLE) AS year_built,
               CASE WHEN h.year_built IS NULL THEN NULL
                    WHEN h.year_built < 1978 THEN 1.0 ELSE 0.0 END AS built_before_1978,
               CASE h.condition WHEN 'good' THEN 0.0 WHEN 'fair' THEN 1.0
                    WHEN 'poor' THEN 2.0 WHEN 'dilapidated' THEN 3.0 END AS condition,
               CASE h.tenure WHEN 'owner_occupied' THEN 0.0 WHEN 'private_rented' THEN 1.0
                    WHEN 'social_rented' THEN 2.0 END AS tenure,
               CAST(h.rented AS DOUBLE) AS rented,
               coalesce(i.inspections_before, 0)::DOUBLE AS inspections_before,
               coalesce(i.violations_before, 0)::DOUBLE AS violations_before,
               coalesce(i.lead_assessments_before, 0)::DOUBLE AS lead_assessments_before,
               coalesce(i.hazards_found_before, 0)::DOUBLE AS hazards_found_before,
               i.years_since_inspection::DOUBLE AS years_since_inspection,
               coalesce(c.child_tests_before, 0)::DOUBLE AS child_tests_before,
               coalesce(c.child_venous_before, 0)::DOUBLE AS child_venous_before,
               c.child_max_before::DOUBLE AS child_max_before,
               coalesce(c.child_raised_before, 0)::DOUBLE AS child_raised_before,
               coalesce(a.address_tests_before, 0)::DOUBLE AS address_tests_before,
               coalesce(a.address_raised_before, 0)::DOUBLE AS address_raised_before,
               coalesce(ar.area_tests_before, 0)::DOUBLE AS area_tests_before,
               ar.area_raised_rate_before::DOUBLE AS area_raised_rate_before,
               s.area_old_housing_share::DOUBLE AS area_old_housing_share,
               coalesce(p.age_months, date_diff('month', pe.birth_month, p.as_of))::DOUBLE
                   AS age_months
        FROM lead_point p
        JOIN homes h USING (point_id)
        LEFT JOIN inspections i USING (point_id)
        LEFT JOIN child c USING (point_id)
        LEFT JOIN address a USING (point_id)
        LEFT JOIN area ar USING (point_id)
        LEFT JOIN stock s ON s.small_area = h.small_area
        LEFT JOIN person pe ON pe.person_key = p.person_key
        ORDER BY p.point_id"""
    ).df()
