"""Housing status at each A&E attendance and ambulance call-out, with its evidence.

Everything here is SQL over an insights context's tables (`event`, `housing_episode`,
`person_index`, `record_flag`), so the analysis and the alert job compute the same status
from the same rows. Three kinds of evidence, each dated:

* the homelessness providers' HMIS enrolments (project type, entry, exit and the exit's
  destination) and their current-living-situation contacts;
* the hospital's own no-fixed-abode marker on the attendance (`record_flag`, derived from
  the person record's address without copying it);
* the hospital's fixed address on the attendance (evidence of being housed, the weakest).

Statuses, strongest first: `in a homelessness project` (an open shelter, transitional,
re-housing or supported-housing enrolment, or a contact in a shelter), `literally homeless`
(an open street-outreach enrolment, a contact on the street, the hospital's no-fixed-abode
marker, or a recent exit to a homeless situation), `at risk` (an open prevention enrolment,
a contact in temporary accommodation), `housed` (the last exit was to permanent housing, or
the hospital recorded a fixed address), `unknown`.

Evidence is read in time order: a contact on the street is superseded by a later exit to
permanent housing, an exit by a later entry. How long an exit to a homeless situation
keeps a client known is estimated from the HMIS itself (`spells`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from sectorlink.insights.homelessness.spells import (
    SpellEstimate,
    estimate_spell_length,
    housing_exits,
)
from sectorlink.model.sql import literal_list as _in
from sectorlink.model.sql import table_exists

STATUSES = (
    "in a homelessness project",
    "literally homeless",
    "at risk",
    "housed",
    "unknown",
)
HOMELESS_STATUSES = STATUSES[:2]
AE_EVENT_TYPES = ("ae_attendance", "ae_assault", "mental_health_crisis")
AMBULANCE_EVENT_TYPES = ("ambulance_callout",)
PROVIDER_EVENT_TYPES = ("homeless_project_entry", "homeless_contact")
# HMIS 2.02.6 project types: street outreach finds people where they sleep; prevention
# serves people still housed; every other project houses or shelters its clients.
OUTREACH_PROJECTS = ("4",)
PREVENTION_PROJECTS = ("12",)
PROJECT_NAMES = {
    "0": "emergency shelter",
    "1": "night shelter",
    "2": "transitional housing",
    "3": "permanent supportive housing",
    "4": "street outreach",
    "8": "safe haven",
    "9": "permanent housing",
    "10": "permanent housing with services",
    "12": "homelessness prevention",
    "13": "rapid re-housing",
}


@dataclass(frozen=True)
class StatusRules:
    """When a provider still counts a person as its client, and what counts as recent.

    Attributes:
        contact_days: a current-living-situation contact this many days before the
            attendance (or on its day) makes the person known to the provider, unless
            the client left the provider for permanent housing since.
        exit_homeless_days: an exit to a homeless situation (HMIS 1xx: street, shelter,
            safe haven) with no later enrolment keeps the person known for this many days.
            None (the default): the median length of a spell of homelessness in the HMIS
            itself (`spells.estimate_spell_length`), or 180 days where too few spells
            were seen to end.
        nfa_days: beyond that, the exit still counts while the hospital recorded the
            person as of no fixed abode at an attendance this many days before; None: the
            same horizon as `exit_homeless_days`. (At the attendance itself the marker
            makes any former client known: a return to homelessness.)
        prevention_known: whether an open homelessness-prevention enrolment (a person at
            risk, still housed) also makes the person known, and so alerts; off by default:
            the alerts are for people experiencing homelessness.
    """

    contact_days: int = 90
    exit_homeless_days: int | None = None
    nfa_days: int | None = None
    prevention_known: bool = False

    def __post_init__(self) -> None:
        for name in ("contact_days", "exit_homeless_days", "nfa_days"):
            value = getattr(self, name)
            if value is None and name != "contact_days":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a whole number of days >= 0, not {value!r}")

    def resolved(self, con: duckdb.DuckDBPyConnection) -> tuple[StatusRules, SpellEstimate]:
        """These rules with every horizon a number (estimated from the HMIS in `con` where
        None; `hc_housing_exit` must exist), and where the exit horizon came from."""
        if self.exit_homeless_days is None:
            estimate = estimate_spell_length(con)
        else:
            given = estimate_spell_length(con)
            estimate = SpellEstimate(self.exit_homeless_days, given.spells, given.ended, "given")
        nfa = estimate.days if self.nfa_days is None else self.nfa_days
        return replace(self, exit_homeless_days=estimate.days, nfa_days=nfa), estimate


def _project_name_sql(column: str) -> str:
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in PROJECT_NAMES.items())
    return f"CASE {column} {cases} ELSE 'project type ' || {column} END"


def prepare_inputs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Temp tables `hc_attendance`, `hc_enrolment`, `hc_contact` from the context's tables.

    Returns the enrolments left out because their exit precedes their entry (one row each:
    source, event_id, entry, exit), which the caller reports: such an enrolment says
    nothing reliable about when the person was a client.
    """
    flags = (
        "LEFT JOIN record_flag f ON f.source = e.source AND f.record_id = e.record_id"
        if table_exists(con, "record_flag")
        else "LEFT JOIN (SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS record_id, "
        "NULL::BOOLEAN AS no_fixed_abode) f ON false"
    )
    # An A&E event is one of a source that sends A&E attendances (a mental-health crisis
    # event from the police is not an attendance).
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hc_attendance AS
        WITH ae_sources AS (
            SELECT DISTINCT source FROM event WHERE event_type IN ('ae_attendance', 'ae_assault')
        )
        SELECT e.source, e.event_id, e.event_type, e.start_time AS arrival,
               e.start_time::DATE AS day, p.person_key,
               CASE WHEN e.event_type IN {_in(AMBULANCE_EVENT_TYPES)} THEN 'ambulance'
                    ELSE 'ae' END AS kind,
               coalesce(json_extract_string(e.attributes, '$.AttendanceCategory'),
                        CASE e.event_type WHEN 'ae_assault' THEN 'Assault'
                             WHEN 'mental_health_crisis' THEN 'MH Crisis'
                             WHEN 'ambulance_callout' THEN 'Ambulance call-out'
                             ELSE 'Attendance' END) AS category,
               CASE WHEN e.event_type IN {_in(AMBULANCE_EVENT_TYPES)}
                    THEN upper(coalesce(json_extract_string(e.attributes, '$.Conveyed'), ''))
                         IN ('Y', 'YES', 'TRUE', '1')
                    ELSE true END AS conveyed,
               CASE WHEN e.event_type IN {_in(AMBULANCE_EVENT_TYPES)}
                    THEN json_extract_string(e.attributes, '$.Destination')
                    ELSE e.site_code END AS site,
               CASE WHEN e.event_type IN {_in(AMBULANCE_EVENT_TYPES)} THEN NULL
                    ELSE f.no_fixed_abode END AS hospital_nfa
        FROM event e
        LEFT JOIN person_index p ON p.source = e.source AND p.record_id = e.record_id
        {flags}
        WHERE e.event_type IN {_in(AMBULANCE_EVENT_TYPES)}
           OR (e.event_type IN {_in(AE_EVENT_TYPES)}
               AND e.source IN (SELECT source FROM ae_sources))"""
    )
    episodes = (
        "housing_episode"
        if table_exists(con, "housing_episode")
        else "(SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS event_id, "
        "NULL::VARCHAR AS project_type, NULL::DATE AS project_start_date, "
        "NULL::DATE AS project_exit_date, NULL::VARCHAR AS destination, "
        "NULL::VARCHAR AS current_living_situation WHERE false)"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hc_enrolment_all AS
        SELECT e.source AS provider_source, e.record_id AS provider_record_id, e.event_id,
               p.person_key, coalesce(h.project_type, '') AS project_type,
               coalesce(h.project_start_date, e.start_time)::DATE AS entry,
               coalesce(h.project_exit_date, e.end_time)::DATE AS exit,
               coalesce(h.destination, '') AS destination
        FROM event e
        JOIN person_index p ON p.source = e.source AND p.record_id = e.record_id
        LEFT JOIN {episodes} h ON h.source = e.source AND h.event_id = e.event_id
        WHERE e.event_type = 'homeless_project_entry'"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hc_enrolment AS
        SELECT * FROM hc_enrolment_all WHERE exit IS NULL OR exit >= entry"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hc_contact AS
        SELECT e.source AS provider_source, e.record_id AS provider_record_id, p.person_key,
               e.start_time::DATE AS day, coalesce(h.current_living_situation, '') AS situation
        FROM event e
        JOIN person_index p ON p.source = e.source AND p.record_id = e.record_id
        LEFT JOIN {episodes} h ON h.source = e.source AND h.event_id = e.event_id
        WHERE e.event_type = 'homeless_contact'"""
    )
    return con.execute(
        """SELECT provider_source AS source, event_id, entry, exit FROM hc_enrolment_all
        WHERE exit < entry ORDER BY source, event_id"""
    ).df()


def evidence_sql(rules: StatusRules) -> str:
    """One row per piece of evidence about one attendance: its status, rank (1 strongest),
    what it is and its date, the provider holding it (NULL: the hospital's own) and
    whether it makes the person known to that provider on the day. `rules` must be
    resolved (`StatusRules.resolved`); `hc_housing_exit` must exist."""
    if rules.exit_homeless_days is None or rules.nfa_days is None:
        raise ValueError("evidence_sql needs resolved rules (StatusRules.resolved)")
    project = _project_name_sql("n.project_type")
    return f"""
    WITH ae_nfa AS (
        SELECT person_key, arrival, day FROM hc_attendance
        WHERE kind = 'ae' AND hospital_nfa AND person_key IS NOT NULL
    ), open_enrolment AS (
        SELECT a.source, a.event_id, n.provider_source, n.provider_record_id,
               CASE WHEN n.project_type IN {_in(OUTREACH_PROJECTS)} THEN 'literally homeless'
                    WHEN n.project_type IN {_in(PREVENTION_PROJECTS)} THEN 'at risk'
                    ELSE 'in a homelessness project' END AS status,
               'open ' || {project} || ' enrolment' AS evidence,
               n.entry AS evidence_date,
               n.project_type NOT IN {_in(PREVENTION_PROJECTS)} OR {rules.prevention_known}
                   AS known
        FROM hc_attendance a JOIN hc_enrolment n ON n.person_key = a.person_key
        WHERE n.entry <= a.day AND (n.exit IS NULL OR n.exit >= a.day)
    ), recent_contact AS (
        SELECT a.source, a.event_id, c.provider_source, c.provider_record_id,
               CASE WHEN c.situation IN ('101', '118', '302') THEN 'in a homelessness project'
                    WHEN c.situation LIKE '1%' OR c.situation = '' THEN 'literally homeless'
                    WHEN c.situation LIKE '4%' THEN 'housed'
                    ELSE 'at risk' END AS status,
               'outreach contact (living situation '
                   || coalesce(nullif(c.situation, ''), 'not recorded') || ')' AS evidence,
               c.day AS evidence_date, true AS known
        FROM hc_attendance a JOIN hc_contact c ON c.person_key = a.person_key
        WHERE c.day <= a.day AND c.day > a.day - {rules.contact_days}
          -- housed since: the contact is old news
          AND NOT EXISTS (SELECT 1 FROM hc_housing_exit x
                          WHERE x.provider_source = c.provider_source
                            AND x.person_key = c.person_key
                            AND x.day >= c.day AND x.day < a.day)
    ), returned AS (
        -- the hospital recorded no fixed abode at this attendance of a former client (any
        -- earlier enrolment, whatever it ended in): homeless again, and known to them
        SELECT a.source, a.event_id, n.provider_source,
               arg_max(n.provider_record_id, n.entry) AS provider_record_id,
               'literally homeless' AS status,
               'hospital recorded no fixed abode; client since '
                   || strftime(min(n.entry), '%Y-%m-%d') AS evidence,
               a.day AS evidence_date, true AS known
        FROM hc_attendance a JOIN hc_enrolment n ON n.person_key = a.person_key
        WHERE a.hospital_nfa AND n.entry <= a.day
        GROUP BY a.source, a.event_id, n.provider_source, a.day
    ), last_exit AS (
        SELECT a.source, a.event_id, a.day, a.hospital_nfa, a.person_key, a.arrival,
               n.provider_source,
               arg_max(n.provider_record_id, n.exit) AS provider_record_id,
               arg_max(n.destination, n.exit) AS destination,
               max(n.exit) AS exit
        FROM hc_attendance a JOIN hc_enrolment n ON n.person_key = a.person_key
        WHERE n.exit < a.day
        GROUP BY ALL
    ), exit_known AS (
        SELECT x.*, x.destination LIKE '1%' AND (
                   x.day - x.exit <= {rules.exit_homeless_days}
                   OR EXISTS (SELECT 1 FROM ae_nfa f WHERE f.person_key = x.person_key
                              AND f.arrival <= x.arrival AND f.day > x.exit
                              AND f.day >= x.day - {rules.nfa_days})
               ) AS known
        FROM last_exit x
        -- a later entry supersedes the exit: the open enrolment speaks for that provider
        WHERE NOT EXISTS (SELECT 1 FROM hc_enrolment n WHERE n.person_key = x.person_key
                          AND n.provider_source = x.provider_source
                          AND n.entry > x.exit AND n.entry <= x.day)
    ), exit_evidence AS (
        -- an old exit to the street says nothing about today: only a known one counts
        SELECT source, event_id, provider_source, provider_record_id,
               CASE WHEN known THEN 'literally homeless'
                    WHEN destination LIKE '4%' THEN 'housed'
                    WHEN destination LIKE '3%' THEN 'at risk'
                    ELSE 'unknown' END AS status,
               'exit to living situation ' || coalesce(nullif(destination, ''), 'not recorded')
                   AS evidence,
               exit AS evidence_date, known
        FROM exit_known
    ), hospital AS (
        SELECT source, event_id, NULL AS provider_source, NULL AS provider_record_id,
               CASE WHEN hospital_nfa THEN 'literally homeless' ELSE 'housed' END AS status,
               CASE WHEN hospital_nfa THEN 'hospital recorded no fixed abode'
                    ELSE 'hospital recorded a fixed address' END AS evidence,
               day AS evidence_date, false AS known
        FROM hc_attendance WHERE hospital_nfa IS NOT NULL
    )
    SELECT *, CASE status {" ".join(f"WHEN '{s}' THEN {i + 1}" for i, s in enumerate(STATUSES))}
              END AS rank
    FROM (SELECT * FROM open_enrolment UNION ALL SELECT * FROM recent_contact
          UNION ALL SELECT * FROM returned
          UNION ALL SELECT * FROM exit_evidence WHERE status <> 'unknown'
          UNION ALL SELECT * FROM hospital)
    """


def compute_status(con: duckdb.DuckDBPyConnection, rules: StatusRules) -> pd.DataFrame:
    """Temp tables `hc_evidence`, `hc_status` (one row per attendance), `hc_known` (one
    row per attendance and provider that knows the person on the day) and `hc_horizon`
    (the exit horizon used, `applied_horizon`); call `prepare_inputs` first. Returns
    `hc_status`."""
    housing_exits(con)
    rules, estimate = rules.resolved(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE hc_horizon AS "
        "SELECT ?::INTEGER AS days, ?::INTEGER AS spells, ?::INTEGER AS ended, "
        "?::VARCHAR AS source, ?::INTEGER AS nfa_days",
        [estimate.days, estimate.spells, estimate.ended, estimate.source, rules.nfa_days],
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE hc_evidence AS {evidence_sql(rules)}")
    # Ties within a rank go to the latest evidence, then to provider evidence over the
    # hospital's (it says more), then by provider and record id so reruns agree.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hc_status AS
        WITH best AS (
            SELECT * FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY source, event_id
                    ORDER BY rank, evidence_date DESC, provider_source NULLS LAST,
                             provider_record_id) AS n
                FROM hc_evidence) WHERE n = 1
        ), known AS (
            SELECT source, event_id, true AS known FROM hc_evidence WHERE known GROUP BY ALL
        )
        SELECT a.source, a.event_id, a.kind, a.event_type, a.arrival, a.category, a.conveyed,
               a.site, a.person_key, coalesce(b.status, 'unknown') AS status,
               coalesce(b.evidence, CASE WHEN a.person_key IS NULL
                   THEN 'the record is not in the person index' ELSE 'no evidence' END)
                   AS evidence,
               b.evidence_date, b.provider_source AS evidence_source,
               a.hospital_nfa, coalesce(k.known, false) AS known_to_services
        FROM hc_attendance a
        LEFT JOIN best b USING (source, event_id)
        LEFT JOIN known k USING (source, event_id)"""
    )
    # Who holds the person: per attendance and provider, the record id of the strongest,
    # then latest, evidence that makes them known (a client registered twice has two ids).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE hc_known AS
        SELECT * EXCLUDE (n) FROM (
            SELECT source, event_id, provider_source, provider_record_id, status, evidence,
                   evidence_date, row_number() OVER (
                       PARTITION BY source, event_id, provider_source
                       ORDER BY rank, evidence_date DESC, provider_record_id) AS n
            FROM hc_evidence WHERE known) WHERE n = 1"""
    )
    return con.execute("SELECT * FROM hc_status ORDER BY arrival, source, event_id").df()


def applied_horizon(con: duckdb.DuckDBPyConnection) -> tuple[SpellEstimate, int]:
    """The exit horizon and the NFA horizon `compute_status` used last on `con`."""
    row = con.execute("SELECT days, spells, ended, source, nfa_days FROM hc_horizon").fetchone()
    if row is None:  # pragma: no cover - compute_status always writes one row
        raise RuntimeError("compute_status has not run on this connection")
    return SpellEstimate(int(row[0]), int(row[1]), int(row[2]), str(row[3])), int(row[4])


def attendance_status(
    con: duckdb.DuckDBPyConnection, rules: StatusRules | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The housing status at every attendance and call-out in `con`'s context tables, and
    the enrolments left out because they exit before they start."""
    rules = rules or StatusRules()
    bad = prepare_inputs(con)
    return compute_status(con, rules), bad
