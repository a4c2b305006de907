"""What the warehouse holds per source: loads, rows, rejects, field issues and quality."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from sectorlink.warehouse import table_exists


@dataclass(frozen=True)
class SourceSummary:
    source: str
    loads: int
    rows_read: int
    rows_rejected: int
    person_records: int
    events: int
    completeness: float
    validity: float
    unmapped_values: int
    field_issues: int = 0
    """Values set empty in rows that loaded (the field_issues table)."""

    @property
    def reject_rate(self) -> float:
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0


SUMMARY_SQL = """
WITH live AS (SELECT * FROM load WHERE superseded_by IS NULL),
q AS (
    SELECT l.source,
           avg(CASE WHEN lq.rows > 0 THEN lq.present / lq.rows END) AS completeness,
           avg(CASE WHEN lq.present > 0 THEN lq.valid / lq.present END) AS validity
    FROM load_quality lq JOIN live l USING (load_id) GROUP BY l.source
),
u AS (SELECT l.source, sum(u.rows) AS unmapped FROM unmapped_code u JOIN live l USING (load_id)
      GROUP BY l.source),
p AS (SELECT source, count(*) AS n FROM person_record GROUP BY source),
e AS (SELECT source, count(*) AS n FROM event GROUP BY source),
f AS ({field_issues})
SELECT live.source, count(*), sum(rows_read), sum(rows_rejected),
       coalesce(any_value(p.n), 0), coalesce(any_value(e.n), 0),
       coalesce(any_value(q.completeness), 1), coalesce(any_value(q.validity), 1),
       coalesce(any_value(u.unmapped), 0), coalesce(any_value(f.n), 0)
FROM live LEFT JOIN q USING (source) LEFT JOIN u USING (source)
     LEFT JOIN p USING (source) LEFT JOIN e USING (source) LEFT JOIN f USING (source)
GROUP BY live.source ORDER BY live.source
"""
FIELD_ISSUES_SQL = (
    "SELECT l.source, count(*) AS n FROM field_issues i JOIN live l USING (load_id) GROUP BY 1"
)
# A warehouse from before field issues has no such table (and is opened read-only).
NO_FIELD_ISSUES_SQL = "SELECT NULL::VARCHAR AS source, 0 AS n WHERE false"


def source_summaries(con: duckdb.DuckDBPyConnection) -> list[SourceSummary]:
    """One summary per source with a live load, from the warehouse's load bookkeeping."""
    issues = FIELD_ISSUES_SQL if table_exists(con, "field_issues") else NO_FIELD_ISSUES_SQL
    return [
        SourceSummary(
            str(r[0]),
            int(r[1]),
            int(r[2]),
            int(r[3]),
            int(r[4]),
            int(r[5]),
            float(r[6]),
            float(r[7]),
            int(r[8]),
            int(r[9]),
        )
        for r in con.execute(SUMMARY_SQL.format(field_issues=issues)).fetchall()
    ]
