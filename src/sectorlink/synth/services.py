"""Everyday contacts with services, not tied to a planted signal: the background against
which the signals must be found. Rates are per person per year, scaled by age and by
each person's latent vulnerability (mean about 1)."""

from __future__ import annotations

import numpy as np

from sectorlink.synth import vocab as v
from sectorlink.synth.config import END, START, TIMELINE_DAYS, TIMELINE_YEARS
from sectorlink.synth.frames import NAT_D, Frame
from sectorlink.synth.geography import Region
from sectorlink.synth.population import People
from sectorlink.synth.streams import Streams, dt_seconds

MID = START + TIMELINE_DAYS // 2
AE_ILLNESS = (
    "Abdominal pain",
    "Chest pain",
    "Shortness of breath",
    "Fever",
    "Headache",
    "Back pain",
    "Collapse",
    "Allergic reaction",
    "Vomiting",
)
AE_INJURY = (
    "Fall",
    "Wrist injury",
    "Head injury",
    "Laceration",
    "Burn",
    "Ankle injury",
    "Road traffic collision",
)
AMB_COMPLAINTS = (
    "Fall",
    "Breathing problems",
    "Chest pain",
    "Unconscious",
    "Stroke",
    "Sick person",
    "Overdose",
    "Convulsions",
)
ASC_REASONS = (
    "Physical support",
    "Memory and cognition",
    "Mental health support",
    "Learning disability support",
    "Social support",
    "Sensory support",
)
CSC_REASONS = (
    "Abuse or neglect",
    "Family in acute stress",
    "Family dysfunction",
    "Parental illness",
    "Child's disability",
    "Socially unacceptable behaviour",
    "Absent parenting",
)
# Lifetime prevalence of each recorded condition by age band (<18, 18-44, 45-64, 65+).
CONDITION_PREVALENCE = np.array(
    [
        [0.09, 0.07, 0.06, 0.06],  # asthma
        [0.00, 0.002, 0.03, 0.07],  # copd
        [0.002, 0.02, 0.08, 0.15],  # diabetes
        [0.00, 0.002, 0.03, 0.11],  # chd
        [0.00, 0.04, 0.20, 0.45],  # hypertension
        [0.01, 0.12, 0.13, 0.09],  # depression
        [0.00, 0.008, 0.01, 0.008],  # smi
        [0.002, 0.04, 0.03, 0.01],  # substance misuse
    ]
)
SEVERITY = np.array(["Mild", "Moderate", "Severe", ""])


def _age_mid(people: People) -> np.ndarray:
    return people.age_at(np.full(len(people), MID))


def _events(rng: np.random.Generator, rate_per_year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Person index and day of each event, counts ~ Poisson(rate * timeline years)."""
    pidx = np.repeat(np.arange(len(rate_per_year)), rng.poisson(rate_per_year * TIMELINE_YEARS))
    day = START + rng.integers(0, TIMELINE_DAYS, len(pidx))
    return pidx, day


def _born(people: People, pidx: np.ndarray, day: np.ndarray) -> np.ndarray:
    return np.asarray(day >= people.dob[pidx])


def add_ae_background(people: People, streams: Streams, rng: np.random.Generator) -> None:
    age = _age_mid(people)
    age_f = np.select([age < 5, age < 16, age < 65, age < 80], [1.6, 0.9, 0.8, 1.3], 2.0)
    pidx, day = _events(rng, 0.18 * age_f * people.vulnerability)
    keep = _born(people, pidx, day)
    pidx, day = pidx[keep], day[keep]
    n = len(pidx)
    cat = rng.choice([v.ILLNESS, v.INJURY, v.SELF_HARM], n, p=[0.63, 0.35, 0.02])
    complaint = np.where(
        cat == v.ILLNESS,
        rng.choice(AE_ILLNESS, n),
        np.where(cat == v.INJURY, rng.choice(AE_INJURY, n), "Self harm"),
    )
    hour = rng.choice(24, n, p=_daytime_hours())
    streams.add(
        "ae",
        {
            "pidx": pidx,
            "arrival": dt_seconds(day, hour * 3600 + rng.integers(0, 3600, n)),
            "category": cat,
            "complaint": complaint,
            "ambulance": np.zeros(n, bool),
        },
    )


def _daytime_hours() -> np.ndarray:
    w = np.array([2, 1.5, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7, 6, 5, 4, 3], float)
    return np.asarray(w / w.sum())


def add_ambulance_background(
    people: People, region: Region, streams: Streams, rng: np.random.Generator
) -> None:
    """Call-outs, mostly at home; conveyed patients also arrive at A&E."""
    age = _age_mid(people)
    age_f = np.select([age < 16, age < 65, age < 80], [0.3, 0.6, 2.0], 4.0)
    pidx, day = _events(rng, 0.035 * age_f * people.vulnerability)
    keep = _born(people, pidx, day)
    pidx, day = pidx[keep], day[keep]
    n = len(pidx)
    home = people.address_on(pidx, day)
    at_home = rng.random(n) < 0.8
    lat = np.where(at_home, region.addr_lat[home], region.addr_lat[home] + rng.normal(0, 0.004, n))
    lon = np.where(at_home, region.addr_lon[home], region.addr_lon[home] + rng.normal(0, 0.006, n))
    complaint = rng.choice(AMB_COMPLAINTS, n)
    complaint = np.where((age[pidx] >= 70) & (rng.random(n) < 0.4), "Fall", complaint)
    call = dt_seconds(day, rng.integers(0, 86400, n))
    conveyed = rng.random(n) < 0.68
    streams.add(
        "ambulance",
        {
            "pidx": pidx,
            "call": call,
            "complaint": complaint,
            "lat": lat,
            "lon": lon,
            "postcode": np.where(at_home, region.postcode_of(home), ""),
            "priority": rng.choice([1, 2, 3, 4], n, p=[0.1, 0.5, 0.3, 0.1]),
            "conveyed": conveyed,
        },
    )
    c = np.flatnonzero(conveyed)
    streams.add(
        "ae",
        {
            "pidx": pidx[c],
            "arrival": call[c] + rng.integers(35 * 60, 150 * 60, len(c)).astype("timedelta64[s]"),
            "category": np.where(np.isin(complaint[c], ["Fall"]), v.INJURY, v.ILLNESS),
            "complaint": complaint[c],
            "ambulance": np.ones(len(c), bool),
        },
    )


def add_police_background(
    people: People, region: Region, streams: Streams, rng: np.random.Generator
) -> None:
    """Victims of property crime and domestic abuse (assaults come from violence.py)."""
    age = _age_mid(people)
    dep = region.addr_deprivation(people.home)
    adult = age >= 16
    pidx, day = _events(rng, np.where(adult, 0.02 * (0.5 + dep) * people.vulnerability, 0.0))
    n = len(pidx)
    offence = rng.choice([v.BURGLARY, v.THEFT, v.DAMAGE, v.ROBBERY], n, p=[0.3, 0.4, 0.22, 0.08])
    da_rate = np.where(adult & (people.sex == "F") & (age < 60), 0.006 * people.vulnerability, 0.0)
    da_pidx, da_day = _events(rng, da_rate)
    pidx = np.concatenate([pidx, da_pidx])
    day = np.concatenate([day, da_day])
    offence = np.concatenate([offence, np.full(len(da_pidx), v.DOMESTIC_ABUSE)])
    n = len(pidx)
    home = people.address_on(pidx, day)
    at_home = np.isin(offence, [v.BURGLARY, v.DOMESTIC_ABUSE]) | (rng.random(n) < 0.3)
    lat = np.where(at_home, region.addr_lat[home], region.addr_lat[home] + rng.normal(0, 0.005, n))
    lon = np.where(at_home, region.addr_lon[home], region.addr_lon[home] + rng.normal(0, 0.008, n))
    streams.add(
        "police",
        {
            "pidx": pidx,
            "when": dt_seconds(day, (rng.integers(0, 96, n) * 900)),
            "offence": offence,
            "place_type": np.where(at_home, v.HOME, v.STREET),
            "lat": np.round(lat, 4),
            "lon": np.round(lon, 4),
            "postcode": np.where(at_home, region.postcode_of(home), ""),
        },
    )


def add_social_care(people: People, streams: Streams, rng: np.random.Generator) -> None:
    age = _age_mid(people)
    # Adults: needs assessments, safeguarding enquiries, long-term care packages.
    asc_rate = np.where(age >= 18, np.select([age < 65, age < 80], [0.006, 0.03], 0.09), 0.0)
    pidx, day = _events(rng, asc_rate * people.vulnerability)
    n = len(pidx)
    old = age[pidx] >= 65
    service = np.where(
        old, rng.choice(3, n, p=[0.5, 0.1, 0.4]), rng.choice(3, n, p=[0.6, 0.25, 0.15])
    )
    length = np.select(
        [service == 0, service == 1],
        [rng.integers(7, 60, n), rng.integers(14, 90, n)],
        rng.integers(90, 1200, n),
    )
    end = day + length
    reason = np.where(old, rng.choice(ASC_REASONS[:2], n), rng.choice(ASC_REASONS, n))
    streams.add(
        "asc",
        {
            "pidx": pidx,
            "start": day,
            "end": np.where(end > END, NAT_D, end),
            "service": service,
            "reason": reason,
        },
    )
    # Children: early help, child in need, protection plans, looked after.
    csc_rate = np.where(age < 18, 0.012, 0.0) * people.vulnerability**1.3
    pidx, day = _events(rng, csc_rate)
    keep = _born(people, pidx, day)
    pidx, day = pidx[keep], day[keep]
    n = len(pidx)
    service = rng.choice(4, n, p=[0.42, 0.33, 0.15, 0.10])
    end = day + np.select(
        [service == 0, service == 1, service == 2],
        [rng.integers(30, 200, n), rng.integers(60, 400, n), rng.integers(90, 500, n)],
        rng.integers(180, 1500, n),
    )
    streams.add(
        "csc",
        {
            "pidx": pidx,
            "start": day,
            "end": np.where(end > END, NAT_D, end),
            "service": service,
            "reason": rng.choice(CSC_REASONS, n),
        },
    )


def add_advice(people: People, region: Region, streams: Streams, rng: np.random.Generator) -> None:
    age = _age_mid(people)
    dep = region.addr_deprivation(people.home)
    pidx, day = _events(rng, np.where(age >= 18, 0.03 * (0.4 + dep) * people.vulnerability, 0.0))
    n = len(pidx)
    support = rng.choice(5, n, p=[0.3, 0.25, 0.3, 0.08, 0.07])
    debt = np.where(
        np.isin(support, [v.DEBT_ADVICE, v.DEBT_RELIEF]),
        np.round(rng.lognormal(7.6, 1.0, n), 2),
        np.nan,
    )
    gain = np.where(
        (support <= v.BENEFITS_CLAIM) & (rng.random(n) < 0.55),
        np.round(rng.lognormal(7.4, 0.8, n), 2),
        np.nan,
    )
    streams.add(
        "advice", {"pidx": pidx, "date": day, "support": support, "debt": debt, "gain": gain}
    )


def gp_patients(
    people: People, catchment_nb: np.ndarray, region: Region, rng: np.random.Generator
) -> Frame:
    """People registered with the GP partner: living in its catchment at the start, or
    moving into it. Registration dates go back before the timeline."""
    in_start = catchment_nb[region.addr_nb(people.home)]
    dest = np.maximum(people.moves_to, 0)
    moves_in = (people.moves_to >= 0) & ~in_start & catchment_nb[region.addr_nb(dest)]
    pidx = np.flatnonzero(in_start | moves_in)
    dob = people.dob[pidx]
    earliest = np.maximum(dob + 14, np.datetime64("1995-01-01"))
    span = np.maximum((END - 30 - earliest).astype(np.int64), 1)
    reg = earliest + (rng.random(len(pidx)) ** 1.5 * span).astype(np.int64)
    newborn = (dob > np.datetime64("1995-01-01")) & (rng.random(len(pidx)) < 0.6)
    reg = np.where(newborn, dob + rng.integers(14, 60, len(pidx)), reg)
    mover = moves_in[pidx]
    reg = np.where(mover, people.move_date[pidx] + rng.integers(7, 120, len(pidx)), reg)
    keep = reg <= END
    return {"pidx": pidx[keep], "registered": reg[keep].astype("datetime64[D]")}


def add_gp_conditions(
    people: People, patients: Frame, streams: Streams, rng: np.random.Generator
) -> None:
    pidx = patients["pidx"]
    age = people.age_at(np.full(len(pidx), END), pidx)
    band = np.digitize(age, [18, 45, 65])
    vuln = people.vulnerability[pidx]
    mental = np.array([False, False, False, False, False, True, True, True])
    p = CONDITION_PREVALENCE[:, band].T * np.where(mental[None, :], vuln[:, None], 1.0)
    has = rng.random(p.shape) < np.clip(p, 0, 0.95)
    row, cond = np.nonzero(has)
    who = pidx[row]
    dob = people.dob[who]
    min_age_days = np.where(
        cond == v.ASTHMA, 365, np.where(cond == v.DEPRESSION, 12 * 365, 16 * 365)
    )
    earliest = np.maximum(dob + min_age_days, np.datetime64("2000-01-01"))
    span = (END - earliest).astype(np.int64)
    ok = span > 0
    who, cond, earliest, span = who[ok], cond[ok], earliest[ok], span[ok]
    date = earliest + (rng.random(len(who)) * span).astype(np.int64)
    streams.add(
        "gp_condition",
        {
            "pidx": who,
            "date": date,
            "condition": cond,
            "severity": SEVERITY[rng.integers(0, 4, len(who))],
        },
    )
