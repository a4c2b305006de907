"""Publishing the overlap: the pairwise matrix, residents by number of services and the
UpSet chart of exact combinations, each table through the gate. Used by both
`service-overlap` and `value-case`."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from sectorlink.governance import ProtectedTable
from sectorlink.insights.context import InsightContext, NothingToPublish
from sectorlink.insights.value.overlap import (
    build_known,
    combinations,
    pair_matrix,
    residents_by_services,
)
from sectorlink.insights.value.upset import upset_svg
from sectorlink.insights.writers import table_html
from sectorlink.reports.charts import bar_chart_svg


def _value(table: ProtectedTable, row: Any, column: str) -> float | None:
    if row not in table.table.index or bool(table.suppressed.at[row, column]):
        return None
    value = table.table.at[row, column]
    return None if value is None or value != value else float(value)


def publish_overlap(ctx: InsightContext) -> tuple[Markup, dict[str, Any]]:
    """Publish `shared_residents`, `residents_by_services` and `service_combinations`
    (with the `residents_by_services` bar chart and the `service_upset` chart); returns the
    page body and key figures. NothingToPublish when no resident is known in the period."""
    if not build_known(ctx):
        raise NothingToPublish(
            f"no resident is known to any service between {ctx.period_start} and {ctx.period_end}"
        )
    shared = ctx.publish(
        "shared_residents",
        pair_matrix(ctx),
        title="Residents known to both services (diagonal: known to the service)",
        labels=["source"],
        totals=False,
    )
    by_count = ctx.publish(
        "residents_by_services",
        residents_by_services(ctx),
        title="Residents by number of services that know them",
        labels=["services"],
    )
    combos = ctx.publish(
        "service_combinations",
        combinations(ctx).drop(columns="services"),
        title="Residents by the exact combination of services that know them",
        labels=["combination"],
    )
    body = Markup("")
    figures: dict[str, Any] = {}
    if by_count is not None:
        shown = by_count.table.drop(index="Total", errors="ignore")
        values = [_value(by_count, label, "residents") or 0.0 for label in shown.index]
        svg = bar_chart_svg(
            [str(i) for i in shown.index], values, title="Residents by number of services"
        )
        ctx.figure("residents_by_services", svg, title="Residents by number of services")
        body += Markup(svg) + table_html(
            by_count, caption=ctx.table_titles["residents_by_services"]
        )
        three = _value(by_count, "3 or more", "residents")
        total = _value(by_count, "Total", "residents")
        if three is not None and total:
            figures["known_to_3_or_more_services"] = round(three / total, 3)
    if combos is not None and shared is not None:
        bars = [
            (str(label).split(" & "), _value(combos, label, "residents"))
            for label in combos.table.index
            if label not in ("Total", "other combinations")
        ]
        sizes = [(str(s), _value(shared, s, str(s))) for s in shared.table.index]
        svg = upset_svg(bars, sizes, title="Residents by combination of services (UpSet)")
        ctx.figure("service_upset", svg, title="Residents by combination of services (UpSet)")
        body += Markup(svg)
    if shared is not None:
        body += table_html(shared, caption=ctx.table_titles["shared_residents"])
    figures["services"] = len(ctx.sources)
    return body, figures
