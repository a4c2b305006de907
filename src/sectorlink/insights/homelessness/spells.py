"""How long a spell of homelessness lasts in this HMIS: the horizon of the exit rule.

A client who leaves a shelter or an outreach project *to a homeless situation* (HMIS
destination 1xx: the street, a shelter, a safe haven) is still homeless, and the data
say nothing more until the next entry or contact: the end of the spell is not recorded
anywhere. How long such a person should still count as the provider's homeless client
is a property of the place (its housing market, its projects), so it is estimated from
the provider's own records rather than fixed: the median length of a spell of
homelessness, by Kaplan-Meier, as HUD's System Performance Measure 1 (length of time
homeless) measures it from project entries and exits.

A spell runs from a client's first non-prevention entry (or the first after a housing
exit) to a *housing exit*: an exit to permanent housing (destination 4xx) with no other
enrolment of that client at that provider still open. A spell that has not ended so is
censored at its last homeless evidence: the latest exit to a non-permanent destination,
contact in a non-permanent situation, or the end of the data while an enrolment is open.
Censoring at an exit is independent of when the spell ends (projects exit people on
their own clock), so the estimate is not biased by the many spells whose end is never
seen. The hospital's no-fixed-abode marker is left out on purpose: it extends a spell
only when the person is still homeless, which would bias the estimate upwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from sectorlink.model.sql import literal_list as _in

DEFAULT_HORIZON_DAYS = 180
"""Used when the HMIS has too few ended spells to estimate the median (the run says so)."""
MIN_ENDED_SPELLS = 20
"""Fewer spells seen to end in housing than this give a median too noisy to use."""
PREVENTION_PROJECTS = ("12",)


@dataclass(frozen=True)
class SpellEstimate:
    """The exit rule's horizon and where it came from.

    Attributes:
        days: the horizon in days.
        spells: spells of homelessness in the HMIS (clients, or returns after housing).
        ended: of those, seen to end in a housing exit.
        source: `estimated` (the Kaplan-Meier median), `default` (too few ended spells)
            or `given` (the caller's own value).
    """

    days: int
    spells: int
    ended: int
    source: str

    def describe(self) -> str:
        """One line for a run's output and the report."""
        if self.source == "given":
            return f"exit horizon {self.days} days (as given)"
        if self.source == "estimated":
            return (
                f"exit horizon {self.days} days: the median length of a spell of "
                f"homelessness in the HMIS (Kaplan-Meier over {self.spells} spells, "
                f"{self.ended} ended in housing)"
            )
        return (
            f"exit horizon {self.days} days (default: {self.ended} of {self.spells} spells "
            f"seen to end in housing, fewer than the {MIN_ENDED_SPELLS} an estimate needs)"
        )


def housing_exits(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table `hc_housing_exit(provider_source, person_key, day)`: the days a client
    left a provider for permanent housing with no other homelessness enrolment open there
    (prevention projects serve people still housed: they neither end nor hold a spell);
    reads `hc_enrolment` (status.prepare_inputs)."""
    prevention = _in(PREVENTION_PROJECTS)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hc_housing_exit AS
        WITH pe AS (SELECT * FROM hc_enrolment WHERE project_type NOT IN {prevention})
        SELECT DISTINCT e.provider_source, e.person_key, e.exit AS day
        FROM pe e
        WHERE e.destination LIKE '4%' AND e.exit IS NOT NULL
          AND NOT EXISTS (
              SELECT 1 FROM pe o
              WHERE o.provider_source = e.provider_source AND o.person_key = e.person_key
                AND o.entry <= e.exit AND (o.exit IS NULL OR o.exit > e.exit))"""
    )


def estimate_spell_length(con: duckdb.DuckDBPyConnection) -> SpellEstimate:
    """The Kaplan-Meier median spell length over `hc_enrolment` and `hc_contact`, after
    `housing_exits`; the default when fewer than MIN_ENDED_SPELLS spells ended."""
    prevention = _in(PREVENTION_PROJECTS)
    row = con.execute(
        f"""WITH pe AS (
            SELECT * FROM hc_enrolment WHERE project_type NOT IN {prevention}
        ), data_end AS (
            SELECT greatest((SELECT max(day) FROM hc_attendance), (SELECT max(entry) FROM pe),
                            (SELECT max(exit) FROM pe), (SELECT max(day) FROM hc_contact)) AS d
        ), evidence AS (  -- days the client was homeless: entries, non-housing ends, contacts
            SELECT provider_source, person_key, entry AS day, true AS is_entry FROM pe
            UNION ALL
            SELECT provider_source, person_key, coalesce(exit, (SELECT d FROM data_end)), false
            FROM pe WHERE exit IS NULL OR destination NOT LIKE '4%'
            UNION ALL
            SELECT c.provider_source, c.person_key, c.day, false FROM hc_contact c
            WHERE c.situation NOT LIKE '4%' AND EXISTS (
                SELECT 1 FROM pe WHERE pe.provider_source = c.provider_source
                AND pe.person_key = c.person_key)
        ), numbered AS (  -- a spell is the stretch between two housing exits
            SELECT v.*, (SELECT count(*) FROM hc_housing_exit x
                         WHERE x.provider_source = v.provider_source
                           AND x.person_key = v.person_key AND x.day < v.day) AS spell
            FROM evidence v
        ), spells AS (
            SELECT provider_source, person_key, spell,
                   min(day) FILTER (WHERE is_entry) AS first_day, max(day) AS last_day
            FROM numbered GROUP BY ALL HAVING min(day) FILTER (WHERE is_entry) IS NOT NULL
        ), ends AS (
            SELECT x.provider_source, x.person_key, x.day,
                   (SELECT count(*) FROM hc_housing_exit y
                    WHERE y.provider_source = x.provider_source AND y.person_key = x.person_key
                      AND y.day < x.day) AS spell
            FROM hc_housing_exit x
        ), durations AS (
            SELECT coalesce(e.day, s.last_day) - s.first_day AS days, e.day IS NOT NULL AS ended
            FROM spells s LEFT JOIN ends e USING (provider_source, person_key, spell)
        ), grouped AS (
            SELECT days, count(*) FILTER (WHERE ended) AS events, count(*) AS n
            FROM durations GROUP BY days
        ), at_risk AS (
            SELECT days, events, sum(n) OVER (ORDER BY days DESC) AS risk FROM grouped
        ), km AS (
            SELECT days, exp(sum(ln(greatest(1 - events / risk, 1e-12)))
                             OVER (ORDER BY days)) AS survival
            FROM at_risk
        )
        SELECT (SELECT count(*) FROM durations), (SELECT count(*) FILTER (WHERE ended)
                FROM durations), (SELECT min(days) FROM km WHERE survival <= 0.5)"""
    ).fetchone()
    spells, ended, median = (int(row[0]), int(row[1]), row[2]) if row else (0, 0, None)
    if ended < MIN_ENDED_SPELLS or median is None:
        return SpellEstimate(DEFAULT_HORIZON_DAYS, spells, ended, source="default")
    return SpellEstimate(int(median), spells, ended, source="estimated")
