"""A made-up region that needs no internet: towns, neighbourhoods, small areas, streets,
postcodes and every address with coordinates and the housing facts lead risk depends on.

Neighbourhoods are cells of a jittered grid; each is cut into four small areas through its
edge midpoints. Because every cell is the bilinear image of a square, lines of constant u
or v are straight, so the small areas are exact quadrilaterals that tile the region with
no gaps, and a point drawn in (u, v) lies inside its polygon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sectorlink.synth.identifiers import IdPermutation, format_ids
from sectorlink.synth.words import words

# Somewhere inland in the north of England; the region itself is invented.
CENTRE_LAT, CENTRE_LON = 54.02, -2.31
KM_PER_DEG_LAT = 111.32
CELL_KM = 1.2
ADDRESSES_PER_NEIGHBOURHOOD = 900
POSTCODE_AREAS = ("NX", "NY", "WX", "RX", "GX", "SX", "TX", "UX")
UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
ERAS = np.array(
    [(1860, 1918), (1919, 1944), (1945, 1964), (1965, 1979), (1980, 1999), (2000, 2019)]
)
CONDITIONS = np.array(["good", "fair", "poor", "dilapidated"])
TENURES = np.array(["owner_occupied", "private_rented", "social_rented"])  # model codes (tenure)

# Lead hazard: logistic model over documented factors (docs/synthetic-region.md).
HAZARD_INTERCEPT = -5.0
HAZARD_ERA = np.array([2.8, 2.1, 1.3, 0.5, -1.0, -2.5])
HAZARD_CONDITION = np.array([0.0, 0.4, 1.1, 1.9])
HAZARD_PER_VIOLATION = 0.35
HAZARD_RENTED = 0.4


@dataclass(frozen=True)
class Region:
    """Everything about the map. Arrays are indexed by neighbourhood, small area, street,
    postcode or address id (their position)."""

    town_name: np.ndarray
    town_lat: np.ndarray
    town_lon: np.ndarray
    nb_code: np.ndarray
    nb_name: np.ndarray
    nb_town: np.ndarray
    nb_deprivation: np.ndarray
    """Deprivation index in [0, 1], 1 the most deprived (a rank, like IMD deciles)."""
    nb_closeness: np.ndarray
    """1 at a town centre, falling to 0 at the edge of the region."""
    nb_ring: np.ndarray
    """(n, 8, 2) lon/lat ring: corners and edge midpoints, anticlockwise."""
    sa_code: np.ndarray
    sa_nb: np.ndarray
    sa_ring: np.ndarray
    street_name: np.ndarray
    postcode: np.ndarray
    postcode_sa: np.ndarray
    postcode_lat: np.ndarray
    postcode_lon: np.ndarray
    addr_sa: np.ndarray
    addr_lat: np.ndarray
    addr_lon: np.ndarray
    addr_number: np.ndarray
    addr_street: np.ndarray
    addr_postcode: np.ndarray
    addr_uprn: np.ndarray
    year_built: np.ndarray
    condition: np.ndarray
    """Index into CONDITIONS."""
    tenure: np.ndarray
    """Index into TENURES."""
    past_violations: np.ndarray
    hazard_p: np.ndarray
    hazard: np.ndarray

    @property
    def n_addresses(self) -> int:
        return len(self.addr_sa)

    def addr_nb(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.sa_nb[self.addr_sa[ids]])

    def addr_deprivation(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.nb_deprivation[self.addr_nb(ids)])

    def street_line(self, ids: np.ndarray) -> np.ndarray:
        """'12 Mill Lane' for each address id."""
        number = self.addr_number[ids].astype(str)
        return np.char.add(np.char.add(number, " "), self.street_name[self.addr_street[ids]])

    def locality(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.nb_name[self.addr_nb(ids)])

    def town(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.town_name[self.nb_town[self.addr_nb(ids)]])

    def postcode_of(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.postcode[self.addr_postcode[ids]])


def _bilinear(corners: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Map (u, v) in the unit square to the quad with corners (p00, p10, p11, p01)."""
    p00, p10, p11, p01 = (corners[:, k, :] for k in range(4))
    u = u[:, None]
    v = v[:, None]
    return np.asarray((1 - u) * (1 - v) * p00 + u * (1 - v) * p10 + u * v * p11 + (1 - u) * v * p01)


def _place_names(rng: np.random.Generator, n: int) -> np.ndarray:
    prefixes, suffixes = words("prefix"), words("suffix")
    combos = np.char.add(np.repeat(prefixes, len(suffixes)), np.tile(suffixes, len(prefixes)))
    if n <= len(combos):
        return rng.permutation(combos)[:n]
    # More neighbourhoods than combinations: add compass qualifiers ("Upper Ashford").
    extra = np.char.add(
        np.array(["Upper ", "Lower ", "North ", "South ", "East ", "West "])[:, None],
        combos[None, :],
    ).ravel()
    return rng.permutation(np.concatenate([combos, extra]))[:n]


def build_region(n_addresses: int, rng: np.random.Generator) -> Region:
    """A region with exactly `n_addresses` addresses."""
    n_nb = int(np.clip(round(n_addresses / ADDRESSES_PER_NEIGHBOURHOOD), 12, 2000))
    nx = math.ceil(math.sqrt(n_nb * 4 / 3))
    ny = math.ceil(n_nb / nx)
    n_nb = nx * ny

    # Vertex grid in km, interior vertices jittered (a quarter cell keeps cells convex).
    gx, gy = np.meshgrid(
        np.arange(nx + 1, dtype=float), np.arange(ny + 1, dtype=float), indexing="ij"
    )
    jitter = rng.uniform(-0.22, 0.22, size=(nx + 1, ny + 1, 2))
    jitter[[0, -1], :, :] = 0
    jitter[:, [0, -1], :] = 0
    vx = (gx + jitter[..., 0] - nx / 2) * CELL_KM
    vy = (gy + jitter[..., 1] - ny / 2) * CELL_KM
    lat = CENTRE_LAT + vy / KM_PER_DEG_LAT
    lon = CENTRE_LON + vx / (KM_PER_DEG_LAT * math.cos(math.radians(CENTRE_LAT)))
    verts = np.stack([lon, lat], axis=-1)
    grid_i, grid_j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    ci, cj = grid_i.ravel(), grid_j.ravel()
    cell = np.stack(
        [verts[ci, cj], verts[ci + 1, cj], verts[ci + 1, cj + 1], verts[ci, cj + 1]], axis=1
    )

    # Towns: a few centres; closeness to the nearest drives density, age and deprivation.
    n_towns = 1 + n_nb // 60
    town_cell = rng.choice(n_nb, size=n_towns, replace=False)
    cx, cy = ci + 0.5, cj + 0.5
    d = np.hypot(cx[:, None] - cx[town_cell][None, :], cy[:, None] - cy[town_cell][None, :])
    nb_town = d.argmin(axis=1)
    nearest = d.min(axis=1)
    radius = max(2.0, math.sqrt(n_nb / n_towns) / 1.6)
    closeness = np.clip(1.0 - nearest / radius, 0.0, 1.0)
    dep_score = 0.9 * closeness + rng.normal(0, 0.35, n_nb)
    deprivation = (np.argsort(np.argsort(dep_score)) + 0.5) / n_nb

    nb_names = _place_names(rng, n_nb)
    nb_code = format_ids(np.arange(1, n_nb + 1), "N", 3)
    area = np.array(POSTCODE_AREAS)[np.arange(n_nb) // 99 % len(POSTCODE_AREAS)]
    outward = np.char.add(area, (np.arange(n_nb) % 99 + 1).astype(str))

    # Small areas: quadrants of each cell in (u, v).
    quad_u0 = np.array([0.0, 0.5, 0.5, 0.0])
    quad_v0 = np.array([0.0, 0.0, 0.5, 0.5])
    sa_nb = np.repeat(np.arange(n_nb), 4)
    sa_q = np.tile(np.arange(4), n_nb)
    sa_corners_uv = np.stack(
        [
            np.stack([quad_u0[sa_q], quad_v0[sa_q]], -1),
            np.stack([quad_u0[sa_q] + 0.5, quad_v0[sa_q]], -1),
            np.stack([quad_u0[sa_q] + 0.5, quad_v0[sa_q] + 0.5], -1),
            np.stack([quad_u0[sa_q], quad_v0[sa_q] + 0.5], -1),
        ],
        axis=1,
    )
    sa_ring = np.stack(
        [_bilinear(cell[sa_nb], sa_corners_uv[:, k, 0], sa_corners_uv[:, k, 1]) for k in range(4)],
        axis=1,
    )
    ring_u = np.array([0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0])
    ring_v = np.array([0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 0.5])
    nb_ring = np.stack(
        [_bilinear(cell, np.full(n_nb, ring_u[k]), np.full(n_nb, ring_v[k])) for k in range(8)],
        axis=1,
    )
    n_sa = len(sa_nb)
    sa_code = format_ids(np.arange(1, n_sa + 1), "E0199", 4)

    # Addresses: denser near town centres, split into streets of 12-60 homes.
    sa_weight = rng.lognormal(0, 0.35, n_sa) * (0.4 + 1.6 * closeness[sa_nb])
    counts = rng.multinomial(n_addresses, sa_weight / sa_weight.sum())
    addr_sa = np.repeat(np.arange(n_sa), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank_in_sa = np.arange(n_addresses) - first[addr_sa]
    street_len = rng.integers(12, 61, n_sa)
    local_street = rank_in_sa // street_len[addr_sa]
    streets_per_sa = -(-counts // street_len)
    street_base = np.concatenate([[0], np.cumsum(streets_per_sa)[:-1]])
    addr_street = street_base[addr_sa] + local_street
    n_streets = int(streets_per_sa.sum())
    number = rank_in_sa % street_len[addr_sa] + 1
    street_words, street_types = words("street"), words("type")
    street_name = np.char.add(
        np.char.add(street_words[rng.integers(0, len(street_words), n_streets)], " "),
        street_types[rng.integers(0, len(street_types), n_streets)],
    )

    # Street geometry in the small area's (u, v): a segment; homes along it.
    s_u0, s_v0 = rng.uniform(0.15, 0.85, n_streets), rng.uniform(0.15, 0.85, n_streets)
    angle = rng.uniform(0, np.pi, n_streets)
    half = rng.uniform(0.15, 0.4, n_streets)
    t = (number - 0.5) / street_len[addr_sa] * 2 - 1
    s = addr_street
    u = np.clip(
        s_u0[s] + t * half[s] * np.cos(angle[s]) + rng.normal(0, 0.01, n_addresses), 0.03, 0.97
    )
    v = np.clip(
        s_v0[s] + t * half[s] * np.sin(angle[s]) + rng.normal(0, 0.01, n_addresses), 0.03, 0.97
    )
    q = sa_q[addr_sa]
    cu, cv = quad_u0[q] + 0.5 * u, quad_v0[q] + 0.5 * v
    lonlat = _bilinear(cell[sa_nb[addr_sa]], cu, cv)

    # Postcodes: runs of up to 15 consecutive homes on a street; sector = quadrant.
    unit_on_street = (number - 1) // 15
    pc_key = addr_street * 10 + unit_on_street
    pc_keys, addr_postcode = np.unique(pc_key, return_inverse=True)
    pc_first_addr = np.zeros(len(pc_keys), dtype=np.int64)
    pc_first_addr[addr_postcode[::-1]] = np.arange(n_addresses)[::-1]
    pc_sa = addr_sa[pc_first_addr]
    sector_rank = np.arange(len(pc_keys)) - np.searchsorted(pc_sa, pc_sa)
    unit = np.char.add(UNIT_LETTERS[sector_rank // 20 % 20], UNIT_LETTERS[sector_rank % 20])
    postcode = np.char.add(
        np.char.add(np.char.add(outward[sa_nb[pc_sa]], " "), (sa_q[pc_sa] + 1).astype(str)), unit
    )
    pc_n = np.bincount(addr_postcode)
    pc_lon = np.bincount(addr_postcode, lonlat[:, 0]) / pc_n
    pc_lat = np.bincount(addr_postcode, lonlat[:, 1]) / pc_n

    # Housing: a street is built in one era; older near town centres.
    c = closeness[sa_nb[addr_sa]]
    street_close = np.zeros(n_streets)
    street_close[addr_street] = c
    era_p = np.stack(
        [
            0.05 + 0.45 * street_close,
            0.15 + 0.10 * street_close,
            np.full(n_streets, 0.20),
            0.20 - 0.10 * street_close,
            0.20 - 0.17 * street_close,
            np.clip(0.20 - 0.25 * street_close, 0.02, None),
        ],
        axis=1,
    )
    era_cdf = np.cumsum(era_p / era_p.sum(axis=1, keepdims=True), axis=1)
    street_era = (rng.random(n_streets)[:, None] > era_cdf).sum(axis=1)
    street_year = rng.integers(ERAS[street_era, 0], ERAS[street_era, 1] + 1)
    era = street_era[addr_street]
    year_built = street_year[addr_street]
    dep = deprivation[sa_nb[addr_sa]]
    cond_score = 1.3 * dep + 0.25 * (5 - era) / 5 + rng.normal(0, 0.45, n_addresses)
    condition = np.digitize(cond_score, [0.55, 1.15, 1.6])
    tenure_u = rng.random(n_addresses)
    private = 0.15 + 0.25 * dep
    social = 0.05 + 0.25 * dep
    tenure = np.where(tenure_u < private, 1, np.where(tenure_u < private + social, 2, 0))
    rented = tenure > 0
    violations = rng.poisson(0.1 + 0.6 * (condition == 2) + 1.4 * (condition == 3) + 0.3 * rented)
    logit = (
        HAZARD_INTERCEPT
        + HAZARD_ERA[era]
        + HAZARD_CONDITION[condition]
        + HAZARD_PER_VIOLATION * np.minimum(violations, 6)
        + HAZARD_RENTED * rented
    )
    hazard_p = 1 / (1 + np.exp(-logit))
    hazard = rng.random(n_addresses) < hazard_p

    # UPRN-like 12-digit property ids, scrambled so neighbours do not get neighbouring ids.
    uprn = 100_000_000_000 + IdPermutation(10**10, rng)(np.arange(n_addresses))

    town_name = nb_names[town_cell]
    town_lonlat = cell[town_cell].mean(axis=1)
    return Region(
        town_name=town_name,
        town_lat=town_lonlat[:, 1],
        town_lon=town_lonlat[:, 0],
        nb_code=nb_code,
        nb_name=nb_names,
        nb_town=nb_town,
        nb_deprivation=deprivation,
        nb_closeness=closeness,
        nb_ring=nb_ring,
        sa_code=sa_code,
        sa_nb=sa_nb,
        sa_ring=sa_ring,
        street_name=street_name,
        postcode=postcode,
        postcode_sa=pc_sa,
        postcode_lat=pc_lat,
        postcode_lon=pc_lon,
        addr_sa=addr_sa,
        addr_lat=lonlat[:, 1],
        addr_lon=lonlat[:, 0],
        addr_number=number,
        addr_street=addr_street,
        addr_postcode=addr_postcode,
        addr_uprn=uprn,
        year_built=year_built,
        condition=condition,
        tenure=tenure,
        past_violations=violations,
        hazard_p=hazard_p,
        hazard=hazard,
    )
