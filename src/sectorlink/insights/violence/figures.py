"""The release's figures, drawn from protected tables only: the map and the heat map."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sectorlink.governance import ProtectedTable
from sectorlink.insights.violence.profiles import DAYS, HOURS
from sectorlink.reports.maps import choropleth_svg, heatmap_svg


def area_map_svg(
    collection: dict[str, Any],
    value: str,
    *,
    title: str,
    hotspots: list[str],
    diverging: bool = False,
) -> str:
    """A choropleth of a map made by `ctx.publish_map`, hotspots outlined; suppressed
    areas are hatched (never drawn as zero)."""
    return choropleth_svg(collection, value, title=title, outline=hotspots, diverging=diverging)


def hour_of_week_svg(table: ProtectedTable, *, title: str) -> str:
    """The day x hour heat map of a published hour-of-week table (rows Mon..Sun, columns
    00..23); hidden cells are hatched."""
    shown = table.table
    cells: dict[tuple[str, str], float | None] = {}
    for day in DAYS:
        for hour in HOURS:
            if day not in shown.index or hour not in shown.columns:
                continue
            hidden = bool(table.suppressed.at[day, hour])
            value = shown.at[day, hour]
            cells[(day, hour)] = None if hidden or pd.isna(value) else float(value)
    return heatmap_svg(list(DAYS), list(HOURS), cells, title=title)
