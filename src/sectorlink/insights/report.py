"""The hub report's section for one analysis run."""

from __future__ import annotations

from markupsafe import Markup, escape

from sectorlink.insights.context import NothingToPublish
from sectorlink.insights.run import InsightRun
from sectorlink.reports.render import ReportSection


def _figure_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def insight_section(run: InsightRun | NothingToPublish, *, title: str = "") -> ReportSection:
    """A report section: the analysis' own body, its notes and where its release is."""
    if isinstance(run, NothingToPublish):
        return ReportSection(title=title or "Analysis", body=Markup(f"<p>{escape(str(run))}</p>"))
    where = (
        Markup(
            f"<p class='note'>Release: <code>{escape(str(run.out_dir))}</code> "
            f"(summary.html, tables as CSV and Parquet with suppression logs).</p>"
        )
        if run.out_dir
        else Markup("")
    )
    notes = (
        Markup("<ul class='note'>")
        + Markup("").join(Markup("<li>{}</li>").format(n) for n in run.notes)
        + Markup("</ul>")
        if run.notes
        else Markup("")
    )
    headline = {
        f"{run.analysis.title}: {k.replace('_', ' ')}": _figure_text(v)
        for k, v in list(run.output.key_figures.items())[:2]
    }
    return ReportSection(
        title=title or run.analysis.title,
        body=Markup(f"<p>{escape(run.analysis.question)}</p>") + run.output.body + notes + where,
        anchor=run.analysis.name,
        headline=headline,
    )
