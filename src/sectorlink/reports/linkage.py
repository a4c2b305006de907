"""The person linkage section: how many people, how well linked against the truth."""

from __future__ import annotations

import os
from pathlib import Path

from sectorlink.linkage import Evaluation, LinkResult
from sectorlink.reports.render import ReportSection, render_section


def linkage_section(
    result: LinkResult,
    evaluation: Evaluation | None,
    *,
    report_dir: Path,
) -> ReportSection:
    """Summary of a linkage run, scored against the truth when it is known.

    Links to the detailed linkage report (Splink's charts) relative to `report_dir`.
    """
    detailed = result.outputs.get("report")
    link = os.path.relpath(detailed, report_dir) if detailed is not None else None
    body = render_section(
        "linkage.html.j2",
        result=result,
        evaluation=evaluation,
        detailed=link,
        sources=sorted(result.sources.items()),
    )
    headline = {"people in the person index": f"{result.persons:,}"}
    if evaluation is not None:
        headline["linkage F1 against the truth"] = f"{evaluation.overall.f1:.3f}"
    return ReportSection("Person linkage", body, anchor="linkage", headline=headline)
