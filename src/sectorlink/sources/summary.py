"""What the warehouse holds per source: loads, rows, rejects and field quality."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


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
e AS (SELECT source, count(*) AS n FROM event GROUP BY source)
SELECT live.source, count(*), sum(rows_read), sum(rows_rejected),
       coalesce(any_value(p.n), 0), coalesce(any_value(e.n), 0),
       coalesce(any_value(q.completeness), 1), coalesce(any_value(q.validity), 1),
       coalesce(any_value(u.unmapped), 0)
FROM live LEFT JOIN q USING (source) LEFT JOIN u USING (source)
     LEFT JOIN p USING (source) LEFT JOIN e USING (source)
GROUP BY live.source ORDER BY live.source
"""


def source_summaries(con: duckdb.DuckDBPyConnection) -> list[SourceSummary]:
    """One summary per source with a live load, from the warehouse's load bookkeeping."""
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
        )
        for r in con.execute(SUMMARY_SQL).fetchall()
    ]
