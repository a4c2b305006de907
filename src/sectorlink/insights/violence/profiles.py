"""When and how: hour-of-week profiles, peak windows, named places, monthly trends."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS = tuple(f"{h:02d}" for h in range(24))


def hour_of_week_grid(frame: pd.DataFrame, *, value: str = "incidents") -> pd.DataFrame:
    """`weekday, hour, value` rows as a 7 x 24 grid (rows Mon..Sun, columns 00..23),
    zero-filled."""
    grid = pd.DataFrame(0, index=list(DAYS), columns=list(HOURS), dtype="int64")
    for weekday, hour, count in frame[["weekday", "hour", value]].itertuples(index=False):
        grid.iat[int(weekday), int(hour)] += int(count)
    grid.index.name = "day"
    return grid


def peak_window(hour_counts: np.ndarray, length: int) -> tuple[int, int, float]:
    """The `length`-hour window (wrapping midnight) holding most incidents: its first
    hour, its end hour (exclusive, mod 24) and the share of incidents inside it."""
    counts = np.asarray(hour_counts, dtype=float)
    total = counts.sum()
    if total == 0:
        return 0, length % 24, 0.0
    doubled = np.concatenate([counts, counts])
    sums = np.array([doubled[s : s + length].sum() for s in range(24)])
    start = int(np.argmax(sums))
    return start, (start + length) % 24, float(sums[start] / total)


def peak_days(day_counts: np.ndarray) -> list[str]:
    """The days holding more than their share (1/7) of incidents by a margin (1.25x)."""
    counts = np.asarray(day_counts, dtype=float)
    if counts.sum() == 0:
        return []
    return [DAYS[i] for i in range(7) if counts[i] > 1.25 * counts.sum() / 7]


def window_text(start: int, end: int) -> str:
    return f"{start:02d}:00-{end:02d}:00"


def monthly_flags(counts: pd.DataFrame, *, months: int = 12, sigmas: float = 2.0) -> pd.DataFrame:
    """For a month x series table of counts (index: month, ascending), the upper bound of
    each month from the `months` before it (mean + `sigmas` standard deviations, needing at
    least half that history) and whether the month exceeds it. Returns long rows:
    `month, series, count, upper_bound, above`."""
    rows = []
    for series in counts.columns:
        values = counts[series].astype(float)
        history = values.shift(1).rolling(months, min_periods=max(2, months // 2))
        upper = history.mean() + sigmas * history.std(ddof=1)
        for month, count, bound in zip(values.index, values, upper, strict=True):
            rows.append(
                {
                    "month": month,
                    "series": series,
                    "count": int(count),
                    "upper_bound": None if pd.isna(bound) else float(bound),
                    "above": bool(not pd.isna(bound) and count > bound),
                }
            )
    return pd.DataFrame(rows, columns=["month", "series", "count", "upper_bound", "above"])
