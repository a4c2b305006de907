"""The Cardiff Model's central argument, measured: the share of A&E-seen assaults the
police never recorded (no police record joined to the incident), overall, by place
type, by hour of week and by hotspot.

A hotspot is measured two ways: every A&E-seen incident placed in its small area
(`hotspot`), and the incidents at its leading named place, the location description
most of the area's incidents give (`hotspot place`), wherever they were placed or not:
an assault only A&E saw often has no postcode, so the area alone undercounts exactly the
assaults the police do not know of."""

from __future__ import annotations

import duckdb
import pandas as pd

from sectorlink.insights.violence.incidents import INCIDENT_TABLE
from sectorlink.model.sql import literal_list
from sectorlink.model.sql import quote_literal as _quote

PLACE_KEY = "lower(regexp_replace(trim({}), '\\s+', ' ', 'g'))"


def leading_places(
    con: duckdb.DuckDBPyConnection, period: str, areas: list[str], min_incidents: int
) -> dict[str, str]:
    """Each area's most given location description (held by at least `min_incidents`
    of its incidents in the period)."""
    if not areas:
        return {}
    rows = con.execute(
        f"""SELECT area, arg_max(description, n) FROM (
                SELECT area, description, count(*) AS n FROM {INCIDENT_TABLE}
                WHERE {period} AND description IS NOT NULL
                  AND area IN {literal_list(areas)}
                GROUP BY ALL HAVING count(*) >= {int(min_incidents)})
            GROUP BY area"""
    ).fetchall()
    return {str(a): str(d) for a, d in rows}


def unknown_to_police(
    con: duckdb.DuckDBPyConnection,
    period: str,
    hotspot_areas: list[str],
    places: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Rows `group, value, ae_incidents, unknown_to_police, share` for the period's
    incidents seen by A&E; `group` is `overall`, `place type`, `hour of week` or
    `hotspot` (by area) or `hotspot place` (value: the area; `places` maps it to its
    leading named place). `period` is a SQL condition on `incident_time`."""
    base = f"SELECT * FROM {INCIDENT_TABLE} WHERE seen_by_ae AND {period}"
    areas = literal_list(hotspot_areas)
    hotspot = (
        f"""UNION ALL SELECT 'hotspot', area, count(*), count(*) FILTER (WHERE NOT seen_by_police)
            FROM seen WHERE area IN {areas} GROUP BY area"""
        if hotspot_areas
        else ""
    )
    for area, place in (places or {}).items():
        hotspot += f"""
            UNION ALL SELECT 'hotspot place', {_quote(area)}, count(*),
                count(*) FILTER (WHERE NOT seen_by_police) FROM seen
            WHERE {PLACE_KEY.format("description")} = {PLACE_KEY.format(_quote(place))}"""
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
    order = {"overall": 0, "hotspot place": 1, "hotspot": 2, "place type": 3, "hour of week": 4}
    frame["_o"] = frame["group"].map(order)
    return frame.sort_values(["_o", "value"]).drop(columns="_o").reset_index(drop=True)
