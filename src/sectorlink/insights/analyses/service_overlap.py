"""Service overlap: how many residents each pair of partners shares, how many are known
to three or more services, and the exact combinations (an UpSet chart). The smallest
complete analysis, and the argument for joining up: it reads only the person index and
the events' dates. The logic is shared with `value-case`, in
`sectorlink.insights.value.overlap`."""

from __future__ import annotations

from sectorlink.insights.context import AnalysisOutput, InsightContext
from sectorlink.insights.registry import Analysis, register
from sectorlink.insights.value.overlap_report import publish_overlap


def run(ctx: InsightContext) -> AnalysisOutput:
    body, figures = publish_overlap(ctx)
    return AnalysisOutput(body=body, key_figures=figures)


ANALYSIS = register(
    Analysis(
        name="service-overlap",
        title="Service overlap",
        question="How many residents does each pair of partners share, and how many are "
        "known to three or more services?",
        purpose="analysis/service-overlap",
        tables=("event", "person_index"),
        outputs=("shared_residents", "residents_by_services", "service_combinations"),
        run=run,
    )
)
