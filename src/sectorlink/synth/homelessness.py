"""Homelessness: episodes, the HMIS enrolments they lead to, and A&E use while homeless.

Each person has at most one episode: a planted one after a crisis eviction, or a
background one (weighted to vulnerable people in deprived areas). An episode runs from
a start date to an end date (or on past the end of the timeline) and produces HMIS
project enrolments (street outreach, emergency shelter, then rapid re-housing or
transitional housing with a move-in date), plus A&E attendances at a raised rate.
Homelessness-prevention clients are enrolled too, without becoming homeless, so that
"known to HMIS" is not the same as "homeless".
"""

from __future__ import annotations

import numpy as np

from sectorlink.synth import vocab as v
from sectorlink.synth.config import END, START, TIMELINE_DAYS
from sectorlink.synth.crisis import HOUSING_LOSS
from sectorlink.synth.frames import NAT_D, Frame
from sectorlink.synth.population import People
from sectorlink.synth.streams import Streams, dt_seconds

BACKGROUND_RATE = 0.005
"""Share of adults with a background homelessness episode overlapping the timeline."""
PREVENTION_RATE = 0.003
HOMELESS_AE_PER_YEAR = 1.5
PRIOR_SITUATIONS = np.array(
    [
        v.LIVING_STREET,
        v.LIVING_FRIENDS,
        v.LIVING_FAMILY,
        v.LIVING_JAIL,
        v.LIVING_HOSPITAL,
        v.LIVING_RENT,
    ]
)
PRIOR_P = np.array([0.38, 0.18, 0.14, 0.08, 0.05, 0.17])
REASONS = {
    v.LIVING_STREET: ("Rough sleeping", "Relationship breakdown"),
    v.LIVING_FRIENDS: ("Asked to leave by friends", "Relationship breakdown"),
    v.LIVING_FAMILY: ("Asked to leave by family", "Domestic abuse"),
    v.LIVING_JAIL: ("Left prison",),
    v.LIVING_HOSPITAL: ("Hospital discharge",),
    v.LIVING_RENT: ("Eviction", "Rent arrears"),
}
HOUSING_LOSS_REASONS = ("Eviction", "Rent arrears")


def episodes(people: People, cohort: Frame, rng: np.random.Generator) -> Frame:
    """One row per homelessness episode: pidx, start, end (NaT: still homeless), crisis."""
    age = people.age_at(np.full(len(people), START + TIMELINE_DAYS // 2))
    in_cohort = np.zeros(len(people), bool)
    in_cohort[cohort["pidx"]] = True
    weight = np.where((age >= 18) & (age <= 75) & ~in_cohort, people.vulnerability**1.5, 0.0)
    mean_w = weight[weight > 0].mean() if (weight > 0).any() else 1.0
    bg = np.flatnonzero(
        rng.random(len(people)) < np.clip(BACKGROUND_RATE * weight / mean_w, 0, 0.6)
    )
    bg_start = START - 300 + rng.integers(0, TIMELINE_DAYS + 280, len(bg))
    lost = cohort["kind"] == HOUSING_LOSS
    pidx = np.concatenate([bg, cohort["pidx"][lost]])
    start = np.concatenate([bg_start, cohort["crisis"][lost]]).astype("datetime64[D]")
    duration = np.maximum(rng.lognormal(5.2, 0.8, len(pidx)).astype(np.int64), 7)
    end = start + duration
    end = np.where(end > END, NAT_D, end)
    keep = np.isnat(end) | (end >= START)
    crisis = np.concatenate([np.zeros(len(bg), bool), np.ones(int(lost.sum()), bool)])
    prior = PRIOR_SITUATIONS[rng.choice(len(PRIOR_P), len(pidx), p=PRIOR_P)]
    prior = np.where(
        crisis, np.where(rng.random(len(pidx)) < 0.6, v.LIVING_RENT, v.LIVING_SOCIAL_RENT), prior
    )
    return {
        "pidx": pidx[keep],
        "start": start[keep],
        "end": end[keep],
        "crisis": crisis[keep],
        "prior": prior[keep],
    }


def add_enrolments(ep: Frame, streams: Streams, rng: np.random.Generator) -> None:
    """HMIS enrolments for each episode, and prevention enrolments for people at risk."""
    n = len(ep["pidx"])
    start, end = ep["start"], ep["end"]
    end_or_cap = np.where(np.isnat(end), END, end)
    reason = _reason(ep["prior"], rng)
    reason = np.where(ep["crisis"], "Eviction", reason)
    loss = np.isin(reason, HOUSING_LOSS_REASONS)

    # Street outreach first for people sleeping rough.
    outreach = (ep["prior"] == v.LIVING_STREET) | (rng.random(n) < 0.25)
    o = np.flatnonzero(outreach)
    o_exit = np.minimum(start[o] + rng.integers(10, 90, len(o)), end_or_cap[o])
    streams.add(
        "hmis",
        {
            "pidx": ep["pidx"][o],
            "entry": start[o],
            "exit": _open_if_after(o_exit, end[o]),
            "project": np.full(len(o), v.HMIS_OUTREACH),
            "prior": ep["prior"][o],
            "destination": np.full(len(o), v.LIVING_SHELTER),
            "reason": reason[o],
            "housing_loss": loss[o],
            "crisis": ep["crisis"][o],
            "literal": np.ones(len(o), bool),
        },
    )
    # Emergency shelter: the first entry for the others, the next step for outreach clients.
    s = np.flatnonzero(~outreach | (rng.random(n) < 0.6))
    s_entry = np.where(
        outreach[s],
        np.minimum(_spread(outreach, o_exit)[s], end_or_cap[s]),
        start[s],
    )
    s_exit = np.minimum(s_entry + rng.integers(14, 150, len(s)), end_or_cap[s])
    first = ~outreach[s]
    streams.add(
        "hmis",
        {
            "pidx": ep["pidx"][s],
            "entry": s_entry,
            "exit": _open_if_after(s_exit, end[s]),
            "project": np.full(len(s), v.HMIS_ES),
            "prior": np.where(first, ep["prior"][s], v.LIVING_STREET),
            "destination": np.where(s_exit >= end_or_cap[s], v.LIVING_RENT, v.LIVING_SHELTER),
            "reason": np.where(first, reason[s], "Transfer from outreach"),
            "housing_loss": loss[s] & first,
            "crisis": ep["crisis"][s] & first,
            "literal": np.ones(len(s), bool),
        },
    )
    # Re-housing with a move-in date for some of those who reach the end of the episode.
    r = np.flatnonzero((rng.random(n) < 0.45) & (end_or_cap - start > 60))
    r_entry = start[r] + ((end_or_cap[r] - start[r]).astype(np.int64) * 0.5).astype(np.int64)
    move_in = r_entry + rng.integers(10, 60, len(r))
    move_in_d = np.where(move_in <= end_or_cap[r], move_in, NAT_D)
    streams.add(
        "hmis",
        {
            "pidx": ep["pidx"][r],
            "entry": r_entry,
            "exit": end[r],
            "project": np.where(rng.random(len(r)) < 0.7, v.HMIS_RRH, v.HMIS_TH),
            "prior": np.full(len(r), v.LIVING_SHELTER),
            "move_in": move_in_d,
            "destination": np.where(np.isnat(end[r]), -1, v.LIVING_SOCIAL_RENT),
            "reason": np.full(len(r), "Move-on from shelter"),
            "literal": np.ones(len(r), bool),
        },
    )


def _spread(outreach: np.ndarray, o_exit: np.ndarray) -> np.ndarray:
    """Outreach exit dates spread back over all episodes (NaT where no outreach)."""
    out = np.full(len(outreach), NAT_D)
    out[np.flatnonzero(outreach)] = o_exit
    return out


def _open_if_after(exit_date: np.ndarray, episode_end: np.ndarray) -> np.ndarray:
    """An exit on the capped end of an ongoing episode is no exit at all: still enrolled."""
    return np.where(np.isnat(episode_end) & (exit_date >= END), NAT_D, exit_date)


def _reason(prior: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.full(len(prior), "", dtype=object)
    for situation, options in REASONS.items():
        m = prior == situation
        out[m] = np.array(options)[rng.integers(0, len(options), int(m.sum()))]
    return out.astype(str)


def add_prevention(people: People, ep: Frame, streams: Streams, rng: np.random.Generator) -> None:
    """Homelessness-prevention enrolments for people at risk who never become homeless."""
    age = people.age_at(np.full(len(people), START + TIMELINE_DAYS // 2))
    homeless = np.zeros(len(people), bool)
    homeless[ep["pidx"]] = True
    weight = np.where((age >= 18) & ~homeless, people.vulnerability, 0.0)
    mean_w = weight[weight > 0].mean() if (weight > 0).any() else 1.0
    pidx = np.flatnonzero(
        rng.random(len(people)) < np.clip(PREVENTION_RATE * weight / mean_w, 0, 0.5)
    )
    entry = START + rng.integers(0, TIMELINE_DAYS - 30, len(pidx))
    exit_d = entry + rng.integers(20, 120, len(pidx))
    streams.add(
        "hmis",
        {
            "pidx": pidx,
            "entry": entry,
            "exit": np.where(exit_d > END, NAT_D, exit_d),
            "project": np.full(len(pidx), v.HMIS_PREVENTION),
            "prior": np.where(rng.random(len(pidx)) < 0.6, v.LIVING_RENT, v.LIVING_SOCIAL_RENT),
            "destination": np.full(len(pidx), v.LIVING_RENT),
            "reason": rng.choice(
                ["Notice to quit", "Arrears - at risk of eviction", "Disrepair"], len(pidx)
            ),
        },
    )


def add_homeless_ae(ep: Frame, streams: Streams, rng: np.random.Generator) -> None:
    """Extra A&E attendances while homeless, at HOMELESS_AE_PER_YEAR."""
    lo = np.maximum(ep["start"], START)
    hi = np.where(np.isnat(ep["end"]), END, ep["end"])
    days = np.maximum((hi - lo).astype(np.int64), 0)
    row = np.repeat(np.arange(len(days)), rng.poisson(HOMELESS_AE_PER_YEAR * days / 365.25))
    day = lo[row] + (rng.random(len(row)) * days[row]).astype(np.int64)
    streams.add(
        "ae",
        {
            "pidx": ep["pidx"][row],
            "arrival": dt_seconds(day, rng.integers(0, 86400, len(row))),
            "category": rng.choice([v.ILLNESS, v.INJURY], len(row), p=[0.55, 0.45]),
            "complaint": rng.choice(
                [
                    "Alcohol intoxication",
                    "Foot infection",
                    "Chest infection",
                    "Fall",
                    "Laceration",
                    "Overdose",
                ],
                len(row),
            ),
            "ambulance": rng.random(len(row)) < 0.3,
        },
    )


def homeless_on(ep: Frame, n_people: int, pidx: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Whether person `pidx[i]` was homeless on `when[i]` (datetime64[D])."""
    start = np.full(n_people, NAT_D)
    end = np.full(n_people, NAT_D)
    has = np.zeros(n_people, bool)
    start[ep["pidx"]] = ep["start"]
    end[ep["pidx"]] = np.where(np.isnat(ep["end"]), END + 1, ep["end"])
    has[ep["pidx"]] = True
    return np.asarray(has[pidx] & (when >= start[pidx]) & (when <= end[pidx]))
