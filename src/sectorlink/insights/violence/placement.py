"""Placing incidents that no source located, by the named place the patient gave.

Most A&E patients do not know the assault's postcode, and an assault only A&E saw has no
coordinates. But the ISTV location description often names a place (`The Crown, Mill
Lane`, `Millham Bus Station`) that other incidents, placed by coordinates or postcode,
locate. An unplaced incident takes the small area of its description when at least
`min_placed` placed incidents share that description (case and spacing ignored) and at
least `min_share` of them lie in that one area; its `area_by` is then `description`.
Descriptions that name no one place (`Own home`, a venue name found all over the
region) fail the share and leave the incident unplaced, so it is counted as unplaced,
not guessed.
"""

from __future__ import annotations

import duckdb

from sectorlink.insights.violence.incidents import INCIDENT_TABLE


def place_by_description(
    con: duckdb.DuckDBPyConnection, *, min_placed: int = 3, min_share: float = 0.7
) -> int:
    """Fill `area` of unplaced incidents from their description; returns how many."""

    def key(column: str) -> str:
        return f"lower(regexp_replace(trim({column}), '\\s+', ' ', 'g'))"

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _v_named AS
        WITH placed AS (
            SELECT {key("description")} AS place, area, count(*) AS n FROM {INCIDENT_TABLE}
            WHERE area IS NOT NULL AND description IS NOT NULL GROUP BY ALL
        ), ranked AS (
            SELECT place, area, n, sum(n) OVER (PARTITION BY place) AS total,
                   row_number() OVER (PARTITION BY place ORDER BY n DESC, area) AS rank
            FROM placed
        )
        SELECT place, area FROM ranked
        WHERE rank = 1 AND total >= {int(min_placed)} AND n >= {float(min_share)} * total"""
    )
    row = con.execute(
        f"""UPDATE {INCIDENT_TABLE} SET area = n.area, area_by = 'description'
        FROM _v_named n
        WHERE {INCIDENT_TABLE}.area IS NULL AND {INCIDENT_TABLE}.description IS NOT NULL
          AND n.place = {key(INCIDENT_TABLE + ".description")}"""
    ).fetchone()
    con.execute("DROP TABLE _v_named")
    return int(row[0]) if row else 0
