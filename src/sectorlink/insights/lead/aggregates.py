"""The aggregates the lead-risk run publishes through the gate: elevated rates by year
and small area (with a map), children tested and elevated by small area and year, and the
field issues found in the results. Every figure counts children (not tests), each test
judged against the reference value in force at its sample date."""

from __future__ import annotations

from markupsafe import Markup

from sectorlink.insights.context import InsightContext
from sectorlink.insights.lead.pipeline import LeadRiskResult
from sectorlink.insights.writers import table_html
from sectorlink.reports.maps import choropleth_svg

_EPISODES = """
    SELECT e.person_key, e.elevated, e.reference_value, year(e.sample_date) AS year,
           coalesce(pr.small_area, e.area, 'unplaced') AS area
    FROM lead_episode e
    LEFT JOIN property pr ON pr.source = e.source AND pr.property_id = e.property_id
    WHERE {period}
"""


def publish_aggregates(ctx: InsightContext, result: LeadRiskResult) -> Markup:
    """Publish the aggregates; the release body's part for them."""
    episodes = _EPISODES.format(period=ctx.period_sql("e.sample_date"))
    body = Markup("")
    by_year = ctx.sql(
        f"""SELECT year, string_agg(DISTINCT CAST(reference_value AS VARCHAR), ' and '
                   ORDER BY CAST(reference_value AS VARCHAR) DESC) AS reference_value_ug_dl,
                   count(DISTINCT person_key) AS children_tested,
                   count(DISTINCT person_key) FILTER (WHERE elevated)
                       / count(DISTINCT person_key) AS elevated_rate
            FROM ({episodes}) GROUP BY year ORDER BY year"""
    )
    by_year["year"] = by_year["year"].astype(str)
    year_table = ctx.publish_statistics(
        "elevated_rate_by_year",
        by_year,
        title="Children with an elevated test, by year (reference value in force)",
        support="children_tested",
        labels=["year"],
    )
    body += table_html(year_table, caption=ctx.table_titles["elevated_rate_by_year"])

    by_area = ctx.sql(
        f"""SELECT area, count(DISTINCT person_key) AS children_tested,
                   count(DISTINCT person_key) FILTER (WHERE elevated)
                       / count(DISTINCT person_key) AS elevated_rate
            FROM ({episodes}) GROUP BY area ORDER BY area"""
    )
    area_table = ctx.publish_statistics(
        "elevated_rate_by_area",
        by_area,
        title="Children with an elevated test, by small area",
        support="children_tested",
        labels=["area"],
    )
    collection = ctx.publish_map(
        "elevated_rate_by_area",
        area_table,
        value="elevated_rate",
        title="Share of tested children with an elevated test",
    )
    svg = choropleth_svg(
        collection, "elevated_rate", title="Share of tested children with an elevated test"
    )
    ctx.figure("elevated_rate_map", svg, title="Share of tested children with an elevated test")
    body += Markup(svg)

    # Counts by year go by neighbourhood: small areas by year are too thin to survive
    # the gate (and the interval check on a large sparse table is slow for nothing).
    cells = ctx.sql(
        f"""SELECT coalesce(g.parent, 'unplaced') AS neighbourhood,
                   CAST(year AS VARCHAR) AS year,
                   count(DISTINCT person_key) AS tested,
                   count(DISTINCT person_key) FILTER (WHERE elevated) AS elevated
            FROM ({episodes}) e LEFT JOIN geo_area g ON g.code = e.area GROUP BY ALL"""
    )
    for column, name, title in (
        ("elevated", "elevated_children_by_neighbourhood_year", "Children with an elevated test"),
        ("tested", "tested_children_by_neighbourhood_year", "Children tested"),
    ):
        wide = cells.pivot(index="neighbourhood", columns="year", values=column).fillna(0)
        wide = wide.astype("int64").reset_index()
        wide.columns.name = None
        table = ctx.publish(
            name, wide, title=f"{title}, by neighbourhood and year", labels=["neighbourhood"]
        )
        if table is not None:
            body += table_html(table, caption=ctx.table_titles[name])

    issues = ctx.sql(
        "SELECT field, issue, count(*) AS results FROM lead_issue GROUP BY ALL ORDER BY ALL"
    )
    if len(issues):
        table = ctx.publish(
            "field_issues",
            issues,
            title="Test results left out as field issues",
            labels=["field", "issue"],
        )
        ctx.note(
            f"{int(issues['results'].sum())} test result(s) were left out as field issues "
            "(impossible values, unknown units, future or missing dates): see field_issues"
        )
        if table is not None:
            body += table_html(table, caption=ctx.table_titles["field_issues"])
    if result.counts.converted:
        ctx.note(f"{result.counts.converted} result(s) were converted to µg/dL from another unit")
    return body
