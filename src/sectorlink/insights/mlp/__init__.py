"""Medical-legal partnership measures: the I-HELP funnel, the NCMLP standard measures and
health use before and after legal help against a matched comparison group.

Pure functions over an `InsightContext`'s tables (DuckDB SQL); `report.run` is what the
`mlp-measures` analysis runs. See docs/insights/mlp.md.
"""

from sectorlink.insights.mlp.cases import DOMAINS, build_cases
from sectorlink.insights.mlp.funnel import (
    STEPS,
    funnel_counts,
    funnel_long,
    funnel_statistics,
)
from sectorlink.insights.mlp.health_use import HealthUse, health_use
from sectorlink.insights.mlp.measures import (
    MEASURES,
    benefit_by,
    measure_by_area_quarter,
    measure_totals,
    measures_by,
)

__all__ = [
    "DOMAINS",
    "MEASURES",
    "STEPS",
    "HealthUse",
    "benefit_by",
    "build_cases",
    "funnel_counts",
    "funnel_long",
    "funnel_statistics",
    "health_use",
    "measure_by_area_quarter",
    "measure_totals",
    "measures_by",
]
