"""The Cardiff Model's central argument, measured: the share of A&E-seen assaults the
police never recorded (no police record joined to the incident), overall, by place
type, by hour of week and by hotspot area."""

from __future__ import annotations

import duckdb
import pandas as pd

from sectorlink.insights.violence.incidents import INCIDENT_TABLE


def unknown_to_police(
    con: duckdb.DuckDBPyConnection, period: str, hotspot_areas: list[str]
) -> pd.DataFrame:
    """Rows `group, value, ae_incidents, unknown_to_police, share` for the period's
    incidents seen by A&E; `group` is `overall`, `place type`, `hour of week` or
    `hotspot`. `period` is a SQL condition on `incident_time`."""
    base = f"SELECT * FROM {INCIDENT_TABLE} WHERE seen_by_ae AND {period}"
    areas = "(" + ", ".join("'" + a.replace("'", "''") + "'" for a in hotspot_areas) + ")"
    hotspot = (
        f"""UNION ALL SELECT 'hotspot', area, count(*), count(*) FILTER (WHERE NOT seen_by_police)
            FROM seen WHERE area IN {areas} GROUP BY area"""
        if hotspot_areas
        else ""
    )
    frame = con.execute(
        f"""WITH seen AS ({base})
        SELECT 'overall' AS "group", 'all' AS value, count(*) AS ae_incidents,
               count(*) FILTER (WHERE NOT seen_by_police) AS unknown_to_police FROM seen
        UNION ALL SELECT 'place type', coalesce(place_type, '98'), count(*),
               count(*) FILTER (WHERE NOT seen_by_police) FROM seen GROUP BY ALL
        UNION ALL SELECT 'hour of week',
               ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][weekday + 1] || ' '
                   || lpad(CAST(hour AS VARCHAR), 2, '0') || ':00',
               count(*), count(*) FILTER (WHERE NOT seen_by_police) FROM seen GROUP BY ALL
        {hotspot}"""
    ).df()
    frame["share"] = frame["unknown_to_police"] / frame["ae_incidents"].where(
        frame["ae_incidents"] > 0
    )
    order = {"overall": 0, "hotspot": 1, "place type": 2, "hour of week": 3}
    frame["_o"] = frame["group"].map(order)
    return frame.sort_values(["_o", "value"]).drop(columns="_o").reset_index(drop=True)
