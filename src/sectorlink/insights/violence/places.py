"""Places: incidents clustered around the spot they concentrate at, each place in one area.

A hotspot is a place (a pub and its frontage, a bus station, a stretch of street), not a
small area: the places do not follow the areas' outlines, and the points the services
record scatter tens of metres around the place (the ambulance's fix, the officer's
location, a postcode's centroid). A place near an area's edge therefore spills part of
its incidents into the next area, which then looks like a hotspot of its own. Counting
each place once, in the area that holds most of it, removes that.

The places are the modes of the incidents' density, found by mean-shift with a flat
kernel of radius `radius_m` on a grid of cells a third of that across, all in DuckDB
SQL (linear in the number of occupied cells):

1. each incident's point goes to its cell; each cell's density is the number of
   incidents in the cells within `radius_m` of it;
2. each cell steps to the densest cell within `radius_m` (itself included; ties to the
   smallest cell), and the steps are followed to their end (pointer jumping): the end is
   the cell's mode, the place;
3. an incident within `radius_m` of its place's mode belongs to the place, and the
   place's area is the area most of those incidents lie in. An incident farther out, or
   with no point, keeps its own area.

An isolated incident is its own place and keeps its area; only incidents that crowd
around one spot are moved, and by at most `radius_m`.
"""

from __future__ import annotations

import math

import duckdb

PLACE_TABLE = "v_place"
_METRES_PER_DEGREE = 111_200.0
_MAX_JUMPS = 64


def attribute_to_places(
    con: duckdb.DuckDBPyConnection, incidents: str, *, radius_m: float = 150.0
) -> int:
    """Write `v_place(incident_id, place_area)` for the incidents of table `incidents`
    (columns `incident_id, area, lat, lon`) that have a point and an area; returns how
    many of them the places move to another area."""
    if radius_m <= 0:
        raise ValueError(f"place_radius_m must be positive, not {radius_m}")
    cell = radius_m / 3
    reach = math.ceil(radius_m / cell)
    lat0 = con.execute(
        f"SELECT avg(lat) FROM {incidents} WHERE lat IS NOT NULL AND area IS NOT NULL"
    ).fetchone()
    if lat0 is None or lat0[0] is None:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {PLACE_TABLE} (incident_id VARCHAR, place_area VARCHAR)"
        )
        return 0
    # A local plane in metres: equirectangular about the incidents' mean latitude, exact
    # enough over a region a few tens of kilometres across.
    x_scale = _METRES_PER_DEGREE * math.cos(math.radians(float(lat0[0])))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pl_point AS
        SELECT incident_id, area,
               CAST(floor(lon * {x_scale} / {cell}) AS BIGINT) AS cx,
               CAST(floor(lat * {_METRES_PER_DEGREE} / {cell}) AS BIGINT) AS cy
        FROM {incidents} WHERE lat IS NOT NULL AND lon IS NOT NULL AND area IS NOT NULL"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pl_offset AS
        SELECT a.dx, b.dy FROM range(-{reach}, {reach} + 1) a(dx),
                               range(-{reach}, {reach} + 1) b(dy)
        WHERE (a.dx * a.dx + b.dy * b.dy) * {cell * cell} <= {radius_m * radius_m} + 1e-6"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pl_cell AS
        SELECT cx, cy, count(*) AS n FROM _pl_point GROUP BY ALL"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pl_density AS
        SELECT c.cx, c.cy, sum(d.n) AS s
        FROM _pl_cell c CROSS JOIN _pl_offset o
        JOIN _pl_cell d ON d.cx = c.cx + o.dx AND d.cy = c.cy + o.dy
        GROUP BY ALL"""
    )
    # One step uphill: (density desc, cx, cy) is a strict order, so no step goes round in
    # a circle and every chain of steps ends at a mode.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pl_step AS
        SELECT cx, cy, tx, ty FROM (
            SELECT c.cx, c.cy, d.cx AS tx, d.cy AS ty,
                   row_number() OVER (PARTITION BY c.cx, c.cy ORDER BY d.s DESC, d.cx, d.cy)
                       AS rank
            FROM _pl_density c CROSS JOIN _pl_offset o
            JOIN _pl_density d ON d.cx = c.cx + o.dx AND d.cy = c.cy + o.dy
        ) WHERE rank = 1"""
    )
    for _ in range(_MAX_JUMPS):
        changed = con.execute(
            """UPDATE _pl_step SET tx = n.tx, ty = n.ty FROM _pl_step n
            WHERE _pl_step.tx = n.cx AND _pl_step.ty = n.cy
              AND (n.tx <> _pl_step.tx OR n.ty <> _pl_step.ty)"""
        ).fetchone()
        if not changed or not changed[0]:
            break
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pl_core AS
        SELECT p.incident_id, p.area, s.tx, s.ty FROM _pl_point p JOIN _pl_step s USING (cx, cy)
        WHERE (p.cx - s.tx) * (p.cx - s.tx) + (p.cy - s.ty) * (p.cy - s.ty) <= {reach * reach}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {PLACE_TABLE} AS
        WITH share AS (
            SELECT tx, ty, area, count(*) AS n FROM _pl_core GROUP BY ALL
        ), home AS (
            SELECT tx, ty, arg_min(area, (-n, area)) AS place_area FROM share GROUP BY ALL
        )
        SELECT c.incident_id, h.place_area FROM _pl_core c JOIN home h USING (tx, ty)"""
    )
    moved = con.execute(
        f"""SELECT count(*) FROM {PLACE_TABLE} p JOIN {incidents} i USING (incident_id)
        WHERE p.place_area <> i.area"""
    ).fetchone()
    for table in ("_pl_point", "_pl_offset", "_pl_cell", "_pl_density", "_pl_step", "_pl_core"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return int(moved[0]) if moved else 0
