"""The `mlp-measures` analysis: the funnel, the NCMLP measures and health use, each table
through the disclosure gate, and a funder-ready page body built from the published tables."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from sectorlink.governance import ProtectedTable
from sectorlink.insights.context import AnalysisOutput, InsightContext, NothingToPublish
from sectorlink.insights.mlp.cases import build_cases
from sectorlink.insights.mlp.funnel import STEPS, funnel_long, funnel_statistics
from sectorlink.insights.mlp.health_use import NOT_A_TRIAL, health_use
from sectorlink.insights.mlp.measures import (
    MEASURES,
    benefit_by,
    measure_by_area_quarter,
    measures_by,
)
from sectorlink.insights.writers import table_html
from sectorlink.reports.charts import bar_chart_svg

LANGUAGE_NOTE = (
    "Language: the law centre's extract carries no language field, so the funnel is not "
    "broken down by language."
)


def _cell(table: ProtectedTable, row: Any, column: str) -> float | None:
    """A published value, or None where the gate hid it."""
    if row not in table.table.index or bool(table.suppressed.at[row, column]):
        return None
    value = table.table.at[row, column]
    return None if value is None or value != value else float(value)


def _publish(ctx: InsightContext, name: str, frame: Any, **options: Any) -> ProtectedTable | None:
    """`ctx.publish`, with the label columns' names kept on a table labelled by several
    columns (the gate returns such a table with unnamed index levels, which the writers
    would write as level_0, level_1)."""
    table = ctx.publish(name, frame, **options)
    labels = list(options.get("labels", ()))
    if table is not None and len(labels) > 1:
        for part in (table.table, table.suppressed):
            if part.index.nlevels == len(labels):
                part.index.names = labels
    return table


def _publish_funnel(ctx: InsightContext) -> tuple[Markup, dict[str, Any]]:
    body, figures = Markup("<h3>The funnel</h3>"), {}
    overall = ctx.publish(
        "funnel",
        funnel_long(ctx.con, "all").drop(columns="all"),
        title="MLP funnel: screenings reaching each step",
        labels=["step"],
        totals=False,  # the steps are nested, not parts of a whole
    )
    if overall is not None:
        values = [_cell(overall, s, "screenings") for s in STEPS]
        svg = bar_chart_svg(
            [s.replace("_", " ") for s in STEPS], [v or 0.0 for v in values], title="MLP funnel"
        )
        ctx.figure("funnel", svg, title="MLP funnel: screenings reaching each step")
        body += Markup(svg) + table_html(overall, caption=ctx.table_titles["funnel"])
        figures = {s: int(v) for s, v in zip(STEPS, values, strict=True) if v is not None}
    for dimension in ("all", "domain", "neighbourhood", "month"):
        if dimension != "all":
            counts = _publish(
                ctx,
                f"funnel_by_{dimension}",
                funnel_long(ctx.con, dimension),
                title=f"MLP funnel by {dimension} (screenings reaching each step)",
                labels=[dimension, "step"],
                totals=False,
            )
            if counts is not None and dimension == "domain":
                body += table_html(counts, caption=ctx.table_titles["funnel_by_domain"])
        stats = ctx.publish_statistics(
            f"conversion_by_{dimension}",
            funnel_statistics(ctx.con, dimension),
            title="Conversion and median days between steps"
            + ("" if dimension == "all" else f", by {dimension}"),
            support="reached",
            labels=[dimension, "step"],
        )
        if dimension == "all":
            body += table_html(stats, caption=ctx.table_titles["conversion_by_all"])
    return body, figures


def _publish_measures(ctx: InsightContext) -> Markup:
    body = Markup("<h3>NCMLP standard measures</h3>")
    for dimension in ("neighbourhood", "quarter"):
        table = _publish(
            ctx,
            f"ncmlp_by_{dimension}",
            measures_by(ctx.con, dimension),
            title=f"NCMLP measures by {dimension} (screenings)",
            labels=[dimension, "measure"],
            totals=False,
        )
        if table is not None and dimension == "neighbourhood":
            body += table_html(table, caption=ctx.table_titles["ncmlp_by_neighbourhood"])
        benefit = ctx.publish_statistics(
            f"benefit_by_{dimension}",
            benefit_by(ctx.con, dimension),
            title=f"Financial benefit won, by {dimension}",
            support="cases_with_benefit",
            labels=[dimension],
        )
        if dimension == "neighbourhood":
            body += table_html(benefit, caption=ctx.table_titles["benefit_by_neighbourhood"])
    if ctx.params.get("crossed"):
        for measure in MEASURES:
            _publish(
                ctx,
                f"ncmlp_{measure}_by_neighbourhood_quarter",
                measure_by_area_quarter(ctx.con, measure),
                title=f"NCMLP measure '{measure}' by neighbourhood and quarter",
                labels=["neighbourhood", "quarter"],
            )
    return body


def _publish_health_use(ctx: InsightContext) -> tuple[Markup, dict[str, Any]]:
    window = int(ctx.params.get("window_days", 182))
    use = health_use(ctx.con, window_days=window, min_group=ctx.profile.min_count)
    body = Markup("<h3>Health use before and after legal help</h3>")
    body += Markup("<p class='caveat'><strong>{}</strong></p>").format(NOT_A_TRIAL)
    ctx.note(NOT_A_TRIAL)
    figures: dict[str, Any] = {}
    if not use.reportable:
        ctx.withheld.append("health_use")
        ctx.note(f"Health use before and after legal help: {use.reason}")
        return body + Markup("<p>{}</p>").format(use.reason), figures
    stats = ctx.publish_statistics(
        "health_use",
        use.table,
        title=f"Mean A&E attendances and ambulance call-outs per person, {window} days before "
        "and after legal intake (comparison: matched people with a need, not helped)",
        support="people",
        labels=["group"],
    )
    body += table_html(stats, caption=ctx.table_titles["health_use"])
    for kind in ("ae", "ambulance"):
        diff = use.difference(kind)
        if diff is not None:
            figures[f"{kind}_difference_in_differences"] = round(diff, 3)
    return body, figures


def run(ctx: InsightContext) -> AnalysisOutput:
    if not build_cases(ctx):
        raise NothingToPublish(f"no MLP screening between {ctx.period_start} and {ctx.period_end}")
    ctx.note(LANGUAGE_NOTE)
    body, figures = _publish_funnel(ctx)
    body += _publish_measures(ctx)
    use_body, use_figures = _publish_health_use(ctx)
    body += use_body + Markup("<p class='note'>{}</p>").format(LANGUAGE_NOTE)
    return AnalysisOutput(body=body, key_figures={**figures, **use_figures})
