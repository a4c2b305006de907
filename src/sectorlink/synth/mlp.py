"""Medical-legal partnership: I-HELP screening at the GP partner, referral to the law
centre, legal intake and outcome. A domain screens positive far more often when the
person has the matching need elsewhere in the data (advice contacts for income, HMIS or
poor housing for housing, domestic abuse for personal safety)."""

from __future__ import annotations

import numpy as np

from sectorlink.synth import vocab as v
from sectorlink.synth.config import END, START, TIMELINE_DAYS, TIMELINE_YEARS
from sectorlink.synth.frames import NAT_D, Frame
from sectorlink.synth.geography import Region
from sectorlink.synth.population import People
from sectorlink.synth.streams import Streams

SCREENS_PER_YEAR = 0.02
REFERRAL_P, INTAKE_P = 0.65, 0.7
OUTCOME_P = np.array([0.45, 0.25, 0.10, 0.08, 0.12])


def add_screenings(
    people: People, patients: Frame, region: Region, streams: Streams, rng: np.random.Generator
) -> None:
    n_people = len(people)

    def flag(idx: np.ndarray) -> np.ndarray:
        out = np.zeros(n_people, bool)
        out[idx] = True
        return out

    police = streams.get("police")
    financial = flag(streams.get("advice")["pidx"])
    housing_need = flag(streams.get("hmis")["pidx"]) | (region.condition[people.home] >= 2)
    safety = flag(police["pidx"][police["offence"] == v.DOMESTIC_ABUSE])

    pidx = patients["pidx"]
    adult = people.age_at(np.full(len(pidx), START + TIMELINE_DAYS // 2), pidx) >= 18
    rate = (
        np.where(adult, SCREENS_PER_YEAR * (0.5 + people.vulnerability[pidx]), 0.0) * TIMELINE_YEARS
    )
    row = np.repeat(np.arange(len(pidx)), rng.poisson(rate))
    who = pidx[row]
    lo = np.maximum(patients["registered"][row], START)
    span = np.maximum((END - lo).astype(np.int64), 0)
    screen = lo + (rng.random(len(who)) * span).astype(np.int64)
    keep = span > 0
    who, screen = who[keep], screen[keep]
    m = len(who)
    p = np.stack(
        [
            0.08 + 0.45 * financial[who],
            0.05 + 0.50 * housing_need[who],
            np.full(m, 0.06),
            np.full(m, 0.02),
            np.full(m, 0.03),
            0.02 + 0.50 * safety[who],
        ],
        axis=1,
    )
    positive = rng.random((m, 6)) < p
    referral = screen + rng.integers(0, 21, m)
    referred = positive.any(axis=1) & (rng.random(m) < REFERRAL_P) & (referral <= END)
    domain = np.where(referred, (rng.random((m, 6)) * positive).argmax(axis=1), -1)
    intake = referral + rng.integers(3, 40, m)
    reached = referred & (rng.random(m) < INTAKE_P) & (intake <= END)
    outcome = np.where(reached, rng.choice(5, m, p=OUTCOME_P), np.where(referred, v.WITHDRAWN, -1))
    outcome_date = np.where(
        reached, intake + rng.integers(20, 200, m), referral + rng.integers(30, 60, m)
    )
    closed = np.isin(outcome, [v.NEED_ADDRESSED, v.ADVICE_GIVEN, v.NOT_ADDRESSED, v.WITHDRAWN])
    still_open = referred & ((outcome == v.OPEN) | (closed & (outcome_date > END)))
    outcome = np.where(still_open, v.OPEN, outcome)
    outcome_date = np.where(referred & ~still_open, outcome_date, NAT_D)
    money = (outcome == v.NEED_ADDRESSED) & np.isin(domain, [0, 1])
    benefit = np.where(money, np.round(rng.lognormal(7.3, 0.9, m), 2), np.nan)
    frame: Frame = {
        "pidx": who,
        "screen": screen,
        **{name: positive[:, i] for i, name in enumerate(v.IHELP)},
        "referred": referred,
        "referral": np.where(referred, referral, NAT_D),
        "domain": domain,
        "intake": np.where(reached, intake, NAT_D),
        "outcome": outcome,
        "outcome_date": outcome_date,
        "benefit": benefit,
    }
    streams.add("mlp", frame)
