"""Frequent attenders: people with many A&E attendances within a rolling window.

SQL over the `hc_status` temp table (see `status.compute_status`): a person is a frequent
attender when some window of `window_days` days ending at one of their attendances holds
`attendances` or more of them, all inside the period (a window of 365 days ending on
31 December starts on 1 January of a common year).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from sectorlink.insights.homelessness.status import STATUSES


def frequent_attenders(
    con: duckdb.DuckDBPyConnection,
    *,
    period: tuple[dt.date, dt.date],
    attendances: int = 4,
    window_days: int = 365,
) -> pd.DataFrame:
    """One row per frequent attender: `person_key`, `most_in_window` (the most A&E
    attendances in any window), `attendances` (in the period) and `status`: the strongest
    housing status at any of their attendances in the period (a person homeless at one
    attendance and housed at the others counts as homeless)."""
    if attendances < 1 or window_days < 1:
        raise ValueError(
            f"a frequent attender needs attendances >= 1 and window_days >= 1, "
            f"not {attendances} and {window_days}"
        )
    start, end = period
    ranks = " ".join(f"WHEN '{s}' THEN {i + 1}" for i, s in enumerate(STATUSES))
    names = " ".join(f"WHEN {i + 1} THEN '{s}'" for i, s in enumerate(STATUSES))
    return con.execute(
        f"""WITH ae AS (
            SELECT person_key, arrival::DATE AS day, CASE status {ranks} END AS rank FROM hc_status
            WHERE kind = 'ae' AND person_key IS NOT NULL
              AND arrival >= ?::DATE AND arrival < ?::DATE + 1
        ), windows AS (
            SELECT person_key, rank, count(*) OVER (
                PARTITION BY person_key ORDER BY day
                RANGE BETWEEN INTERVAL ({window_days - 1}) DAYS PRECEDING AND CURRENT ROW
            ) AS in_window
            FROM ae
        )
        SELECT person_key, max(in_window) AS most_in_window, count(*) AS attendances,
               CASE min(rank) {names} END AS status
        FROM windows GROUP BY person_key
        HAVING max(in_window) >= ?
        ORDER BY person_key""",
        [start, end, attendances],
    ).df()
