"""Assaults: where and when they concentrate, who attends A&E, who tells the police.

Violence hotspots are fixed places with peak days and hours (a cluster of pubs late on
Friday and Saturday, a bus station after school). About half of young adults' assaults
happen at one; the rest happen near the victim's home, at any time, weighted to the
evening. Each assault independently leads to an A&E attendance, a police record, both or
neither, with a reporting rate that varies by place, so the share of A&E assaults the
police never hear of is a planted, known quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sectorlink.synth import vocab as v
from sectorlink.synth.config import START, TIMELINE_DAYS, TIMELINE_YEARS
from sectorlink.synth.frames import Frame
from sectorlink.synth.geography import KM_PER_DEG_LAT, Region
from sectorlink.synth.identifiers import format_ids
from sectorlink.synth.population import People
from sectorlink.synth.streams import Streams, dt_seconds
from sectorlink.synth.words import words

MID = START + TIMELINE_DAYS // 2
START_WEEKDAY = int((START.astype("datetime64[D]").astype(np.int64) + 3) % 7)  # Monday = 0
HOUR_WEIGHTS = np.array(
    [6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 8, 7], float
)
# Method probabilities by place type (rows: ISTV place index; columns: ISTV method index).
METHOD_P = np.array(
    [
        [0.60, 0.15, 0.10, 0.05, 0.00, 0.07, 0.03],  # home
        [0.55, 0.14, 0.15, 0.06, 0.01, 0.06, 0.03],  # street
        [0.55, 0.06, 0.06, 0.27, 0.00, 0.04, 0.02],  # licensed premises
        [0.65, 0.12, 0.05, 0.03, 0.00, 0.10, 0.05],  # work
        [0.75, 0.10, 0.04, 0.01, 0.00, 0.07, 0.03],  # school
        [0.62, 0.10, 0.12, 0.06, 0.00, 0.06, 0.04],  # transport
        [0.55, 0.15, 0.10, 0.08, 0.01, 0.08, 0.03],  # other
        [0.50, 0.10, 0.10, 0.10, 0.00, 0.05, 0.15],  # unknown
    ]
)
BACKGROUND_PLACE_P = np.array([0.33, 0.34, 0.08, 0.06, 0.03, 0.04, 0.08, 0.04])
BACKGROUND_REPORT_P = np.array([0.50, 0.42, 0.30, 0.45, 0.35, 0.45, 0.40, 0.30])
DESCRIPTIONS = {
    v.HOME: ("Own home", "Home address", "Partner's home", "Friend's house"),
    v.WORK: ("At work", "Workplace", "Shop where works"),
    v.SCHOOL: ("School", "College", "School gates"),
    v.TRANSPORT: ("Bus", "Train station", "Taxi rank"),
    v.OTHER_PLACE: ("Park", "Shop", "Car park", "Takeaway"),
    v.UNKNOWN_PLACE: ("Can't remember", "Not stated", ""),
}


@dataclass(frozen=True)
class Hotspots:
    """Planted violence hotspots, indexed by hotspot number."""

    hotspot_id: np.ndarray
    name: np.ndarray
    place_type: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    radius_m: np.ndarray
    small_area: np.ndarray
    postcode: np.ndarray
    peak_days: np.ndarray
    """(n, 7) bool: the weekdays (Monday = 0) on which the peak window starts."""
    peak_start: np.ndarray
    """Hour the peak window starts."""
    peak_hours: np.ndarray
    """Length of the window in hours (it may run past midnight)."""
    weight: np.ndarray
    report_p: np.ndarray
    """Probability an assault here is reported to the police."""

    def __len__(self) -> int:
        return len(self.hotspot_id)


def build_hotspots(region: Region, people: int, rng: np.random.Generator) -> Hotspots:
    n = 4 + people // 60_000
    # Town-centre small areas first: hotspots are where the night-time economy is.
    sa_close = region.nb_closeness[region.sa_nb] + rng.uniform(0, 0.15, len(region.sa_nb))
    sites = np.argsort(-sa_close, kind="stable")[: 3 * n]
    sites = rng.choice(sites, size=n, replace=False)
    kind = np.where(
        np.arange(n) < round(n * 0.6),
        v.LICENSED,
        np.where(np.arange(n) % 2 == 0, v.STREET, v.TRANSPORT),
    )
    # A representative address in each site gives its point, street and postcode.
    first_addr = np.searchsorted(region.addr_sa, sites)
    count = np.searchsorted(region.addr_sa, sites, "right") - first_addr
    addr = first_addr + (rng.random(n) * np.maximum(count, 1)).astype(np.int64)
    addr = np.minimum(addr, region.n_addresses - 1)
    street = region.street_name[region.addr_street[addr]]
    venues = words("venue")
    town = region.town(addr)
    name = np.where(
        kind == v.LICENSED,
        np.char.add(np.char.add(venues[rng.integers(0, len(venues), n)], ", "), street),
        np.where(kind == v.TRANSPORT, np.char.add(town, " Bus Station"), street),
    )
    peak_days = np.zeros((n, 7), dtype=bool)
    peak_days[kind == v.LICENSED, 4:6] = True  # Friday and Saturday nights
    peak_days[kind == v.LICENSED, 3] = rng.random(int((kind == v.LICENSED).sum())) < 0.4
    peak_days[kind == v.STREET, :] = True
    peak_days[kind == v.TRANSPORT, 0:5] = True  # school days
    peak_start = np.select([kind == v.LICENSED, kind == v.STREET], [22, 19], 15)
    peak_hours = np.select([kind == v.LICENSED, kind == v.STREET], [5, 5], 4)
    report_p = np.select(
        [kind == v.LICENSED, kind == v.STREET],
        [rng.uniform(0.12, 0.35, n), rng.uniform(0.30, 0.50, n)],
        rng.uniform(0.40, 0.55, n),
    )
    return Hotspots(
        hotspot_id=format_ids(np.arange(n) + 1, "H", 2),
        name=name,
        place_type=kind,
        lat=region.addr_lat[addr],
        lon=region.addr_lon[addr],
        radius_m=np.full(n, 150.0),
        small_area=region.addr_sa[addr],
        postcode=region.postcode_of(addr),
        peak_days=peak_days,
        peak_start=peak_start,
        peak_hours=peak_hours,
        weight=rng.uniform(0.6, 1.6, n),
        report_p=report_p,
    )


def _offset(
    lat: np.ndarray, lon: np.ndarray, sd_m: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered around (lat, lon) with a standard deviation of `sd_m` metres."""
    dy = rng.normal(0, 1, len(lat)) * sd_m / 1000 / KM_PER_DEG_LAT
    dx = rng.normal(0, 1, len(lat)) * sd_m / 1000 / (KM_PER_DEG_LAT * np.cos(np.radians(lat)))
    return lat + dy, lon + dx


def generate_assaults(
    people: People,
    region: Region,
    hotspots: Hotspots,
    streams: Streams,
    rng: np.random.Generator,
    first_assault_id: int,
) -> Frame:
    """Assaults on the chunk's people; feeds the ae, police and ambulance streams.

    Returns the truth frame, one row per assault.
    """
    age = people.age_at(np.full(len(people), MID))
    age_factor = np.select(
        [age < 14, age < 18, age < 25, age < 35, age < 45, age < 60],
        [0.0, 0.6, 1.6, 1.2, 0.8, 0.4],
        0.1,
    )
    sex_factor = np.where(people.sex == "M", 1.4, 0.7)
    rate = 0.012 * age_factor * sex_factor * people.vulnerability * TIMELINE_YEARS
    pidx = np.repeat(np.arange(len(people)), rng.poisson(rate))
    n = len(pidx)
    a_age = age[pidx]
    at_hotspot = rng.random(n) < np.where((a_age >= 16) & (a_age <= 40), 0.55, 0.15)

    # Hotspot assaults: a peak day and an hour inside the window.
    hs = rng.choice(len(hotspots), size=n, p=hotspots.weight / hotspots.weight.sum())
    day = rng.integers(0, TIMELINE_DAYS - 7, n)
    weekday = (day + START_WEEKDAY) % 7
    allowed = hotspots.peak_days[hs]
    # Pick one allowed weekday at random: rank-weighted choice over the 7 flags.
    score = rng.random((n, 7)) * allowed
    target = score.argmax(axis=1)
    hot_day = day + (target - weekday) % 7
    hot_seconds = (
        hotspots.peak_start[hs] * 3600 + rng.random(n) * hotspots.peak_hours[hs] * 3600
    ).astype(np.int64)
    hot_lat, hot_lon = _offset(hotspots.lat[hs], hotspots.lon[hs], hotspots.radius_m[hs] / 2, rng)

    # Background assaults: near home, any day, evening-weighted hours.
    home = people.address_on(pidx, START + day)
    place = rng.choice(len(BACKGROUND_PLACE_P), size=n, p=BACKGROUND_PLACE_P)
    place = np.where(
        (place == v.HOME) | (people.sex[pidx] == "M") | (rng.random(n) < 0.6), place, v.HOME
    )
    place = np.where((place == v.SCHOOL) & (a_age >= 19), v.STREET, place)
    bg_seconds = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()) * 3600 + rng.integers(
        0, 3600, n
    )
    bg_lat, bg_lon = _offset(
        region.addr_lat[home], region.addr_lon[home], np.where(place == v.HOME, 0.0, 400.0), rng
    )

    place = np.where(at_hotspot, hotspots.place_type[hs], place)
    when = dt_seconds(
        START + np.where(at_hotspot, hot_day, day), np.where(at_hotspot, hot_seconds, bg_seconds)
    )
    lat = np.where(at_hotspot, hot_lat, bg_lat)
    lon = np.where(at_hotspot, hot_lon, bg_lon)
    small_area = np.where(at_hotspot, hotspots.small_area[hs], region.addr_sa[home])
    postcode = np.where(at_hotspot, hotspots.postcode[hs], region.postcode_of(home))
    cdf = np.cumsum(METHOD_P[place], axis=1)
    method = (rng.random(n)[:, None] > cdf).sum(axis=1)
    method = np.minimum(method, len(v.ISTV_METHOD) - 1)
    desc = _descriptions(place, region, home, rng)
    desc = np.where(at_hotspot, hotspots.name[hs], desc)

    serious = np.isin(method, [v.BLUNT, v.SHARP, v.GLASS, v.FIREARM])
    attended = rng.random(n) < np.where(serious, 0.75, 0.5)
    reported = rng.random(n) < np.where(
        at_hotspot, hotspots.report_p[hs], BACKGROUND_REPORT_P[place]
    )
    by_ambulance = rng.random(n) < np.where(attended, 0.35, 0.05)
    assault_id = first_assault_id + np.arange(n)

    # A&E: arrival 20 minutes to 4 hours later; the patient may say whether police know.
    ae = np.flatnonzero(attended)
    arrival = when[ae] + rng.integers(20 * 60, 4 * 3600, len(ae)).astype("timedelta64[s]")
    told = np.where(
        reported[ae],
        np.where(rng.random(len(ae)) < 0.8, 1, -1),
        np.where(rng.random(len(ae)) < 0.65, 0, -1),
    )
    streams.add(
        "ae",
        {
            "pidx": pidx[ae],
            "arrival": arrival,
            "category": np.full(len(ae), v.ASSAULT),
            "complaint": np.where(method[ae] == v.SHARP, "Stab wound", "Assault injury"),
            "ambulance": by_ambulance[ae],
            "assault_id": assault_id[ae],
            "assault_time": when[ae],
            "method": method[ae],
            "place_type": place[ae],
            "place_desc": desc[ae],
            "assault_postcode": np.where(rng.random(len(ae)) < 0.45, postcode[ae], ""),
            "told_police": told,
        },
    )
    pol = np.flatnonzero(reported)
    domestic = (place[pol] == v.HOME) & (rng.random(len(pol)) < 0.6)
    injury = attended[pol] | (rng.random(len(pol)) < 0.3)
    streams.add(
        "police",
        {
            "pidx": pidx[pol],
            # Police record the time as reported: often rounded to the quarter hour.
            "when": when[pol] - (when[pol].astype(np.int64) % 900).astype("timedelta64[s]"),
            "offence": np.where(
                domestic,
                v.DOMESTIC_ABUSE,
                np.where(injury, v.VIOLENCE_WITH_INJURY, v.VIOLENCE_NO_INJURY),
            ),
            "place_type": place[pol],
            "lat": np.round(lat[pol], 4),
            "lon": np.round(lon[pol], 4),
            "postcode": postcode[pol],
            "assault_id": assault_id[pol],
        },
    )
    amb = np.flatnonzero(by_ambulance)
    streams.add(
        "ambulance",
        {
            "pidx": pidx[amb],
            "call": when[amb] + rng.integers(60, 900, len(amb)).astype("timedelta64[s]"),
            "complaint": np.full(len(amb), "Assault"),
            "lat": lat[amb],
            "lon": lon[amb],
            "postcode": postcode[amb],
            "priority": np.where(serious[amb], 1, 2),
            "conveyed": attended[amb],
            "assault_id": assault_id[amb],
        },
    )
    in_peak = at_hotspot  # hotspot assaults are drawn inside the peak window by construction
    return {
        "assault_id": assault_id,
        "pidx": pidx,
        "when": when,
        "lat": lat,
        "lon": lon,
        "small_area": small_area,
        "hotspot": np.where(at_hotspot, hs, -1),
        "in_peak": in_peak,
        "place_type": place,
        "method": method,
        "attended_ae": attended,
        "reported": reported,
        "ambulance": by_ambulance,
    }


def _descriptions(
    place: np.ndarray, region: Region, home: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    n = len(place)
    out = region.street_name[region.addr_street[home]].astype(object)
    venues = words("venue")
    licensed = place == v.LICENSED
    out[licensed] = venues[rng.integers(0, len(venues), int(licensed.sum()))]
    for kind, options in DESCRIPTIONS.items():
        m = place == kind
        out[m] = np.array(options)[rng.integers(0, len(options), int(m.sum()))]
    return out.astype(str) if n else np.array([], dtype=str)
