"""One incident per assault, however many services saw it.

An assault can reach the hub as an ambulance call-out, an A&E attendance and a police
crime record. Events are joined into one incident when they belong to the same person
(the person index) and fall inside the time windows (an ambulance call up to
`ambulance_hours` before the A&E arrival; a police record within `police_days` of the
assault), and, where both events have a place, lie within `max_distance_km` of each
other. Each event joins at most one incident: pairs are taken mutual-best first (the
closest in time on both sides), in rounds, so two assaults on one person a day apart
stay two incidents.

The tables (temporary on the context's connection; the analysis keeps them in the
warehouse as `violence_incident` and `violence_incident_event`):

* `v_incident_event(incident_id, source, event_id, kind)`;
* `v_incident`: one row per incident with its best time and place (see `build_incidents`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from sectorlink.insights.violence.events import EVENT_TABLE

INCIDENT_TABLE = "v_incident"
INCIDENT_EVENT_TABLE = "v_incident_event"
_ROUNDS = 3


@dataclass(frozen=True)
class IncidentRules:
    """The windows that join events into incidents."""

    ambulance_hours: float = 6.0
    """An ambulance call up to this many hours before the A&E arrival is the same assault."""
    police_days: float = 2.0
    """A police record within this many days of the assault (either side) is the same."""
    max_distance_km: float = 3.0
    """Two events whose places are farther apart than this are not one incident."""

    def __post_init__(self) -> None:
        for name in ("ambulance_hours", "police_days", "max_distance_km"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")


def _distance_ok(a: str, b: str, km: float) -> str:
    # Equirectangular distance: exact enough over a region a few tens of km across.
    return (
        f"({a}.lat IS NULL OR {b}.lat IS NULL OR "
        f"111.2 * sqrt(power({a}.lat - {b}.lat, 2) + "
        f"power(({a}.lon - {b}.lon) * cos(radians(({a}.lat + {b}.lat) / 2)), 2)) <= {km})"
    )


def _match(
    con: duckdb.DuckDBPyConnection,
    left: str,
    right: str,
    window: str,
    gap: str,
    rules: IncidentRules,
    exclude: str = "true",
) -> None:
    """Pair events of kind `left` with events of kind `right` of the same person, inside
    `window` (SQL over aliases l and r), closest `gap` first, each event in at most one
    such pair; pairs go to `_v_pairs(link, l, r)` (event ids), `link` = 'left-right'.
    `exclude` is SQL over l and r leaving out events taken by an earlier link."""
    link = f"{left}-{right}"
    for _ in range(_ROUNDS):
        added = con.execute(
            f"""INSERT INTO _v_pairs
            WITH taken AS (SELECT l, r FROM _v_pairs WHERE link = '{link}'),
            candidates AS (
                SELECT l.eid AS l, r.eid AS r, {gap} AS gap
                FROM {EVENT_TABLE} l JOIN {EVENT_TABLE} r ON l.person_key = r.person_key
                WHERE l.kind = '{left}' AND r.kind = '{right}' AND ({window})
                  AND {_distance_ok("l", "r", rules.max_distance_km)}
                  AND l.eid NOT IN (SELECT l FROM taken) AND r.eid NOT IN (SELECT r FROM taken)
                  AND ({exclude})
            ), ranked AS (
                SELECT l, r,
                       row_number() OVER (PARTITION BY l ORDER BY gap, r) AS by_l,
                       row_number() OVER (PARTITION BY r ORDER BY gap, l) AS by_r
                FROM candidates
            )
            SELECT '{link}', l, r FROM ranked WHERE by_l = 1 AND by_r = 1"""
        ).fetchone()
        if not added or not added[0]:
            break


def build_incidents(
    con: duckdb.DuckDBPyConnection, rules: IncidentRules | None = None
) -> dict[str, int]:
    """Group `v_event` into incidents; write `v_incident_event` and `v_incident`.

    `v_incident` columns: `incident_id, person_key, incident_time` (the ISTV assault time,
    else the police offence time, else the ambulance call, else the A&E arrival),
    `month, hour_of_week` (0 = Monday 00:00-00:59), `weekday` (0 = Monday), `hour`,
    `area, area_by` (the first of: ambulance or police coordinates, then the A&E, ambulance
    or police postcode; `outside` or `unplaced` when none), `lat, lon, place_type` (ISTV:
    A&E's, else the police's), `method` (A&E's ISTV method), `description, site_code,
    seen_by_ae, seen_by_ambulance, seen_by_police, told_police, events`.

    Returns counts: incidents, events, and incidents seen by each combination.
    """
    rules = rules or IncidentRules()
    con.execute("CREATE OR REPLACE TEMP TABLE _v_pairs (link VARCHAR, l BIGINT, r BIGINT)")
    amb_seconds = rules.ambulance_hours * 3600
    police_seconds = rules.police_days * 86400
    # A&E with the ambulance that brought them: the call comes before the arrival (a few
    # minutes' slack for clocks that disagree).
    _match(
        con,
        "ae",
        "ambulance",
        f"epoch(l.arrival) - epoch(r.event_time) BETWEEN -900 AND {amb_seconds}",
        "abs(epoch(l.event_time) - epoch(r.event_time))",
        rules,
    )
    _match(
        con,
        "ae",
        "police",
        f"abs(epoch(l.event_time) - epoch(r.event_time)) <= {police_seconds}",
        "abs(epoch(l.event_time) - epoch(r.event_time))",
        rules,
    )
    # An ambulance call-out can bring in the police record its A&E attendance did not
    # (or be the police's incident on its own, when nobody attended): not a police record
    # already joined, nor an ambulance whose attendance already has one.
    _match(
        con,
        "ambulance",
        "police",
        f"abs(epoch(l.event_time) - epoch(r.event_time)) <= {police_seconds}",
        "abs(epoch(l.event_time) - epoch(r.event_time))",
        rules,
        exclude="""r.eid NOT IN (SELECT r FROM _v_pairs WHERE link = 'ae-police')
            AND l.eid NOT IN (SELECT a.r FROM _v_pairs a JOIN _v_pairs b ON a.l = b.l
                              WHERE a.link = 'ae-ambulance' AND b.link = 'ae-police')""",
    )
    # Each event's anchor: its A&E attendance, else its ambulance call-out, else itself.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _v_anchor AS
        WITH amb_to_ae AS (
            SELECT r AS eid, l AS anchor FROM _v_pairs WHERE link = 'ae-ambulance'
        ), pol_to AS (
            SELECT p.r AS eid, coalesce(x.anchor, p.l) AS anchor FROM _v_pairs p
            LEFT JOIN amb_to_ae x ON x.eid = p.l
            WHERE p.link IN ('ae-police', 'ambulance-police')
        )
        SELECT e.eid, coalesce(a.anchor, q.anchor, e.eid) AS anchor
        FROM {EVENT_TABLE} e
        LEFT JOIN amb_to_ae a ON a.eid = e.eid
        LEFT JOIN pol_to q ON q.eid = e.eid"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _v_grouped AS
        SELECT e.*, x.anchor FROM {EVENT_TABLE} e JOIN _v_anchor x USING (eid)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {INCIDENT_TABLE} AS
        WITH g AS (
            SELECT anchor,
                any_value(person_key) AS person_key,
                min(assault_time) FILTER (WHERE kind = 'ae') AS ae_assault,
                min(event_time) FILTER (WHERE kind = 'police') AS police_time,
                min(event_time) FILTER (WHERE kind = 'ambulance') AS ambulance_time,
                min(arrival) FILTER (WHERE kind = 'ae') AS ae_arrival,
                arg_min(area, CASE WHEN area_by = 'coordinates' AND kind = 'ambulance' THEN 1
                                   WHEN area_by = 'coordinates' THEN 2
                                   WHEN area_by = 'given' THEN 3
                                   WHEN area_by = 'postcode' AND kind = 'ae' THEN 4
                                   WHEN area_by = 'postcode' THEN 5 END)
                    FILTER (WHERE area IS NOT NULL) AS area,
                arg_min(area_by, CASE WHEN area_by = 'coordinates' AND kind = 'ambulance' THEN 1
                                      WHEN area_by = 'coordinates' THEN 2
                                      WHEN area_by = 'given' THEN 3
                                      WHEN area_by = 'postcode' AND kind = 'ae' THEN 4
                                      WHEN area_by = 'postcode' THEN 5 END)
                    FILTER (WHERE area IS NOT NULL) AS placed_by,
                bool_or(area_by = 'outside') AS any_outside,
                arg_min(lat, CASE kind WHEN 'ambulance' THEN 1 WHEN 'police' THEN 2 ELSE 3 END)
                    FILTER (WHERE lat IS NOT NULL) AS lat,
                arg_min(lon, CASE kind WHEN 'ambulance' THEN 1 WHEN 'police' THEN 2 ELSE 3 END)
                    FILTER (WHERE lat IS NOT NULL) AS lon,
                arg_min(place_type, CASE kind WHEN 'ae' THEN 1 ELSE 2 END)
                    FILTER (WHERE place_type IS NOT NULL AND place_type <> '98') AS place_type,
                bool_or(place_type = '98') AS place_not_known,
                any_value(method) FILTER (WHERE kind = 'ae') AS method,
                any_value(description) FILTER (WHERE kind = 'ae') AS description,
                any_value(site_code) FILTER (WHERE kind = 'ae') AS site_code,
                bool_or(kind = 'ae') AS seen_by_ae,
                bool_or(kind = 'ambulance') AS seen_by_ambulance,
                bool_or(kind = 'police') AS seen_by_police,
                any_value(told_police) FILTER (WHERE kind = 'ae') AS told_police,
                count(*) AS events
            FROM _v_grouped GROUP BY anchor
        ), t AS (
            SELECT *, coalesce(ae_assault, police_time, ambulance_time, ae_arrival)
                AS incident_time
            FROM g
        )
        SELECT 'VI' || lpad(CAST(row_number() OVER (ORDER BY incident_time, anchor) AS VARCHAR),
                            8, '0') AS incident_id,
               anchor, person_key, incident_time,
               date_trunc('month', incident_time)::DATE AS month,
               CAST(isodow(incident_time) - 1 AS INTEGER) AS weekday,
               CAST(hour(incident_time) AS INTEGER) AS hour,
               CAST((isodow(incident_time) - 1) * 24 + hour(incident_time) AS INTEGER)
                   AS hour_of_week,
               area,
               coalesce(placed_by, CASE WHEN any_outside THEN 'outside' ELSE 'unplaced' END)
                   AS area_by,
               lat, lon,
               coalesce(place_type, CASE WHEN place_not_known THEN '98' END) AS place_type,
               method, description, site_code,
               seen_by_ae, seen_by_ambulance, seen_by_police, told_police,
               CAST(events AS INTEGER) AS events
        FROM t"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {INCIDENT_EVENT_TABLE} AS
        SELECT i.incident_id, g.source, g.event_id, g.kind
        FROM _v_grouped g JOIN {INCIDENT_TABLE} i USING (anchor)
        ORDER BY i.incident_id, g.kind"""
    )
    for table in ("_v_pairs", "_v_anchor", "_v_grouped"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    row = con.execute(
        f"""SELECT count(*), coalesce(sum(events), 0),
                   count(*) FILTER (WHERE seen_by_ae),
                   count(*) FILTER (WHERE seen_by_ae AND seen_by_police),
                   count(*) FILTER (WHERE seen_by_ae AND seen_by_ambulance),
                   count(*) FILTER (WHERE events > 1)
        FROM {INCIDENT_TABLE}"""
    ).fetchone()
    assert row is not None
    keys = ("incidents", "events", "seen_by_ae", "ae_and_police", "ae_and_ambulance", "joined")
    return {k: int(v) for k, v in zip(keys, row, strict=True)}
