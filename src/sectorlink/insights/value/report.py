"""The `value-case` analysis: overlap (shared with service-overlap), the cost of service
use, estimated savings per intervention and the per-partner benefit report, every table
through the disclosure gate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from markupsafe import Markup

from sectorlink.insights.context import AnalysisOutput, InsightContext, InsightError
from sectorlink.insights.value.assumptions import Assumption, load_assumptions
from sectorlink.insights.value.costs import (
    cost_by_cohort,
    cost_by_event_type,
    cost_concentration,
    cost_events,
)
from sectorlink.insights.value.overlap_report import publish_overlap
from sectorlink.insights.value.partners import (
    audit_uses,
    partner_activity,
    partner_records,
    uses_frame,
    uses_summary,
)
from sectorlink.insights.value.savings import estimated_savings
from sectorlink.insights.value.unit_costs import UnitCosts, load_unit_costs
from sectorlink.insights.writers import table_html


def _path(ctx: InsightContext, name: str) -> Path | None:
    text = str(ctx.params.get(name) or "").strip()
    return Path(text) if text else None


def _day(ctx: InsightContext, name: str) -> dt.date | None:
    text = str(ctx.params.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InsightError(f"parameter {name} is a date written YYYY-MM-DD, not {text!r}") from None


def _sources_html(costs: UnitCosts, assumptions: list[Assumption]) -> Markup:
    """The unit costs and effect sizes the figures rest on (configuration, not data)."""
    rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{:,.0f}</td><td>{}</td><td>{}</td></tr>").format(
            r.event_type, r.cost, r.unit, r.source
        )
        for r in costs.table.itertuples(index=False)
    )
    unit = Markup(
        "<table class='data'><caption>Unit costs ({} {}; {})</caption><thead><tr>"
        "<th>event type</th><th>cost</th><th>unit</th><th>source</th></tr></thead>"
        "<tbody>{}</tbody></table>"
    ).format(costs.currency, costs.price_year, costs.where, rows)
    effects = Markup("").join(
        Markup(
            "<tr><td>{}</td><td>{:.0%} / {:.0%} / {:.0%}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
        ).format(a.title, a.low, a.central, a.high, a.evidence, a.source, a.range)
        for a in assumptions
    )
    table = Markup(
        "<table class='data'><caption>Effect sizes (share of the cost avoided: low / central "
        "/ high)</caption><thead><tr><th>intervention</th><th>effect</th><th>evidence</th>"
        "<th>source</th><th>range</th></tr></thead><tbody>{}</tbody></table>"
    ).format(effects)
    return unit + table


def _publish_costs(ctx: InsightContext, costs: UnitCosts) -> tuple[Markup, dict[str, Any]]:
    missing = cost_events(ctx, costs, missing_as_zero=bool(ctx.params.get("cost_missing_as_zero")))
    if missing:
        ctx.note(
            "Costed at zero (no unit cost, as asked with cost_missing_as_zero): "
            + ", ".join(missing)
        )
    body = Markup("<h3>The cost of service use</h3>")
    figures: dict[str, Any] = {}
    by_type = ctx.publish_statistics(
        "cost_by_event_type",
        cost_by_event_type(ctx.con),
        title=f"Cost of service use by event type ({costs.currency})",
        support="people",
        labels=["event_type"],
    )
    body += table_html(by_type, caption=ctx.table_titles["cost_by_event_type"])
    for cohort in ("services", "age_band", "sex"):
        table = ctx.publish_statistics(
            f"cost_by_{cohort.replace('_band', '')}",
            cost_by_cohort(ctx, cohort),
            title=f"Total and per-person cost by {cohort.replace('_', ' ')} ({costs.currency})",
            support="people",
            labels=[cohort],
        )
        if cohort == "services":
            body += table_html(table, caption=ctx.table_titles["cost_by_services"])
    top = ctx.publish_statistics(
        "cost_concentration",
        cost_concentration(ctx.con),
        title="Share of all cost spent on the costliest 1% and 5% of residents",
        support="people",
        labels=["top"],
    )
    body += table_html(top, caption=ctx.table_titles["cost_concentration"])
    for label, key in (("top 1%", "cost_share_top_1pct"), ("top 5%", "cost_share_top_5pct")):
        if label in top.table.index and not top.suppressed.at[label, "share_of_cost"]:
            share = top.table.at[label, "share_of_cost"]
            if share is not None and share == share:  # no cost at all: no share to give
                figures[key] = round(float(share), 3)
    return body, figures


def _publish_savings(ctx: InsightContext, assumptions: list[Assumption]) -> Markup:
    table = ctx.publish_statistics(
        "estimated_savings",
        estimated_savings(ctx, assumptions),
        title="Estimated cost avoided per intervention in the period (low / central / high)",
        support="people",
        labels=["intervention"],
    )
    return Markup("<h3>Estimated savings</h3>") + table_html(
        table, caption=ctx.table_titles["estimated_savings"]
    )


def _publish_partners(ctx: InsightContext) -> Markup:
    body = Markup("<h3>What each partner gave and got back</h3>")
    records = partner_records(ctx)
    quiet = records.loc[records["events_in_period"] == 0, "partner"].tolist()
    for partner in quiet:
        ctx.note(f"{partner}: no data in the period ({ctx.period_start} to {ctx.period_end})")
    gave = ctx.publish(
        "partner_records",
        records,
        title="Per partner: records, records matched to another partner's, people, events "
        "in the period",
        labels=["partner"],
        totals=False,
    )
    if gave is not None:
        body += table_html(gave, caption=ctx.table_titles["partner_records"])
    if ctx.registry is None:
        ctx.note("The audit log was not read (no registry given): uses are not counted.")
        uses = uses_frame([], ctx.sources)
    else:
        since, until = _day(ctx, "audit_from"), _day(ctx, "audit_to")
        uses = uses_frame(
            audit_uses(ctx.registry, ctx.sources, since=since, until=until), ctx.sources
        )
    activity = ctx.publish_statistics(
        "partner_activity",
        partner_activity(ctx, uses),
        title="Per partner: extracts sent, rows sent, insight runs on its data, audited uses",
        support="records",
        labels=["partner"],
    )
    body += table_html(activity, caption=ctx.table_titles["partner_activity"])
    summary = uses_summary(uses, records)
    if not summary.empty:
        ctx.publish_statistics(
            "partner_uses",
            summary,
            title="Every use of each partner's data in the audit log, by organisation, "
            "action, purpose and outcome",
            support="records",
            labels=["partner", "organisation", "action", "purpose", "outcome"],
        )
    return body


def run(ctx: InsightContext) -> AnalysisOutput:
    costs = load_unit_costs(_path(ctx, "unit_costs"))
    assumptions = load_assumptions(_path(ctx, "assumptions"))
    body, figures = publish_overlap(ctx)
    cost_body, cost_figures = _publish_costs(ctx, costs)
    body += cost_body + _publish_savings(ctx, assumptions) + _publish_partners(ctx)
    body += Markup("<h3>What the figures rest on</h3>") + _sources_html(costs, assumptions)
    ctx.note(
        "Estimated savings are the period's cost of the events an intervention could avoid "
        "times an effect size from the literature or a stated assumption; they are not "
        "measured savings."
    )
    return AnalysisOutput(body=body, key_figures={**figures, **cost_figures})
