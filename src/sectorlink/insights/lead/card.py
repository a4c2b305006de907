"""The model card: what the model is for, what it learned from, how well it does and
where it does not, in one page (markdown) kept with the model and shown in the release."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sectorlink.insights.lead.features import FEATURES, MONOTONE
from sectorlink.insights.lead.pipeline import LeadRiskResult

MODEL_NAMES = {
    "lightgbm": "LightGBM (gradient-boosted trees)",
    "logistic": "logistic regression",
    "built_before_1978": "rule: built before 1978",
}


def _cell(value: Any) -> str:
    # None is what the gate hid; NaN a figure with nothing to measure (no elevated test).
    if value is None:
        return "[c]"
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 2 else f"{value:.3f}"
    return str(value)


def model_card(
    result: LeadRiskResult,
    *,
    metrics: pd.DataFrame | None = None,
    fairness: pd.DataFrame | None = None,
    data_counts: pd.DataFrame | None = None,
) -> str:
    """Markdown. `metrics`, `fairness` and `data_counts` are the published (protected)
    tables, so the card shows what the gate let through ([c] where it hid a value)."""
    a = result.artefact
    s = result.settings
    lines = [
        "# Model card: childhood lead risk",
        "",
        "**Intended use.** Rank homes for a proactive lead hazard inspection, and children "
        "known to the lead programme for follow-up, before a child's first elevated test. "
        "A score is a priority, not a diagnosis: it never replaces a blood test or an "
        "inspection, and it is not for decisions about a family beyond offering help.",
        "",
        f"**Outcome.** A screening test at or above {a.reference_value:g} µg/dL (the "
        f"reference value in force on {result.score_date}; the setting: "
        f"{a.reference_values.describe()}); a capillary result counts only when a venous "
        f"test within {s.confirm_days} days confirms it"
        + ("" if a.confirm_capillary else " (off for this model: every raised result counts)")
        + ".",
        "",
        f"**Training.** Tests from {a.trained_from} to {a.trained_to}. "
        f"Validation: trained on tests before {result.test_from} (labelled at "
        f"{result.validation_reference:g} µg/dL), tested on the tests from then on. "
        f"The home model learned from lead hazard assessments before {result.score_date}"
        + (
            f" ({a.home_assessments} assessments, {a.home_hazards} found a hazard): a "
            "logistic regression on the building (year built as a spline, condition, "
            "renting, violations found before) and raised results of children at the "
            f"address, its penalty chosen by temporal cross-validation (C = {a.home_model.C_:g})"
            + (
                f"; left out for too little support: {', '.join(a.home_model.left_out_)}"
                if a.home_model.left_out_
                else ""
            )
            + f". A home's own earlier assessments weigh in by Bayes' rule (sensitivity "
            f"{a.home_model.accuracy.sensitivity:g}, false-positive rate "
            f"{a.home_model.accuracy.false_positive:g})."
            if a.home_model is not None
            else " (not trained: too few assessments; homes are ranked by the child model)."
        ),
        "",
        "**Features** (each from data dated before the prediction date): "
        + ", ".join(f"`{f}`" for f in FEATURES)
        + ". Monotone: "
        + ", ".join(f"`{f}` {'up' if d > 0 else 'down'}" for f, d in MONOTONE.items())
        + ".",
        "",
        "**Explanations.** Every score comes with the three features that moved it most "
        "(exact log-odds contributions: LightGBM pred_contrib for a child, coefficient "
        "times distance from the training mean for a home).",
        "",
    ]
    if data_counts is not None:
        lines += ["## Data", "", "| split | tests | elevated |", "| --- | ---: | ---: |"]
        for label, row in data_counts.iterrows():
            lines.append(f"| {label} | {_cell(row['tests'])} | {_cell(row['elevated'])} |")
        lines.append("")
    if metrics is not None:
        lines += [
            f"## Hold-out performance (top {s.top_share:.0%}, 95% bootstrap intervals over "
            "children)",
            "",
            "| model | metric | value | low | high |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for label, row in metrics.iterrows():
            model, metric = label if isinstance(label, tuple) else (label, "")
            lines.append(
                f"| {MODEL_NAMES.get(str(model), model)} | {metric} | {_cell(row['value'])} "
                f"| {_cell(row['low'])} | {_cell(row['high'])} |"
            )
        lines += [
            "",
            f"Calibration error (expected, by decile): {result.calibration_error:.3f}.",
            "",
        ]
    if fairness is not None:
        lines += [
            "## Fairness (hold-out tests)",
            "",
            "| grouping | group | tests | observed | predicted | recall at top |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for label, row in fairness.iterrows():
            grouping, group = label if isinstance(label, tuple) else (label, "")
            lines.append(
                f"| {grouping} | {group} | {_cell(row['tests'])} | "
                f"{_cell(row['observed_rate'])} | {_cell(row['mean_predicted'])} | "
                f"{_cell(row['recall_at_top'])} |"
            )
        lines.append("")
    lines += [
        "## Limits",
        "",
        "- Only tested children are seen: untested children in the same homes are not, and "
        "who gets tested is itself targeted (old homes, deprived areas).",
        "- The property snapshot (year built, condition, tenure) has no dates: a condition "
        "recorded after a prediction date is used as if known then.",
        "- A model learned under one reference value answers a different question under "
        "another: scoring across a change is refused unless asked for.",
        "- Scores are calibrated on the hold-out years only as far as the calibration "
        "table shows; a home's hazard risk is the chance an assessment finds a hazard, "
        "estimated from homes that were assessed (mostly homes inspected for housing "
        "violations, or after a raised result).",
    ]
    return "\n".join(lines) + "\n"
