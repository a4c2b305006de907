"""The crisis cohort: people whose needs escalate across domains until a crisis.

From an escalation start, contacts with advice services, police, social care, A&E,
ambulance and the GP come closer and closer together (density rising as t^1.5) until
the crisis: a mental-health crisis attendance at A&E, or the loss of housing (an HMIS
entry after eviction). An early-warning view is scored on whether it flags a person
between escalation start and crisis date. Crises also happen, less often, to people
outside the cohort without warning, so a view that flags every crisis after the event
gains nothing.
"""

from __future__ import annotations

import numpy as np

from sectorlink.synth import vocab as v
from sectorlink.synth.config import END, START, TIMELINE_DAYS, TIMELINE_YEARS
from sectorlink.synth.frames import Frame
from sectorlink.synth.geography import Region
from sectorlink.synth.population import People
from sectorlink.synth.streams import Streams, dt_seconds

COHORT_RATE = 0.015
"""Share of adults aged 18-70 in the crisis cohort."""
MH_CRISIS, HOUSING_LOSS = 0, 1
CRISIS_KINDS = ("mental_health_crisis", "housing_loss")
# Where precursor contacts happen: advice, police, adult social care, A&E, ambulance, GP.
PRECURSOR_P = np.array([0.28, 0.14, 0.10, 0.24, 0.12, 0.12])
PRECURSOR_DOMAINS = ("financial", "social", "social", "physical", "physical", "clinical")
ADVICE, POLICE, ASC, AE, AMBULANCE, GP = range(6)


def select_cohort(people: People, rng: np.random.Generator) -> Frame:
    """Cohort members with escalation start, crisis date and crisis kind."""
    age = people.age_at(np.full(len(people), START + TIMELINE_DAYS // 2))
    eligible = (age >= 18) & (age <= 70)
    weight = np.where(eligible, people.vulnerability**1.5, 0.0)
    mean_w = weight[eligible].mean() if eligible.any() else 1.0
    p = np.clip(COHORT_RATE * weight / mean_w, 0, 0.5)
    pidx = np.flatnonzero(rng.random(len(people)) < p)
    n = len(pidx)
    escalation = START + rng.integers(200, TIMELINE_DAYS - 420, n)
    crisis = escalation + rng.integers(120, 366, n)
    kind = np.where(rng.random(n) < 0.6, MH_CRISIS, HOUSING_LOSS)
    return {"pidx": pidx, "escalation": escalation, "crisis": crisis, "kind": kind}


def add_cohort_events(
    people: People,
    cohort: Frame,
    region: Region,
    registered_gp: np.ndarray,
    streams: Streams,
    rng: np.random.Generator,
) -> Frame:
    """Precursor contacts and the crisis itself; returns the cohort with precursor counts."""
    n = len(cohort["pidx"])
    k = 5 + rng.poisson(4, n)
    row = np.repeat(np.arange(n), k)
    pidx = cohort["pidx"][row]
    span = (cohort["crisis"] - cohort["escalation"]).astype(np.int64)[row]
    # Density rising towards the crisis: t = u^(1/2.5) has density proportional to t^1.5.
    t = rng.random(len(row)) ** (1 / 2.5)
    day = cohort["escalation"][row] + (t * (span - 1)).astype(np.int64)
    where = rng.choice(len(PRECURSOR_P), size=len(row), p=PRECURSOR_P)
    where = np.where((where == GP) & ~registered_gp[pidx], AE, where)
    home = people.address_on(pidx, day)
    secs = rng.integers(8 * 3600, 23 * 3600, len(row))

    m = where == ADVICE
    late = t[m] > 0.7
    streams.add(
        "advice",
        {
            "pidx": pidx[m],
            "date": day[m],
            "support": np.where(
                late,
                np.where(rng.random(int(m.sum())) < 0.5, v.CRISIS_GRANT, v.DEBT_RELIEF),
                np.where(rng.random(int(m.sum())) < 0.5, v.DEBT_ADVICE, v.BENEFITS_CLAIM),
            ),
            "debt": np.round(rng.lognormal(7.8, 0.9, int(m.sum())), 2),
        },
    )
    m = where == POLICE
    streams.add(
        "police",
        {
            "pidx": pidx[m],
            "when": dt_seconds(day[m], secs[m]),
            "offence": rng.choice(
                [v.DOMESTIC_ABUSE, v.THEFT, v.DAMAGE, v.VIOLENCE_NO_INJURY], int(m.sum())
            ),
            "place_type": np.full(int(m.sum()), v.HOME),
            "lat": np.round(region.addr_lat[home[m]], 4),
            "lon": np.round(region.addr_lon[home[m]], 4),
            "postcode": region.postcode_of(home[m]),
        },
    )
    m = where == ASC
    streams.add(
        "asc",
        {
            "pidx": pidx[m],
            "start": day[m],
            "end": np.minimum(day[m] + rng.integers(14, 60, int(m.sum())), END),
            "service": rng.choice([0, 1], int(m.sum()), p=[0.6, 0.4]),
            "reason": rng.choice(
                ["Mental health support", "Social support", "Substance misuse"], int(m.sum())
            ),
        },
    )
    m = where == AE
    streams.add(
        "ae",
        {
            "pidx": pidx[m],
            "arrival": dt_seconds(day[m], secs[m]),
            "category": rng.choice(
                [v.ILLNESS, v.INJURY, v.SELF_HARM], int(m.sum()), p=[0.45, 0.35, 0.2]
            ),
            "complaint": rng.choice(
                ["Overdose", "Anxiety", "Alcohol intoxication", "Laceration", "Chest pain"],
                int(m.sum()),
            ),
        },
    )
    m = where == AMBULANCE
    streams.add(
        "ambulance",
        {
            "pidx": pidx[m],
            "call": dt_seconds(day[m], secs[m]),
            "complaint": rng.choice(
                ["Mental health", "Overdose", "Unconscious", "Fall"], int(m.sum())
            ),
            "lat": region.addr_lat[home[m]],
            "lon": region.addr_lon[home[m]],
            "postcode": region.postcode_of(home[m]),
            "priority": np.full(int(m.sum()), 2),
            "conveyed": rng.random(int(m.sum())) < 0.5,
        },
    )
    m = where == GP
    streams.add(
        "gp_condition",
        {
            "pidx": pidx[m],
            "date": day[m],
            "condition": rng.choice([v.DEPRESSION, v.SUBSTANCE], int(m.sum()), p=[0.7, 0.3]),
            "severity": rng.choice(["Moderate", "Severe"], int(m.sum())),
        },
    )

    # The crisis.
    mh = np.flatnonzero(cohort["kind"] == MH_CRISIS)
    secs_c = rng.integers(0, 86400, len(mh))
    arrival = dt_seconds(cohort["crisis"][mh], secs_c)
    by_amb = rng.random(len(mh)) < 0.5
    streams.add(
        "ae",
        {
            "pidx": cohort["pidx"][mh],
            "arrival": arrival,
            "category": np.full(len(mh), v.MH_CRISIS),
            "complaint": rng.choice(
                ["Suicidal ideation", "Psychosis", "Acute distress", "Overdose"], len(mh)
            ),
            "ambulance": by_amb,
            "crisis": np.ones(len(mh), bool),
        },
    )
    home_c = people.address_on(cohort["pidx"][mh], cohort["crisis"][mh])
    a = np.flatnonzero(by_amb)
    streams.add(
        "ambulance",
        {
            "pidx": cohort["pidx"][mh][a],
            "call": arrival[a] - np.timedelta64(40 * 60, "s"),
            "complaint": np.full(len(a), "Mental health"),
            "lat": region.addr_lat[home_c[a]],
            "lon": region.addr_lon[home_c[a]],
            "postcode": region.postcode_of(home_c[a]),
            "priority": np.full(len(a), 2),
            "conveyed": np.ones(len(a), bool),
            "crisis": np.ones(len(a), bool),
        },
    )
    domains = np.array(PRECURSOR_DOMAINS)[where]
    out = dict(cohort)
    out["precursors"] = k
    out["domains"] = _domains_per_member(row, domains, n)
    return out


def _domains_per_member(row: np.ndarray, domains: np.ndarray, n: int) -> np.ndarray:
    """'financial|social|...' listing the domains each member's precursors touched."""
    out = np.full(n, "", dtype=object)
    for name in ("social", "financial", "physical", "clinical"):
        has = np.zeros(n, bool)
        has[row[domains == name]] = True
        out[has] = out[has] + np.where(out[has] == "", "", "|") + name
    return out.astype(str)


def background_mh_crises(people: People, streams: Streams, rng: np.random.Generator) -> None:
    """Mental-health crisis attendances without a planted escalation (noise for scoring)."""
    age = people.age_at(np.full(len(people), START + TIMELINE_DAYS // 2))
    rate = np.where(age >= 16, 0.0008 * people.vulnerability**1.5, 0.0) * TIMELINE_YEARS
    pidx = np.repeat(np.arange(len(people)), rng.poisson(rate))
    day = START + rng.integers(0, TIMELINE_DAYS, len(pidx))
    streams.add(
        "ae",
        {
            "pidx": pidx,
            "arrival": dt_seconds(day, rng.integers(0, 86400, len(pidx))),
            "category": np.full(len(pidx), v.MH_CRISIS),
            "complaint": rng.choice(
                ["Suicidal ideation", "Psychosis", "Acute distress"], len(pidx)
            ),
            "ambulance": rng.random(len(pidx)) < 0.4,
        },
    )
