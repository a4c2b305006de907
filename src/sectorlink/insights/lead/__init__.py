"""Childhood lead risk: the method behind the `lead-risk` analysis (docs/insights/lead.md).

One module per job: `reference` (the versioned reference value), `outcomes` (results
cleaned, screening episodes, elevated), `features` (point in time), `model` (LightGBM,
the baselines, the saved artefact), `evaluate` (AUC, precision and recall at the top,
calibration, bootstrap), `explain`, `fairness`, `card`, `pipeline` (train, evaluate,
score), `aggregates` (what the run publishes), `store` (what it keeps), `score` (one home
or child), `lists` (the audited exports).
"""

from sectorlink.insights.lead.model import (
    LeadModelArtefact,
    LeadModelError,
    LeadRiskModel,
    LogisticBaseline,
    ReferenceValueMismatch,
    year_built_rule,
)
from sectorlink.insights.lead.pipeline import (
    LeadRiskResult,
    LeadSettings,
    TooFewElevated,
    property_auc,
    train_and_evaluate,
)
from sectorlink.insights.lead.reference import DEFAULT_REFERENCE_VALUES, ReferenceValues

__all__ = [
    "DEFAULT_REFERENCE_VALUES",
    "LeadModelArtefact",
    "LeadModelError",
    "LeadRiskModel",
    "LeadRiskResult",
    "LeadSettings",
    "LogisticBaseline",
    "ReferenceValueMismatch",
    "ReferenceValues",
    "TooFewElevated",
    "property_auc",
    "train_and_evaluate",
    "year_built_rule",
]
