"""Childhood lead risk: which homes to inspect, and which children to follow up, before a
child is poisoned. The method lives in `sectorlink.insights.lead` (docs/insights/lead.md);
this module runs it on the context and decides what is published, what stays in the hub.

Published (through the gate): elevated rates by year and by small area (with a map),
elevated and tested children by neighbourhood and year, the model's hold-out metrics with
bootstrap intervals, its calibration, fairness by tenure and neighbourhood, the data it
learned from, field issues, and the model card. Kept in the hub: `lead_inspection_list`
(every home ranked, with its explanation), `lead_risk_child` (every child under six known
to the programme, scored), `lead_risk_model` (the model artefact and card) and
`lead_field_issue`; they leave only through `sectorlink lead` (authorised, audited).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from markupsafe import Markup, escape

from sectorlink.governance import ProtectedTable
from sectorlink.insights.context import AnalysisOutput, InsightContext
from sectorlink.insights.lead.aggregates import publish_aggregates
from sectorlink.insights.lead.card import model_card
from sectorlink.insights.lead.fairness import TENURE_NAMES, fairness_table
from sectorlink.insights.lead.home import AssessmentAccuracy
from sectorlink.insights.lead.pipeline import LeadRiskResult, LeadSettings, train_and_evaluate
from sectorlink.insights.lead.reference import DEFAULT_REFERENCE_VALUES, ReferenceValues
from sectorlink.insights.lead.store import kept_tables
from sectorlink.insights.registry import Analysis, Parameter, register
from sectorlink.insights.writers import table_html

MODEL_FILE = "lead_model.json"
"""The model artefact in the release (`LeadModelArtefact.load` reads it)."""
CARD_FILE = "model_card.md"

METRIC_NAMES = {
    "auc": "AUC",
    "precision_at_top": "precision at top",
    "recall_at_top": "recall at top",
}


def settings_from(ctx: InsightContext) -> LeadSettings:
    p = ctx.params
    test_from = str(p["test_from"]).strip()
    try:
        first = dt.date.fromisoformat(test_from) if test_from else None
    except ValueError:
        raise ValueError(
            f"parameter test_from must be a date (YYYY-MM-DD), not {test_from!r}"
        ) from None
    share = float(p["top_share"])
    if not 0 < share < 1:
        raise ValueError(f"parameter top_share must be between 0 and 1, not {share}")
    return LeadSettings(
        reference_values=ReferenceValues.parse(str(p["reference_values"])),
        confirm_capillary=bool(p["confirm_capillary"]),
        confirm_days=int(p["confirm_days"]),
        test_from=first,
        top_share=share,
        min_elevated=int(p["min_elevated"]),
        bootstrap=int(p["bootstrap"]),
        score_date=ctx.period_end + dt.timedelta(days=1),
        assessment_accuracy=AssessmentAccuracy(
            float(p["assessment_sensitivity"]), float(p["assessment_false_positive"])
        ),
    )


def _metrics_frame(result: LeadRiskResult) -> pd.DataFrame:
    rows = [
        {
            "model": model,
            "metric": METRIC_NAMES[metric],
            "value": interval.value,
            "low": interval.low,
            "high": interval.high,
            "tests": result.test["tests"],
        }
        for model, report in result.metrics.items()
        for metric, interval in report.items()
    ]
    return pd.DataFrame(rows)


def _fairness(ctx: InsightContext, result: LeadRiskResult) -> pd.DataFrame:
    test = result.test_scores.copy()
    test["tenure_name"] = test["tenure"].map(TENURE_NAMES)
    parents = ctx.sql("SELECT code AS area, parent AS neighbourhood FROM geo_area")
    test = test.merge(parents, on="area", how="left")
    return fairness_table(
        test,
        score="score_lightgbm",
        group_columns={"tenure": "tenure_name", "neighbourhood": "neighbourhood"},
        share=result.settings.top_share,
    )


def _html(table: ProtectedTable | None, ctx: InsightContext, name: str) -> Markup:
    return table_html(table, caption=ctx.table_titles[name]) if table is not None else Markup("")


def run(ctx: InsightContext) -> AnalysisOutput:
    settings = settings_from(ctx)
    result = train_and_evaluate(ctx.con, settings)
    for note in result.notes:
        ctx.note(note)
    body = publish_aggregates(ctx, result)

    data = pd.DataFrame(
        [
            {
                "split": f"training ({result.train['from']} to {result.train['to']})",
                "tests": result.train["tests"],
                "elevated": result.train["elevated"],
            },
            {
                "split": f"hold-out ({result.test['from']} to {result.test['to']})",
                "tests": result.test["tests"],
                "elevated": result.test["elevated"],
            },
            {
                "split": "model to use (every test)",
                "tests": result.artefact.training_tests,
                "elevated": result.artefact.training_elevated,
            },
        ]
    )
    data_table = ctx.publish(
        "model_data",
        data,
        title="Screening tests the models learned from",
        labels=["split"],
        totals=False,
    )
    metrics = ctx.publish_statistics(
        "model_metrics",
        _metrics_frame(result),
        title=f"Hold-out performance, top {settings.top_share:.0%} (95% bootstrap intervals)",
        support="tests",
        labels=["model", "metric"],
    )
    calibration = ctx.publish_statistics(
        "model_calibration",
        result.calibration.rename(columns={"bin": "decile"}),
        title="Calibration on the hold-out tests (LightGBM, by score decile)",
        support="tests",
        labels=["decile"],
    )
    fairness = ctx.publish_statistics(
        "model_fairness",
        _fairness(ctx, result),
        title="Fairness on the hold-out tests, by tenure and neighbourhood",
        support="tests",
        labels=["grouping", "group"],
    )
    card = model_card(
        result,
        metrics=metrics.table,
        fairness=fairness.table,
        data_counts=data_table.table if data_table is not None else None,
    )
    for name, frame in kept_tables(result, card).items():
        ctx.keep(name, frame)
    # The artefact and its card travel with the release too: what the model learned from
    # (training period, reference value) is part of what is published about it.
    ctx.document(MODEL_FILE, result.artefact.to_json())
    ctx.document(CARD_FILE, card)

    gbm = result.metrics["lightgbm"]
    rule = result.metrics["built_before_1978"]
    lift = (
        gbm["precision_at_top"].value / rule["precision_at_top"].value
        if rule["precision_at_top"].value
        else float("nan")
    )
    body += Markup("<h3>Model card</h3><pre class='model-card'>{}</pre>").format(escape(card))
    body += _html(metrics, ctx, "model_metrics") + _html(calibration, ctx, "model_calibration")
    body += _html(fairness, ctx, "model_fairness") + _html(data_table, ctx, "model_data")
    return AnalysisOutput(
        body=body,
        key_figures={
            "child_auc": round(gbm["auc"].value, 3),
            "precision_at_top_share": round(gbm["precision_at_top"].value, 3),
            "rule_precision_at_top_share": round(rule["precision_at_top"].value, 3),
            "precision_lift_over_rule": round(lift, 2),
            "logistic_auc": round(result.metrics["logistic"]["auc"].value, 3),
            "reference_value_ug_dl": result.artefact.reference_value,
            "model_trained_to": result.artefact.trained_to.isoformat(),
            "homes_ranked": len(result.property_scores),
        },
    )


ANALYSIS = register(
    Analysis(
        name="lead-risk",
        title="Childhood lead risk",
        question="Which homes should be inspected, and which young children followed up, "
        "before a child's blood lead becomes elevated?",
        purpose="analysis/lead-risk",
        tables=("event", "lead_test", "property", "property_inspection"),
        event_types=("lead_test",),
        run=run,
        parameters=(
            Parameter(
                "reference_values",
                str,
                ",".join(f"{d.isoformat()}:{v:g}" for d, v in DEFAULT_REFERENCE_VALUES.versions),
                "the blood lead reference values (µg/dL), each in force from its date",
            ),
            Parameter(
                "confirm_capillary",
                bool,
                True,
                "a raised capillary result counts only when a venous test confirms it",
            ),
            Parameter(
                "confirm_days", int, 90, "days after a capillary test a venous test confirms it"
            ),
            Parameter(
                "test_from",
                str,
                "",
                "first day of the hold-out tests (default: the last two years)",
            ),
            Parameter(
                "top_share", float, 0.05, "the share of highest scores precision and recall look at"
            ),
            Parameter(
                "min_elevated", int, 10, "fewest elevated tests (and hazards found) to train on"
            ),
            Parameter("bootstrap", int, 200, "bootstrap replicates for the intervals"),
            Parameter(
                "assessment_sensitivity",
                float,
                AssessmentAccuracy.sensitivity,
                "share of lead hazards an assessment finds (weighs a home's own findings)",
            ),
            Parameter(
                "assessment_false_positive",
                float,
                AssessmentAccuracy.false_positive,
                "share of hazard-free homes an assessment calls hazardous",
            ),
        ),
        outputs=(
            "elevated_rate_by_year",
            "elevated_rate_by_area",
            "elevated_children_by_neighbourhood_year",
            "tested_children_by_neighbourhood_year",
            "model_data",
            "model_metrics",
            "model_calibration",
            "model_fairness",
            "field_issues",
        ),
        person_tables=(
            "lead_risk_child",
            "lead_inspection_list",
            "lead_risk_model",
            "lead_field_issue",
        ),
    )
)
