"""Medical-legal partnership measures: the I-HELP funnel, the NCMLP standard measures per
neighbourhood and quarter, and health use before and after legal help against a matched
comparison group. The logic is in `sectorlink.insights.mlp`; see docs/insights/mlp.md."""

from __future__ import annotations

from sectorlink.insights.mlp.health_use import AE_TYPES, AMBULANCE_TYPES
from sectorlink.insights.mlp.report import run
from sectorlink.insights.registry import Analysis, Parameter, register

ANALYSIS = register(
    Analysis(
        name="mlp-measures",
        title="Medical-legal partnership measures",
        question="What does the medical-legal partnership do for people: how many are "
        "screened, found a need, referred, helped and have the need resolved, and does "
        "their use of A&E and ambulances change after legal help?",
        purpose="analysis/mlp-measures",
        tables=("event", "person_index", "mlp_screening", "legal_referral"),
        event_types=("mlp_screening", "legal_referral", *AE_TYPES, *AMBULANCE_TYPES),
        parameters=(
            Parameter(
                "window_days",
                int,
                182,
                "days of health use counted before and after legal intake (6 months)",
            ),
            Parameter(
                "crossed",
                bool,
                False,
                "also publish each NCMLP measure by neighbourhood x quarter (mostly hidden "
                "by the gate in a small region, and slower)",
            ),
        ),
        outputs=(
            "funnel",
            "funnel_by_domain",
            "funnel_by_neighbourhood",
            "funnel_by_month",
            "conversion_by_all",
            "conversion_by_domain",
            "conversion_by_neighbourhood",
            "conversion_by_month",
            "ncmlp_by_neighbourhood",
            "ncmlp_by_quarter",
            "benefit_by_neighbourhood",
            "benefit_by_quarter",
            "health_use",
        ),
        run=run,
    )
)
