"""Estimated savings per intervention: the cost of the events it could avoid in the
period (from `event_cost`), times the effect size at its low, central and high values."""

from __future__ import annotations

import pandas as pd

from sectorlink.insights.context import InsightContext
from sectorlink.insights.value.assumptions import Assumption
from sectorlink.insights.value.costs import COST_TABLE
from sectorlink.model.sql import literal_list as _in


def estimated_savings(ctx: InsightContext, assumptions: list[Assumption]) -> pd.DataFrame:
    """One row per intervention: `intervention, people, events, baseline_cost,
    saving_low, saving_central, saving_high` (people: residents behind the baseline, the
    support; the baseline counts only events of a linked resident when `among` is set)."""
    rows = []
    for a in assumptions:
        among = ""
        if a.among:
            among = f"""AND c.person_key IN (SELECT person_key FROM {COST_TABLE}
                        WHERE event_type IN {_in(a.among)} AND person_key IS NOT NULL)"""
        row = ctx.con.execute(
            f"""SELECT count(DISTINCT c.person_key), count(*), coalesce(sum(c.cost), 0)
            FROM {COST_TABLE} c WHERE c.event_type IN {_in(a.events)} {among}"""
        ).fetchall()[0]
        people, events, cost = (int(row[0]), int(row[1]), float(row[2])) if row else (0, 0, 0.0)
        rows.append(
            {
                "intervention": a.key,
                "people": people,
                "events": events,
                # whole units of the currency: estimates, not accounts
                "baseline_cost": round(cost),
                "saving_low": round(cost * a.low),
                "saving_central": round(cost * a.central),
                "saving_high": round(cost * a.high),
            }
        )
    return pd.DataFrame(rows)
