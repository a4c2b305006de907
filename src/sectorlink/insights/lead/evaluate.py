"""How good a score is: AUC, precision and recall among the top k%, calibration, with
bootstrap intervals that resample children (a child's tests are not independent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

Array = np.ndarray[Any, np.dtype[Any]]


def auc(y: Array, score: Array) -> float:
    """ROC AUC (ties count a half); NaN when only one class is present."""
    # The Mann-Whitney form: one ranking, no curve (this runs thousands of times in the
    # bootstrap, where scikit-learn's input checks cost more than the sum itself).
    positive = np.asarray(y).astype(bool)
    n1 = int(positive.sum())
    n0 = len(positive) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pd.Series(np.asarray(score, dtype="float64")).rank().to_numpy()
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def top_share(y: Array, score: Array, share: float = 0.05) -> tuple[float, float]:
    """Precision and recall among the top `share` of scores. Ties at the cut are taken
    in proportion (the expected result of breaking them at random), so a coarse score
    such as a yes/no rule is neither flattered nor punished by the order of rows."""
    y = np.asarray(y, dtype="float64")
    score = np.asarray(score, dtype="float64")
    n = len(y)
    positives = y.sum()
    if n == 0 or positives == 0:
        return float("nan"), float("nan")
    k = max(1, int(np.ceil(share * n)))
    cut = np.sort(score)[::-1][k - 1]
    above = score > cut
    at = score == cut
    hits = y[above].sum() + (k - above.sum()) * (y[at].sum() / at.sum())
    return float(hits / k), float(hits / positives)


def calibration_table(y: Array, score: Array, bins: int = 10) -> pd.DataFrame:
    """Tests, mean predicted and observed elevated rate per score decile."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype="float64"), "p": np.asarray(score)})
    ranks = frame["p"].rank(method="first")
    frame["bin"] = np.ceil(ranks / len(frame) * bins).clip(1, bins).astype(int)
    table = frame.groupby("bin").agg(
        tests=("y", "size"), predicted=("p", "mean"), observed=("y", "mean")
    )
    return table.reset_index()


def expected_calibration_error(y: Array, score: Array, bins: int = 10) -> float:
    table = calibration_table(y, score, bins)
    weights = table["tests"] / table["tests"].sum()
    return float((weights * (table["predicted"] - table["observed"]).abs()).sum())


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def text(self, digits: int = 3) -> str:
        return f"{self.value:.{digits}f} ({self.low:.{digits}f}-{self.high:.{digits}f})"


def bootstrap(
    metric: Callable[[Array, Array], float],
    y: Array,
    score: Array,
    groups: Array,
    *,
    replicates: int = 200,
    seed: int = 0,
) -> Interval:
    """The metric with a 95% percentile interval from resampling `groups` (children)."""
    y = np.asarray(y)
    score = np.asarray(score)
    value = metric(y, score)
    codes, index = np.unique(np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(index == g) for g in range(len(codes))]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(replicates):
        picked = np.concatenate([members[g] for g in rng.integers(0, len(codes), len(codes))])
        v = metric(y[picked], score[picked])
        if not np.isnan(v):
            values.append(v)
    if not values:
        return Interval(value, float("nan"), float("nan"))
    low, high = np.percentile(values, [2.5, 97.5])
    return Interval(value, float(low), float(high))


def precision_at(share: float) -> Callable[[Array, Array], float]:
    return lambda y, s: top_share(y, s, share)[0]


def recall_at(share: float) -> Callable[[Array, Array], float]:
    return lambda y, s: top_share(y, s, share)[1]


def score_report(
    y: Array, score: Array, groups: Array, *, share: float = 0.05, replicates: int = 200
) -> dict[str, Interval]:
    """AUC, precision and recall at the top `share`, with bootstrap intervals."""
    return {
        "auc": bootstrap(auc, y, score, groups, replicates=replicates),
        "precision_at_top": bootstrap(precision_at(share), y, score, groups, replicates=replicates),
        "recall_at_top": bootstrap(recall_at(share), y, score, groups, replicates=replicates),
    }
