"""Fairness of the child model on the hold-out tests: by tenure and by neighbourhood.

Per group: tests, elevated tests, the observed and the mean predicted rate (calibration
within the group), AUC within the group, the share of the group's tests among the top
`share` flagged overall and the share of its elevated tests caught there (recall). A
group whose elevated children the list misses more often than others' is the finding
to look for; small groups are hidden by the gate (`support` = tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sectorlink.insights.lead.evaluate import auc

TENURE_NAMES = {0.0: "owner occupied", 1.0: "private rented", 2.0: "social rented"}


def flagged(score: np.ndarray, share: float) -> np.ndarray:
    """The top `share` of scores (ties at the cut included)."""
    if len(score) == 0:
        return np.zeros(0, dtype=bool)
    k = max(1, int(np.ceil(share * len(score))))
    cut = np.sort(score)[::-1][k - 1]
    return np.asarray(score >= cut)


def fairness_table(
    frame: pd.DataFrame, *, score: str, group_columns: dict[str, str], share: float = 0.05
) -> pd.DataFrame:
    """One row per (grouping, group) of `frame` (with `elevated` and `score`)."""
    data = frame.assign(_flag=flagged(frame[score].to_numpy(), share))
    rows = []
    for kind, column in group_columns.items():
        for group, part in data.groupby(column, dropna=False):
            elevated = int(part["elevated"].sum())
            rows.append(
                {
                    "grouping": kind,
                    "group": "unknown" if pd.isna(group) else str(group),
                    "tests": len(part),
                    "observed_rate": float(part["elevated"].mean()),
                    "mean_predicted": float(part[score].mean()),
                    "auc": auc(part["elevated"].to_numpy(), part[score].to_numpy()),
                    "flagged_share": float(part["_flag"].mean()),
                    "recall_at_top": (
                        float(part.loc[part["elevated"] == 1, "_flag"].mean())
                        if elevated
                        else float("nan")
                    ),
                }
            )
    return pd.DataFrame(rows)
