"""Service overlap: how many residents each pair of partners shares, and how many are
known to three or more services. The smallest complete analysis, and the argument for
joining up: it reads only the person index and publishes two gated tables."""

from __future__ import annotations

from markupsafe import Markup

from sectorlink.insights.context import AnalysisOutput, InsightContext, NothingToPublish
from sectorlink.insights.registry import Analysis, register
from sectorlink.insights.writers import table_html
from sectorlink.reports.charts import bar_chart_svg


def run(ctx: InsightContext) -> AnalysisOutput:
    # A resident is known to a source when any of its person records is theirs and they
    # had an event in the period (or the source sends no events: a register).
    known = f"""
        SELECT DISTINCT p.source, p.person_key FROM person_index p
        WHERE EXISTS (SELECT 1 FROM event e WHERE e.source = p.source
                      AND e.record_id = p.record_id AND {ctx.period_sql("e.start_time")})
           OR NOT EXISTS (SELECT 1 FROM event e WHERE e.source = p.source)
    """
    ctx.con.execute(f"CREATE OR REPLACE TEMP TABLE known AS {known}")
    people = ctx.sql("SELECT count(DISTINCT person_key) AS n FROM known")["n"].iloc[0]
    if not people:
        raise NothingToPublish(
            f"no resident is known to any service between {ctx.period_start} and {ctx.period_end}"
        )
    pairs = ctx.sql(
        """SELECT a.source AS source, b.source AS other, count(*) AS residents
        FROM known a JOIN known b USING (person_key)
        GROUP BY ALL ORDER BY ALL"""
    )
    matrix = (
        pairs.pivot(index="source", columns="other", values="residents").fillna(0).astype("int64")
    )
    matrix.columns.name = None
    shared = ctx.publish(
        "shared_residents",
        matrix.reset_index(),
        title="Residents known to both services (diagonal: known to the service)",
        labels=["source"],
        totals=False,
    )
    services = ctx.sql(
        """SELECT CASE WHEN n >= 3 THEN '3 or more' ELSE CAST(n AS VARCHAR) END AS services,
                  count(*) AS residents
        FROM (SELECT person_key, count(*) AS n FROM known GROUP BY person_key)
        GROUP BY ALL ORDER BY services"""
    )
    by_count = ctx.publish(
        "residents_by_services",
        services,
        title="Residents by number of services that know them",
        labels=["services"],
    )
    body = Markup("")
    figures: dict[str, object] = {}
    if by_count is not None:
        shown = by_count.table.drop(index="Total", errors="ignore")
        values = [0.0 if v is None or v != v else float(v) for v in shown["residents"]]
        svg = bar_chart_svg(
            [str(i) for i in shown.index], values, title="Residents by number of services"
        )
        ctx.figure("residents_by_services", svg, title="Residents by number of services")
        body += Markup(svg) + table_html(
            by_count, caption=ctx.table_titles["residents_by_services"]
        )
        three = by_count.table["residents"].get("3 or more")
        total = by_count.table["residents"].get("Total")
        if three is not None and total:
            figures["known_to_3_or_more_services"] = round(float(three) / float(total), 3)
    if shared is not None:
        body += table_html(shared, caption=ctx.table_titles["shared_residents"])
    figures["services"] = len(ctx.sources)
    return AnalysisOutput(body=body, key_figures=figures)


ANALYSIS = register(
    Analysis(
        name="service-overlap",
        title="Service overlap",
        question="How many residents does each pair of partners share, and how many are "
        "known to three or more services?",
        purpose="analysis/service-overlap",
        tables=("event", "person_index"),
        outputs=("shared_residents", "residents_by_services"),
        run=run,
    )
)
