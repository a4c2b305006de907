"""Blood lead results made comparable, and the outcome a model learns: an elevated test.

* `clean_results` reads the context's `lead_test` rows (with their event's person and
  area) into `lead_result`: one row per usable result in µg/dL. A result in another unit
  (the event's `Unit` attribute, when the partner sends one) is converted; a value that
  cannot be a blood lead level, a unit nobody knows, a missing result or a sample date in
  the future is a field issue in `lead_issue` (naming the row, field and value), not a
  result.
* `screening_episodes` turns results into what a prediction is about: a screening test
  (a venous test that confirms an earlier raised capillary result is not a new screen),
  elevated when its result reaches the reference value in force at its date and, for a
  capillary or unknown sample, when a venous test of the same child within
  `confirm_days` confirms it (configurable).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from sectorlink.insights.lead.reference import UMOL_PER_L_TO_UG_DL, ReferenceValues

MAX_PLAUSIBLE_UG_DL = 200.0
"""Above this no living child's blood lead has been reported; such a value is an error."""

# Units as partners write them, lower case without spaces, to the factor giving µg/dL.
UNIT_FACTORS = {
    "ug/dl": 1.0,
    "µg/dl": 1.0,
    "μg/dl": 1.0,
    "mcg/dl": 1.0,
    "microgramsperdecilitre": 1.0,
    "ug/l": 0.1,
    "µg/l": 0.1,
    "μg/l": 0.1,
    "umol/l": UMOL_PER_L_TO_UG_DL,
    "µmol/l": UMOL_PER_L_TO_UG_DL,
    "μmol/l": UMOL_PER_L_TO_UG_DL,
    "micromol/l": UMOL_PER_L_TO_UG_DL,
}
_UNIT_KEYS = ("Unit", "unit", "Units", "units", "ResultUnit", "result_unit")


@dataclass(frozen=True)
class ResultCounts:
    results: int
    issues: int
    converted: int
    without_person: int
    without_property: int


def _unit_sql() -> str:
    keys = ", ".join(f"json_extract_string(e.attributes, '$.{k}')" for k in _UNIT_KEYS)
    return f"lower(replace(coalesce({keys}), ' ', ''))"


def clean_results(
    con: duckdb.DuckDBPyConnection,
    *,
    today: dt.date | None = None,
    max_plausible: float = MAX_PLAUSIBLE_UG_DL,
) -> ResultCounts:
    """Fill `lead_result` and `lead_issue` (temporary tables) from `lead_test` + `event`."""
    today = today or dt.date.today()
    factors = ", ".join(f"('{unit}', {factor!r})" for unit, factor in UNIT_FACTORS.items())
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _lead_raw AS
        SELECT t.source, t.event_id, e.person_key,
               nullif(trim(t.property_id), '') AS property_id, e.area,
               coalesce(t.sample_date::DATE, e.start_time::DATE) AS sample_date,
               coalesce(t.sample_type, 'unknown') AS sample_type,
               t.result_ug_dl AS reported, {_unit_sql()} AS unit, u.factor
        FROM lead_test t
        LEFT JOIN event e USING (source, event_id)
        LEFT JOIN (VALUES {factors}) u(unit_key, factor)
          ON u.unit_key = {_unit_sql()}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lead_issue AS
        SELECT source, event_id, field, value, issue FROM (
            SELECT source, event_id, 'result_ug_dl' AS field, NULL AS value,
                   'no result' AS issue, 1 AS priority FROM _lead_raw WHERE reported IS NULL
            UNION ALL
            SELECT source, event_id, 'unit', unit,
                   'unit not recognised (known: ' || {", ".join(sorted(UNIT_FACTORS))!r} || ')', 2
            FROM _lead_raw WHERE unit IS NOT NULL AND factor IS NULL
            UNION ALL
            SELECT source, event_id, 'result_ug_dl', CAST(reported AS VARCHAR),
                   CASE WHEN reported * coalesce(factor, 1) < 0 THEN 'a negative blood lead level'
                        ELSE 'above ' || {max_plausible!r} || ' µg/dL: not a possible blood '
                             || 'lead level' END, 3
            FROM _lead_raw
            WHERE (unit IS NULL OR factor IS NOT NULL)
              AND (reported * coalesce(factor, 1) < 0
                   OR reported * coalesce(factor, 1) > {max_plausible!r})
            UNION ALL
            SELECT source, event_id, 'sample_date', CAST(sample_date AS VARCHAR),
                   'in the future (after ' || '{today.isoformat()}' || ')', 4
            FROM _lead_raw WHERE sample_date > DATE '{today.isoformat()}'
            UNION ALL
            SELECT source, event_id, 'sample_date', NULL, 'no sample date', 5
            FROM _lead_raw WHERE sample_date IS NULL
        ) ORDER BY source, event_id, priority"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE lead_result AS
        SELECT r.source, r.event_id, r.person_key, r.property_id, r.area, r.sample_date,
               r.sample_type, round(r.reported * coalesce(r.factor, 1), 2) AS result_ug_dl,
               coalesce(r.unit, 'ug/dl') AS unit_as_sent, coalesce(r.factor, 1) <> 1 AS converted
        FROM _lead_raw r
        WHERE NOT EXISTS (SELECT 1 FROM lead_issue i
                          WHERE i.source = r.source AND i.event_id = r.event_id)"""
    )
    con.execute("DROP TABLE _lead_raw")
    row = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE converted),
                  count(*) FILTER (WHERE person_key IS NULL),
                  count(*) FILTER (WHERE property_id IS NULL),
                  (SELECT count(DISTINCT (source, event_id)) FROM lead_issue)
        FROM lead_result"""
    ).fetchall()[0]
    # (fetchall, not fetchone: an unfinished result would block the next register)
    return ResultCounts(
        results=int(row[0]),
        converted=int(row[1]),
        without_person=int(row[2]),
        without_property=int(row[3]),
        issues=int(row[4]),
    )


def screening_episodes(
    con: duckdb.DuckDBPyConnection,
    reference: ReferenceValues,
    *,
    confirm_capillary: bool = True,
    confirm_days: int = 90,
    table: str = "lead_episode",
) -> None:
    """Fill `table` (default `lead_episode`) from `lead_result`: one row per screening
    test of a child.

    Columns: `source, event_id, person_key, property_id, area, sample_date, sample_type,
    result_ug_dl, reference_value` (in force at the sample date), `raised` (the result
    reaches it), `confirmed` (a venous result of the child reaching the value in force at
    its own date, within `confirm_days` after), `elevated` (raised, and venous, or
    confirmed, or `confirm_capillary` off)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _lead_ref AS
        SELECT *, {reference.sql("sample_date")} AS reference_value,
               result_ug_dl >= {reference.sql("sample_date")} AS raised
        FROM lead_result WHERE person_key IS NOT NULL"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        WITH follow AS (
            SELECT c.source, c.event_id,
                   bool_or(v.raised) AS confirmed, count(v.event_id) > 0 AS followed
            FROM _lead_ref c JOIN _lead_ref v
              ON v.person_key = c.person_key AND v.sample_type = 'venous'
             AND v.sample_date > c.sample_date
             AND v.sample_date <= c.sample_date + INTERVAL {int(confirm_days)} DAY
            WHERE c.sample_type <> 'venous' AND c.raised
            GROUP BY ALL
        ), confirming AS (
            -- a venous test that follows a raised capillary screen confirms it: not a screen
            SELECT DISTINCT v.source, v.event_id
            FROM _lead_ref v JOIN _lead_ref c
              ON v.person_key = c.person_key AND c.sample_type <> 'venous' AND c.raised
             AND v.sample_date > c.sample_date
             AND v.sample_date <= c.sample_date + INTERVAL {int(confirm_days)} DAY
            WHERE v.sample_type = 'venous'
        )
        SELECT r.source, r.event_id, r.person_key, r.property_id, r.area, r.sample_date,
               r.sample_type, r.result_ug_dl, r.reference_value, coalesce(r.raised, false)
               AS raised, coalesce(f.confirmed, false) AS confirmed,
               coalesce(r.raised, false) AND (r.sample_type = 'venous' OR coalesce(f.confirmed,
               false) OR NOT {str(bool(confirm_capillary)).upper()}) AS elevated
        FROM _lead_ref r LEFT JOIN follow f USING (source, event_id)
        WHERE NOT EXISTS (SELECT 1 FROM confirming c
                          WHERE c.source = r.source AND c.event_id = r.event_id)"""
    )
    con.execute("DROP TABLE _lead_ref")
