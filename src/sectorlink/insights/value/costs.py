"""The cost of service use: every event in the period costed from the unit-cost table,
then totals and per-person costs by cohort, and how concentrated the cost is (the share
spent on the costliest 1% and 5% of residents)."""

from __future__ import annotations

import math

import duckdb
import pandas as pd

from sectorlink.insights.context import InsightContext
from sectorlink.insights.value.overlap import KNOWN_TABLE
from sectorlink.insights.value.unit_costs import UnitCostMissing, UnitCosts

COST_TABLE = "event_cost"
PERSON_COST_TABLE = "person_cost"


def missing_event_types(ctx: InsightContext, costs: UnitCosts) -> list[str]:
    """Event types with events in the period and no entry in the unit-cost table."""
    ctx.con.register("_unit_cost", costs.table)
    try:
        rows = ctx.con.execute(
            f"""SELECT DISTINCT e.event_type FROM event e
            WHERE {ctx.period_sql("e.start_time")}
              AND e.event_type NOT IN (SELECT event_type FROM _unit_cost)
            ORDER BY 1"""
        ).fetchall()
    finally:
        ctx.con.unregister("_unit_cost")
    return [r[0] for r in rows]


def cost_events(
    ctx: InsightContext, costs: UnitCosts, *, missing_as_zero: bool = False
) -> list[str]:
    """Create `event_cost` (every event in the period with its unit cost) and
    `person_cost` (per resident: events, total cost) and return the event types costed at
    zero for want of a unit cost.

    Raises:
        UnitCostMissing: an event type in the data has no unit cost and `missing_as_zero`
            is False.
    """
    missing = missing_event_types(ctx, costs)
    if missing and not missing_as_zero:
        raise UnitCostMissing(missing, costs.where)
    ctx.con.register("_unit_cost", costs.table)
    try:
        ctx.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {COST_TABLE} AS
            SELECT e.source, e.event_id, e.event_type, e.person_key, e.start_time,
                   coalesce(u.cost, 0.0) AS cost
            FROM event e LEFT JOIN _unit_cost u USING (event_type)
            WHERE {ctx.period_sql("e.start_time")}"""
        )
    finally:
        ctx.con.unregister("_unit_cost")
    ctx.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {PERSON_COST_TABLE} AS
        SELECT person_key, count(*) AS events, sum(cost) AS cost
        FROM {COST_TABLE} WHERE person_key IS NOT NULL GROUP BY person_key"""
    )
    return missing


def cost_by_event_type(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """`event_type, events, people, unit_cost, total_cost` (costs in whole units of the
    currency: a funder reads 7,637,100, not 7.64e+06)."""
    return con.execute(
        f"""SELECT event_type, count(*) AS events, count(DISTINCT person_key) AS people,
                   any_value(cost) AS unit_cost,
                   CAST(round(sum(cost)) AS BIGINT) AS total_cost
        FROM {COST_TABLE} GROUP BY ALL ORDER BY total_cost DESC, event_type"""
    ).df()


def cost_by_cohort(ctx: InsightContext, cohort: str) -> pd.DataFrame:
    """Total and per-person cost per cohort: `cohort, people, events, total_cost,
    cost_per_person`. Cohorts: `services` (how many services know the resident: needs the
    `known` table of `overlap.build_known`), `age_band` (age at the period's end), `sex`."""
    if cohort == "services":
        group = (
            "CASE WHEN s.n >= 3 THEN '3 or more' WHEN s.n IS NULL THEN 'none' "
            "ELSE CAST(s.n AS VARCHAR) END"
        )
        join = (
            f"LEFT JOIN (SELECT person_key, count(*) AS n FROM {KNOWN_TABLE} "
            "GROUP BY person_key) s USING (person_key)"
        )
    elif cohort in ("age_band", "sex"):
        year = ctx.period_end.year
        group = (
            "coalesce(p.sex, 'unknown')"
            if cohort == "sex"
            else f"""CASE WHEN p.birth_year IS NULL THEN 'unknown'
                WHEN {year} - p.birth_year < 18 THEN '0-17'
                WHEN {year} - p.birth_year < 35 THEN '18-34'
                WHEN {year} - p.birth_year < 50 THEN '35-49'
                WHEN {year} - p.birth_year < 65 THEN '50-64' ELSE '65+' END"""
        )
        join = "LEFT JOIN person p USING (person_key)"
    else:
        raise ValueError(f"no cost cohort {cohort!r}; the cohorts are services, age_band, sex")
    return ctx.sql(
        f"""SELECT {group} AS {cohort}, count(*) AS people, sum(c.events) AS events,
                   CAST(round(sum(c.cost)) AS BIGINT) AS total_cost,
                   CAST(round(sum(c.cost) / count(*)) AS BIGINT) AS cost_per_person
        FROM {PERSON_COST_TABLE} c {join}
        GROUP BY ALL ORDER BY 1"""
    )


def cost_concentration(
    con: duckdb.DuckDBPyConnection, shares: tuple[float, ...] = (0.01, 0.05)
) -> pd.DataFrame:
    """The share of all (person-attributed) cost spent on the costliest `share` of the
    residents with any cost: `top, people (in the top group), cost, share_of_cost`.
    The top group is the ceiling of share x residents, ties broken by the person key so
    the figure is reproducible."""
    row = con.execute(
        f"SELECT count(*), coalesce(sum(cost), 0) FROM {PERSON_COST_TABLE} WHERE cost > 0"
    ).fetchall()[0]
    residents, total = (int(row[0]), float(row[1])) if row else (0, 0.0)
    rows = []
    for share in shares:
        n = math.ceil(share * residents)
        top = con.execute(
            f"""SELECT coalesce(sum(cost), 0) FROM (SELECT cost FROM {PERSON_COST_TABLE}
            WHERE cost > 0 ORDER BY cost DESC, person_key LIMIT {n})"""
        ).fetchall()[0]
        cost = float(top[0]) if top else 0.0
        rows.append(
            {
                "top": f"top {share:.0%}",
                "people": n,
                "cost": round(cost),
                "share_of_cost": cost / total if total else None,
            }
        )
    return pd.DataFrame(rows)
