"""At least one row in every extract file, however small the region.

Ingest refuses a file with a header and no rows, as it should, and in a region of a few
hundred people a rare service (street outreach, children's social care, the lead
programme) can see nobody. So the generator counts, chunk by chunk, the events that feed
each file, and in the last chunk adds one plain event (a person who fits, on a date in
the timeline) for every feed still at zero. In regions of a few thousand people or more
this never fires, so their output is what the generators drew. Each added event passes
through the same streams as the rest, so the extracts and the truth files agree on it.
"""

from __future__ import annotations

import numpy as np

from sectorlink.synth import homelessness, lead, services
from sectorlink.synth import vocab as v
from sectorlink.synth.config import END, START, TIMELINE_DAYS
from sectorlink.synth.frames import NAT_D, Frame, concat, length
from sectorlink.synth.geography import Region
from sectorlink.synth.population import HouseholdPlan, People
from sectorlink.synth.streams import Streams, dt_seconds

FEEDS = (
    "ae",
    "ambulance",
    "police",
    "hmis_outreach",
    "asc",
    "csc",
    "advice",
    "gp_patients",
    "gp_condition",
    "mlp",
    "lead",
    "inspection",
)
"""What feeds each extract file (street outreach enrolments feed all three HMIS files;
police rows both police files; blood lead tests the lead properties too)."""
EPISODE_FIELDS = ("pidx", "start", "end", "crisis", "prior")


def count(streams: Streams, patients: Frame) -> dict[str, int]:
    """Rows of each feed in one chunk."""
    out = {
        name: length(streams.get(name))
        for name in FEEDS
        if name not in ("hmis_outreach", "gp_patients")
    }
    out["hmis_outreach"] = int((streams.get("hmis")["project"] == v.HMIS_OUTREACH).sum())
    out["gp_patients"] = len(patients["pidx"])
    return out


def ensure_catchment(catchment: np.ndarray, region: Region, plan: HouseholdPlan) -> None:
    """The GP network must cover somebody's home: if none of its neighbourhoods is lived
    in, it also covers the first household's."""
    lived_in = region.addr_nb(plan.home)
    if not catchment[lived_in].any():
        catchment[lived_in[0]] = True


def _pick(rng: np.random.Generator, preferred: np.ndarray, fallback: int) -> int:
    """A random index where `preferred` holds, else `fallback`."""
    candidates = np.flatnonzero(preferred)
    if len(candidates) == 0:
        return fallback
    return int(candidates[rng.integers(0, len(candidates))])


def _day(rng: np.random.Generator, earliest: np.datetime64 | np.ndarray) -> np.ndarray:
    """One day between `earliest` (at the soonest the start of the timeline) and its end."""
    lo = np.minimum(np.maximum(np.asarray([earliest], dtype="datetime64[D]"), START), END)
    span = (END - lo).astype(np.int64)
    return np.asarray(lo + rng.integers(0, span + 1), dtype="datetime64[D]")


def ensure_outreach(
    people: People,
    cohort: Frame,
    episodes: Frame,
    streams: Streams,
    rng: np.random.Generator,
    seen: int,
) -> Frame:
    """A street homelessness episode with an outreach enrolment when the region has none
    yet (the three HMIS files need one); returns the episodes, with it if added."""
    hmis = streams.get("hmis")
    if seen + int((hmis["project"] == v.HMIS_OUTREACH).sum()) > 0:
        return episodes
    age = people.age_at(np.full(len(people), START + TIMELINE_DAYS // 2))
    taken = np.zeros(len(people), bool)
    taken[np.concatenate([cohort["pidx"], episodes["pidx"], hmis["pidx"]])] = True
    who = _pick(rng, (age >= 18) & (age <= 75) & ~taken, _pick(rng, ~taken, 0))
    start = START + int(rng.integers(30, TIMELINE_DAYS // 2))
    added: Frame = {
        "pidx": np.array([who]),
        "start": np.array([start], dtype="datetime64[D]"),
        "end": np.array([start + 120], dtype="datetime64[D]"),
        "crisis": np.array([False]),
        "prior": np.array([v.LIVING_STREET]),
    }
    homelessness.add_enrolments(added, streams, rng)
    defaults = {"pidx": -1, "start": NAT_D, "end": NAT_D, "crisis": False, "prior": 99}
    return concat([episodes, added], defaults)


def top_up(
    people: People,
    region: Region,
    streams: Streams,
    patients: Frame,
    seen: dict[str, int],
    rng: np.random.Generator,
) -> None:
    """One plain event for every feed with no rows so far in the region (last chunk only)."""
    now = count(streams, patients)
    empty = {name for name in FEEDS if seen.get(name, 0) + now[name] == 0}
    if not empty:
        return
    n = len(people)
    age = people.age_at(np.full(n, START + TIMELINE_DAYS // 2))
    adult = _pick(rng, age >= 18, int(np.argmax(age)))
    child = _pick(rng, age < 18, int(np.argmin(age)))
    anyone = int(rng.integers(0, n))

    def at(person: int) -> tuple[np.ndarray, np.ndarray]:
        day = _day(rng, people.dob[person])
        return np.array([person]), day

    if "ae" in empty:
        pidx, day = at(anyone)
        streams.add(
            "ae",
            {
                "pidx": pidx,
                "arrival": dt_seconds(day, np.array([14 * 3600])),
                "category": np.array([v.ILLNESS]),
                "complaint": np.array(["Fever"]),
            },
        )
    if "ambulance" in empty:
        pidx, day = at(anyone)
        home = people.address_on(pidx, day)
        streams.add(
            "ambulance",
            {
                "pidx": pidx,
                "call": dt_seconds(day, np.array([10 * 3600])),
                "complaint": np.array(["Fall"]),
                "lat": region.addr_lat[home],
                "lon": region.addr_lon[home],
                "postcode": region.postcode_of(home),
            },
        )
    if "police" in empty:
        pidx, day = at(adult)
        home = people.address_on(pidx, day)
        streams.add(
            "police",
            {
                "pidx": pidx,
                "when": dt_seconds(day, np.array([21 * 3600])),
                "offence": np.array([v.BURGLARY]),
                "place_type": np.array([v.HOME]),
                "lat": np.round(region.addr_lat[home], 4),
                "lon": np.round(region.addr_lon[home], 4),
                "postcode": region.postcode_of(home),
            },
        )
    if "asc" in empty:
        pidx, day = at(adult)
        end = day + 30
        streams.add(
            "asc",
            {
                "pidx": pidx,
                "start": day,
                "end": np.where(end > END, NAT_D, end),
                "service": np.array([0]),
                "reason": np.array([services.ASC_REASONS[0]]),
            },
        )
    if "csc" in empty:
        pidx, day = at(child)
        end = day + 90
        streams.add(
            "csc",
            {
                "pidx": pidx,
                "start": day,
                "end": np.where(end > END, NAT_D, end),
                "service": np.array([0]),
                "reason": np.array(["Family in acute stress"]),
            },
        )
    if "advice" in empty:
        pidx, day = at(adult)
        streams.add("advice", {"pidx": pidx, "date": day, "support": np.array([v.BENEFITS_CHECK])})
    if "lead" in empty:
        young = people.dob >= END - 7 * 365
        pidx = np.array([_pick(rng, young, int(np.argmax(people.dob)))])
        day = _day(rng, people.dob[pidx[0]] + 365)
        address = people.address_on(pidx, day)
        level = lead.BASE_GM * np.where(region.hazard[address], lead.HAZARD_FACTOR, 1.0)
        streams.add(
            "lead",
            {
                "pidx": pidx,
                "date": day,
                "sample": np.array([v.CAPILLARY]),
                "result": lead.measure(level, rng),
                "address": address,
                "true_level": level,
            },
        )
    if len(patients["pidx"]) and {"gp_condition", "mlp"} & empty:
        registered = patients["pidx"]
        grown = age[registered] >= 18
        row = _pick(rng, grown, 0)
        pidx = registered[row : row + 1]
        day = _day(rng, max(patients["registered"][row], people.dob[pidx[0]] + 365))
        if "gp_condition" in empty:
            streams.add(
                "gp_condition",
                {
                    "pidx": pidx,
                    "date": day,
                    "condition": np.array([v.HYPERTENSION if grown[row] else v.ASTHMA]),
                    "severity": np.array(["Mild"]),
                },
            )
        if "mlp" in empty:
            streams.add("mlp", {"pidx": pidx, "screen": day})


def ensure_inspection(history: Frame, seen: int, region: Region, rng: np.random.Generator) -> Frame:
    """The region's inspection history, with one clean HHSRS inspection added when the
    programme has none at all (the inspections file needs a row)."""
    if seen + length(history) > 0:
        return history
    address = np.array([int(rng.integers(0, region.n_addresses))])
    date = np.array([lead.HISTORY_START + int(rng.integers(0, 365))], dtype="datetime64[D]")
    added = lead.inspection_rows(region, address, date, np.array([False]), rng)
    return concat([history, added], {k: values[0] for k, values in added.items()})
