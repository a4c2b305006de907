"""Overlap across services: which residents each partner knows, the pairwise matrix,
residents by number of services, and the exact combinations (for the UpSet chart).

Shared by `service-overlap` and `value-case`. A resident is known to a source when any of
its person records is theirs and they had an event in the period (or the source sends no
events at all: a register).
"""

from __future__ import annotations

import pandas as pd

from sectorlink.insights.context import InsightContext

KNOWN_TABLE = "known"


def build_known(ctx: InsightContext) -> int:
    """Create the temp table `known(source, person_key)` and return the residents in it."""
    ctx.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {KNOWN_TABLE} AS
        SELECT DISTINCT p.source, p.person_key FROM person_index p
        WHERE EXISTS (SELECT 1 FROM event e WHERE e.source = p.source
                      AND e.record_id = p.record_id AND {ctx.period_sql("e.start_time")})
           OR NOT EXISTS (SELECT 1 FROM event e WHERE e.source = p.source)"""
    )
    row = ctx.con.execute(f"SELECT count(DISTINCT person_key) FROM {KNOWN_TABLE}").fetchall()[0]
    return int(row[0]) if row else 0


def pair_matrix(ctx: InsightContext) -> pd.DataFrame:
    """Residents known to both of each pair of sources (the diagonal: known to the source),
    one row per source: `source`, then one column per source."""
    pairs = ctx.sql(
        f"""SELECT a.source AS source, b.source AS other, count(*) AS residents
        FROM {KNOWN_TABLE} a JOIN {KNOWN_TABLE} b USING (person_key)
        GROUP BY ALL ORDER BY ALL"""
    )
    matrix = (
        pairs.pivot(index="source", columns="other", values="residents").fillna(0).astype("int64")
    )
    matrix.columns.name = None
    return matrix.reset_index()


def residents_by_services(ctx: InsightContext) -> pd.DataFrame:
    """Residents by how many services know them: `services` ('1', '2', '3 or more'),
    `residents`."""
    return ctx.sql(
        f"""SELECT CASE WHEN n >= 3 THEN '3 or more' ELSE CAST(n AS VARCHAR) END AS services,
                  count(*) AS residents
        FROM (SELECT person_key, count(*) AS n FROM {KNOWN_TABLE} GROUP BY person_key)
        GROUP BY ALL ORDER BY services"""
    )


def combinations(ctx: InsightContext, *, top: int = 20) -> pd.DataFrame:
    """Residents by the exact set of services that know them (an UpSet chart's bars):
    `combination` (sources joined by ' & ', sorted), `services` (how many), `residents`;
    the `top` largest, the rest summed into one `other combinations` row (services 0)."""
    return ctx.sql(
        f"""WITH per_person AS (
            SELECT array_to_string(list_sort(list(source)), ' & ') AS combination,
                   count(*) AS services
            FROM {KNOWN_TABLE} GROUP BY person_key
        ), ranked AS (
            SELECT combination, any_value(services) AS services, count(*) AS residents,
                   row_number() OVER (ORDER BY count(*) DESC, combination) AS rank
            FROM per_person GROUP BY combination
        )
        SELECT * FROM (
            SELECT CASE WHEN rank <= {int(top)} THEN combination ELSE 'other combinations'
                        END AS combination,
                   CASE WHEN rank <= {int(top)} THEN services ELSE 0 END AS services,
                   sum(residents)::BIGINT AS residents
            FROM ranked GROUP BY 1, 2
        ) ORDER BY services = 0, residents DESC, combination"""
    )
