"""Health use before and after legal help, against a matched comparison group.

People helped: screened with a need and reached legal intake in the period; their index
date is their first intake. Comparison pool: people screened with a need in the period
who reached no intake; their index date is their first screening with a need plus the
median days from screening to intake among the helped, so both groups are followed from
the same point after screening. Each group's A&E attendances and ambulance call-outs are
counted in the `window` days before and after the index date; only people whose whole
before and after windows fall inside the data are kept.

Matching is exact on age band, sex, neighbourhood and prior use (A&E plus ambulance
contacts before: 0, 1, 2 or more); a stratum with people of both groups is kept, and its
comparison people are weighted to its number of helped people (coarsened exact
matching), so the comparison means are the helped group's mix of strata. This is an
observational comparison, not a trial: people who reach legal help differ in ways the
matching does not see.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from sectorlink.insights.mlp.cases import CASE_TABLE
from sectorlink.model.sql import literal_list as _in

AE_TYPES = ("ae_attendance", "ae_assault", "mental_health_crisis")
AMBULANCE_TYPES = ("ambulance_callout",)
NOT_A_TRIAL = (
    "Health use before and after legal help is an observational comparison with matched "
    "people who were screened with a need but not helped; it is not a trial, and a "
    "difference is not proof that legal help caused it."
)


@dataclass
class HealthUse:
    """The before/after comparison. `table` has one row per group (`legal help`,
    `comparison`): `people` (distinct people behind the row: the support), the mean A&E
    attendances and ambulance call-outs per person before and after. `reportable` is False
    (with `reason`) when either group is under `min_group`: then nothing is published."""

    table: pd.DataFrame
    helped: int
    matched: int
    comparison_people: int
    lag_days: int
    window_days: int
    reportable: bool
    reason: str = ""

    def difference(self, kind: str) -> float | None:
        """Change after minus before among the helped, less the same in the comparison
        group (a difference in differences; per person over the window)."""
        if not self.reportable:
            return None
        rows = self.table.set_index("group")
        change = rows[f"{kind}_after"] - rows[f"{kind}_before"]
        return float(change["legal help"] - change["comparison"])


def health_use(
    con: duckdb.DuckDBPyConnection, *, window_days: int = 182, min_group: int = 8
) -> HealthUse:
    """Compare health use before and after legal intake (see the module docstring)."""
    lag_row = con.execute(
        f"""SELECT coalesce(round(median(intake_date - screen_date)), 0)
        FROM {CASE_TABLE} WHERE need AND legal_intake"""
    ).fetchall()[0]
    lag = int(lag_row[0]) if lag_row and lag_row[0] is not None else 0
    kinds = _in(AE_TYPES + AMBULANCE_TYPES)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE mlp_health_index AS
        WITH bounds AS (
            SELECT min(start_time)::DATE AS first_day, max(start_time)::DATE AS last_day
            FROM event WHERE event_type IN {kinds}
        ), helped AS (
            SELECT person_key, 'legal help' AS grp, min(intake_date) AS index_date
            FROM {CASE_TABLE} WHERE need AND legal_intake AND person_key IS NOT NULL
            GROUP BY person_key
        ), pool AS (
            SELECT person_key, 'comparison' AS grp,
                   min(screen_date) + INTERVAL ({lag}) DAY AS index_date
            FROM {CASE_TABLE} WHERE need AND person_key IS NOT NULL
            GROUP BY person_key
            HAVING NOT bool_or(legal_intake)
        ), people AS (
            SELECT person_key, grp, index_date::DATE AS index_date FROM helped
            UNION ALL SELECT person_key, grp, index_date::DATE FROM pool
        )
        SELECT p.*, c.sex, c.neighbourhood,
               CASE WHEN c.birth_year IS NULL THEN 'unknown'
                    WHEN year(p.index_date) - c.birth_year < 18 THEN '0-17'
                    WHEN year(p.index_date) - c.birth_year < 35 THEN '18-34'
                    WHEN year(p.index_date) - c.birth_year < 50 THEN '35-49'
                    WHEN year(p.index_date) - c.birth_year < 65 THEN '50-64'
                    ELSE '65+' END AS age_band,
               (p.index_date - INTERVAL ({window_days}) DAY >= b.first_day
                AND p.index_date + INTERVAL ({window_days}) DAY <= b.last_day) AS followed
        FROM people p CROSS JOIN bounds b
        JOIN (SELECT person_key, any_value(sex) AS sex, any_value(neighbourhood) AS neighbourhood,
                     any_value(birth_year) AS birth_year
              FROM {CASE_TABLE} GROUP BY person_key) c USING (person_key)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE mlp_health_use AS
        SELECT i.*,
            count(e.event_id) FILTER (WHERE e.event_type IN {_in(AE_TYPES)}
                AND e.start_time < i.index_date) AS ae_before,
            count(e.event_id) FILTER (WHERE e.event_type IN {_in(AE_TYPES)}
                AND e.start_time >= i.index_date) AS ae_after,
            count(e.event_id) FILTER (WHERE e.event_type IN {_in(AMBULANCE_TYPES)}
                AND e.start_time < i.index_date) AS ambulance_before,
            count(e.event_id) FILTER (WHERE e.event_type IN {_in(AMBULANCE_TYPES)}
                AND e.start_time >= i.index_date) AS ambulance_after
        FROM mlp_health_index i
        LEFT JOIN event e ON e.person_key = i.person_key AND e.event_type IN {kinds}
             AND e.start_time >= i.index_date - INTERVAL ({window_days}) DAY
             AND e.start_time < i.index_date + INTERVAL ({window_days}) DAY
        WHERE i.followed
        GROUP BY ALL"""
    )
    table = con.execute(
        """WITH banded AS (
            SELECT *, CASE WHEN ae_before + ambulance_before >= 2 THEN '2+'
                           ELSE CAST(ae_before + ambulance_before AS VARCHAR) END AS prior
            FROM mlp_health_use
        ), strata AS (
            SELECT age_band, sex, neighbourhood, prior,
                   count(*) FILTER (WHERE grp = 'legal help') AS n_helped,
                   count(*) FILTER (WHERE grp = 'comparison') AS n_comparison
            FROM banded GROUP BY ALL
            HAVING n_helped > 0 AND n_comparison > 0
        ), weighted AS (
            SELECT b.*, CASE WHEN b.grp = 'legal help' THEN 1.0
                             ELSE s.n_helped / s.n_comparison END AS w
            FROM banded b JOIN strata s USING (age_band, sex, neighbourhood, prior)
        )
        SELECT grp AS "group", count(*) AS people,
               sum(w * ae_before) / sum(w) AS ae_before,
               sum(w * ae_after) / sum(w) AS ae_after,
               sum(w * ambulance_before) / sum(w) AS ambulance_before,
               sum(w * ambulance_after) / sum(w) AS ambulance_after
        FROM weighted GROUP BY grp ORDER BY grp DESC"""
    ).df()
    counts = con.execute(
        "SELECT count(*) FILTER (WHERE grp = 'legal help') FROM mlp_health_use"
    ).fetchall()[0]
    helped = int(counts[0]) if counts else 0
    people = dict(zip(table["group"], table["people"].astype(int), strict=True))
    matched, comparison = people.get("legal help", 0), people.get("comparison", 0)
    result = HealthUse(
        table=table,
        helped=helped,
        matched=matched,
        comparison_people=comparison,
        lag_days=lag,
        window_days=window_days,
        reportable=True,
    )
    if matched < min_group or comparison < min_group:
        result.reportable = False
        small = "the comparison group" if comparison < min_group else "the helped group"
        if matched < min_group and comparison < min_group:
            small = "both groups"
        # The note leaves the hub: it says which group is short, never the small count.
        result.reason = (
            f"not reported: {small} matched fewer than {min_group} people (matching is "
            f"exact on age band, sex, neighbourhood and prior use, with {window_days} days "
            "of data either side of the index date)"
        )
    return result
