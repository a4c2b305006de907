"""The value case for data sharing: overlap across services (with service-overlap), the
cost of service use from a unit-cost table, estimated savings per intervention from stated
assumptions, and what each partner gave and got back. The logic is in
`sectorlink.insights.value`; see docs/insights/value.md."""

from __future__ import annotations

from sectorlink.insights.registry import Analysis, Parameter, register
from sectorlink.insights.value.report import run

ANALYSIS = register(
    Analysis(
        name="value-case",
        title="The value case for data sharing",
        question="What does service use cost, where is it concentrated, what could the "
        "interventions the hub supports save, and what does each partner give and get back?",
        purpose="analysis/value-case",
        tables=("event", "person_index", "load"),
        parameters=(
            Parameter(
                "unit_costs",
                str,
                "",
                "a region unit-cost YAML replacing the shipped entries it names",
            ),
            Parameter(
                "assumptions",
                str,
                "",
                "a region assumptions YAML replacing the shipped interventions it names",
            ),
            Parameter(
                "cost_missing_as_zero",
                bool,
                False,
                "cost event types with no unit cost at zero (listed in the notes), not refuse",
            ),
            Parameter(
                "audit_from",
                str,
                "",
                "first day (YYYY-MM-DD) of audit-log uses counted; empty: the whole log",
            ),
            Parameter(
                "audit_to",
                str,
                "",
                "last day (YYYY-MM-DD) of audit-log uses counted; empty: the whole log",
            ),
        ),
        outputs=(
            "shared_residents",
            "residents_by_services",
            "service_combinations",
            "cost_by_event_type",
            "cost_by_services",
            "cost_by_age",
            "cost_by_sex",
            "cost_concentration",
            "estimated_savings",
            "partner_records",
            "partner_activity",
            "partner_uses",
        ),
        run=run,
    )
)
