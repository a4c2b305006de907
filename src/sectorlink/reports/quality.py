"""The ingest quality section: per source rows, rejects, field issues, completeness,
validity, unmapped codes.

Rejected rows and field issues are summarised by kind of problem (read from their codes),
without their values, so the report can be shared without carrying identifiers.
"""

from __future__ import annotations

import duckdb

from sectorlink.reports.charts import bar_chart_svg
from sectorlink.reports.render import ReportSection, render_section
from sectorlink.sources.reasons import PROBLEM_LABELS
from sectorlink.sources.summary import source_summaries
from sectorlink.warehouse import table_exists


def _kind_sql(code: str) -> str:
    """The report's name for a problem code ('other' for a row without one: a warehouse
    loaded before problems had codes)."""
    pairs = ", ".join(f"'{c}': '{label}'" for c, label in PROBLEM_LABELS.items())
    return f"coalesce(map_extract_value(MAP {{{pairs}}}, {code}), 'other')"


REJECT_KINDS_SQL = f"""
SELECT source, target, column_name, {_kind_sql("code")} AS kind,
       count(*) AS rows, min(source_row) AS first_row
FROM rejects JOIN load USING (load_id, source)
WHERE load.superseded_by IS NULL
GROUP BY ALL ORDER BY source, rows DESC
"""

FIELD_ISSUE_KINDS_SQL = f"""
SELECT source, field, column_name, {_kind_sql("code")} AS kind,
       count(*) AS rows, min(source_row) AS first_row
FROM field_issues JOIN load USING (load_id, source)
WHERE load.superseded_by IS NULL
GROUP BY ALL ORDER BY source, rows DESC
"""

FIELD_QUALITY_SQL = """
SELECT l.source, q.table_name, q.field, sum(q.rows), sum(q.present), sum(q.valid), any_value(q.rule)
FROM load_quality q JOIN load l USING (load_id)
WHERE l.superseded_by IS NULL
GROUP BY ALL ORDER BY 1, 2, 3
"""

UNMAPPED_SQL = """
SELECT l.source, u.table_name || '.' || u.field, u.column_name, u.local_value, sum(u.rows)
FROM unmapped_code u JOIN load l USING (load_id)
WHERE l.superseded_by IS NULL
GROUP BY ALL ORDER BY 1, 5 DESC
"""


def quality_section(con: duckdb.DuckDBPyConnection) -> ReportSection:
    """The data quality section of the hub report, read from the warehouse's load tables."""
    summaries = source_summaries(con)
    rows_read = sum(s.rows_read for s in summaries)
    rejected = sum(s.rows_rejected for s in summaries)
    labels = [s.source for s in summaries]
    charts = [
        bar_chart_svg(
            labels,
            [s.completeness for s in summaries],
            title="Completeness of mapped fields",
            max_value=1.0,
            percent=True,
        ),
        bar_chart_svg(
            labels,
            [s.validity for s in summaries],
            title="Validity of present values",
            max_value=1.0,
            percent=True,
        ),
    ]
    # A warehouse from before field issues has no such table (the report opens it read-only).
    issues = (
        con.execute(FIELD_ISSUE_KINDS_SQL).fetchall() if table_exists(con, "field_issues") else []
    )
    fields: dict[str, list[tuple[object, ...]]] = {}
    for row in con.execute(FIELD_QUALITY_SQL).fetchall():
        fields.setdefault(str(row[0]), []).append(row[1:])
    body = render_section(
        "quality.html.j2",
        summaries=summaries,
        charts=charts,
        rejects=con.execute(REJECT_KINDS_SQL).fetchall(),
        field_issues=issues,
        fields=fields,
        unmapped=con.execute(UNMAPPED_SQL).fetchall(),
    )
    headline = {
        "partner extracts": f"{len(summaries):,}",
        "rows read": f"{rows_read:,}",
        "rows rejected (kept)": f"{rejected:,} ({rejected / rows_read:.1%})" if rows_read else "0",
        "values set empty (field issues)": f"{sum(int(r[4]) for r in issues):,}",
    }
    return ReportSection("Ingest and data quality", body, anchor="quality", headline=headline)
