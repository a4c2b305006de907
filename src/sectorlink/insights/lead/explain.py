"""Explanations a family or an inspector can read: the features that moved a score most,
from LightGBM's exact per-feature contributions (pred_contrib, in log-odds)."""

from __future__ import annotations

import numpy as np
import pandas as pd

LABELS = {
    "year_built": "built in {value:.0f}",
    "built_before_1978": "built before 1978: {yes}",
    "condition": "condition {condition}",
    "tenure": "{tenure}",
    "rented": "rented: {yes}",
    "inspections_before": "{value:.0f} earlier inspection(s)",
    "violations_before": "{value:.0f} housing violation(s) found before",
    "lead_assessments_before": "{value:.0f} earlier lead assessment(s)",
    "hazards_found_before": "lead hazard found {value:.0f} time(s) before",
    "years_since_inspection": "last inspected {value:.1f} years before",
    "child_tests_before": "{value:.0f} earlier test(s) of the child",
    "child_venous_before": "{value:.0f} earlier venous test(s)",
    "child_max_before": "the child's highest earlier result {value:.1f} µg/dL",
    "child_raised_before": "{value:.0f} earlier raised result(s) of the child",
    "address_tests_before": "{value:.0f} earlier test(s) of other children at the address",
    "address_raised_before": "{value:.0f} earlier raised result(s) at the address",
    "area_tests_before": "{value:.0f} earlier tests in the small area",
    "area_raised_rate_before": "{pct} of earlier tests in the small area raised",
    "area_old_housing_share": "{pct} of homes in the small area built before 1978",
    "age_months": "aged {value:.0f} months",
}
_CONDITIONS = ("good", "fair", "poor", "dilapidated")
_TENURES = ("owner occupied", "private rented", "social rented")


def describe(feature: str, value: float) -> str:
    """A feature's value in words ('built in 1910'); 'unknown' when missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"{feature.replace('_', ' ')} unknown"
    template = LABELS.get(feature, feature + " {value}")
    index = int(value)
    return template.format(
        value=value,
        yes="yes" if value >= 0.5 else "no",
        pct=f"{value:.0%}",
        condition=_CONDITIONS[index] if 0 <= index < len(_CONDITIONS) else value,
        tenure=_TENURES[index] if 0 <= index < len(_TENURES) else value,
    )


def reasons(features: pd.DataFrame, contributions: pd.DataFrame, *, top: int = 3) -> list[str]:
    """Per row, the `top` features by absolute contribution, as 'built in 1910 (+0.84)',
    joined with '; ' (positive raises the risk)."""
    values = contributions.drop(columns=["bias"])
    names = [str(c) for c in values.columns]
    effects = values.to_numpy()
    inputs = features[names].to_numpy(dtype="float64")
    order = np.argsort(-np.abs(effects), axis=1)[:, :top]
    out = []
    # One short line per score: a loop over rows is fine here (three cells each).
    for row, picks in enumerate(order):
        parts = [
            f"{describe(names[c], float(inputs[row, c]))} ({effects[row, c]:+.2f})"
            for c in picks
            if effects[row, c] != 0
        ]
        out.append("; ".join(parts) or "no feature moved the score from the baseline")
    return out
