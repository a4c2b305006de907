"""ISTV data quality per A&E site and month: what a violence lead shows the hospital.

Among the assault attendances of each site and month: the share with each ISTV field
recorded (the assault's date and time, the arrival, method, location type and location
description; a method or location type of 'not known' (98) counts as not recorded, as
it tells the partnership nothing), 'other' methods without the free text that should
describe them, and a flag when the month's mean completeness falls more than `drop`
below the median of the site's previous `months` months.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from sectorlink.insights.violence.events import EVENT_TABLE

FIELDS = {
    "assault_time": "v.assault_datetime IS NOT NULL",
    "arrival_time": "v.arrival_datetime IS NOT NULL",
    "method": "v.assault_method IS NOT NULL AND v.assault_method <> '98'",
    "location_type": "v.assault_location_type IS NOT NULL AND v.assault_location_type <> '98'",
    "location_description": "nullif(trim(v.assault_location_description), '') IS NOT NULL",
}


def istv_quality(
    con: duckdb.DuckDBPyConnection,
    period: tuple[dt.date, dt.date],
    *,
    months: int = 6,
    drop: float = 0.10,
) -> pd.DataFrame:
    """One row per site and month of the period: `site, month, attendances`, the share
    of each ISTV field recorded (`pct_<field>`, 0-1), `mean_completeness`,
    `other_without_text` (share of 'other' methods with no free text; None when there
    are none), `site_recent_level` and `below_recent_level`."""
    filled = ",\n".join(
        f"avg(CASE WHEN {condition} THEN 1.0 ELSE 0.0 END) AS pct_{name}"
        for name, condition in FIELDS.items()
    )
    frame = con.execute(
        f"""SELECT coalesce(e.site_code, e.source) AS site,
                   date_trunc('month', e.arrival)::DATE AS month,
                   count(*) AS attendances,
                   {filled},
                   avg(CASE WHEN v.assault_method_other IS NULL
                              OR trim(v.assault_method_other) = '' THEN 1.0 ELSE 0.0 END)
                       FILTER (WHERE v.assault_method = '06') AS other_without_text
            FROM {EVENT_TABLE} e
            LEFT JOIN violence v USING (source, event_id)
            WHERE e.kind = 'ae' AND e.arrival IS NOT NULL
            GROUP BY ALL ORDER BY site, month"""
    ).df()
    pct = [f"pct_{name}" for name in FIELDS]
    frame["mean_completeness"] = frame[pct].mean(axis=1)
    recent = frame.groupby("site")["mean_completeness"].transform(
        lambda s: s.shift(1).rolling(months, min_periods=3).median()
    )
    frame["site_recent_level"] = recent
    frame["below_recent_level"] = (recent.notna()) & (frame["mean_completeness"] < recent - drop)
    start, end = (pd.Timestamp(period[0].replace(day=1)), pd.Timestamp(period[1]))
    frame = frame[(frame["month"] >= start) & (frame["month"] <= end)]
    return frame.reset_index(drop=True)
