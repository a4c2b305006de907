"""Childhood lead: who is tested, what the results are, and which homes get inspected.

Whether a home carries a lead hazard is fixed in geography.py from documented factors
(building era, condition, past violations, renting). A child's blood lead level depends
on that hazard in the home at the test date, on age (it peaks around two) and on the
child (a persistent random effect). Capillary samples are sometimes contaminated high,
so a capillary result at or above the reference value is followed by a venous test.
"""

from __future__ import annotations

import numpy as np

from sectorlink.synth import vocab as v
from sectorlink.synth.config import END, START, lead_reference_value
from sectorlink.synth.frames import Frame, length
from sectorlink.synth.geography import Region
from sectorlink.synth.population import People
from sectorlink.synth.streams import Streams

BASE_GM = 0.8
"""Geometric mean blood lead (µg/dL) of a one-year-old in a home with no hazard."""
HAZARD_FACTOR = 4.0
"""Multiplier on the geometric mean in a home with a lead hazard."""
INSPECTION_SENSITIVITY, INSPECTION_FALSE_POSITIVE = 0.9, 0.03
HISTORY_START = np.datetime64("2012-01-01")


def add_tests(people: People, region: Region, streams: Streams, rng: np.random.Generator) -> None:
    """Blood lead tests of young children in a targeted programme."""
    kids = np.flatnonzero(people.dob >= END - 7 * 365)
    n = len(kids)
    first = people.dob[kids] + rng.integers(330, 540, n)
    second = people.dob[kids] + rng.integers(700, 900, n)
    home_first = people.address_on(kids, first)
    old_home = region.year_built[home_first] < 1950
    p_test = np.clip(0.2 + 0.35 * old_home + 0.25 * region.addr_deprivation(home_first), 0, 0.9)
    tested = rng.random(n) < p_test
    child_effect = rng.normal(0, 0.45, n)
    take_second = tested & (rng.random(n) < 0.55)
    child = np.concatenate([np.flatnonzero(tested), np.flatnonzero(take_second)])
    date = np.concatenate([first[tested], second[take_second]])
    age_factor = np.concatenate([np.ones(int(tested.sum())), np.full(int(take_second.sum()), 1.25)])
    keep = (date >= START) & (date <= END)
    child, date, age_factor = child[keep], date[keep], age_factor[keep]
    pidx = kids[child]
    address = people.address_on(pidx, date)
    years_since = (date - START).astype(np.int64) / 365.25
    gm = (
        BASE_GM
        * (1 + (HAZARD_FACTOR - 1) * region.hazard[address])
        * age_factor
        * np.exp(-0.04 * years_since)
    )
    true_level = gm * np.exp(child_effect[child] + rng.normal(0, 0.25, len(pidx)))
    capillary = rng.random(len(pidx)) < 0.65
    contamination = np.where(
        capillary & (rng.random(len(pidx)) < 0.08), rng.uniform(1, 4, len(pidx)), 0.0
    )
    result = measure(true_level + contamination, rng)
    # Venous confirmation of a raised capillary result, two to eight weeks later.
    confirm = capillary & (result >= lead_reference_value(date))
    c_date = date[confirm] + rng.integers(14, 60, int(confirm.sum()))
    c_ok = c_date <= END
    c = np.flatnonzero(confirm)[c_ok]
    all_pidx = np.concatenate([pidx, pidx[c]])
    all_date = np.concatenate([date, c_date[c_ok]])
    all_true = np.concatenate([true_level, true_level[c]])
    streams.add(
        "lead",
        {
            "pidx": all_pidx,
            "date": all_date,
            "sample": np.concatenate(
                [np.where(capillary, v.CAPILLARY, v.VENOUS), np.full(len(c), v.VENOUS)]
            ),
            "result": np.concatenate([result, measure(true_level[c], rng)]),
            "address": np.concatenate([address, address[c]]),
            "true_level": all_true,
        },
    )


def measure(level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A lab result: some noise, reported to one decimal, floored at the detection limit."""
    return np.round(np.maximum(level + rng.normal(0, 0.2, len(level)), 0.5), 1)


def add_triggered_inspections(region: Region, streams: Streams, rng: np.random.Generator) -> None:
    """A lead-hazard inspection of the home after a child's first raised result."""
    lead = streams.get("lead")
    if length(lead) == 0:
        return
    raised = lead["result"] >= lead_reference_value(lead["date"])
    order = np.lexsort((lead["date"], lead["pidx"]))
    r = order[raised[order]]
    first_of_child = (
        np.concatenate([[True], lead["pidx"][r][1:] != lead["pidx"][r][:-1]])
        if len(r)
        else r.astype(bool)
    )
    r = r[first_of_child]
    date = lead["date"][r] + rng.integers(14, 75, len(r))
    ok = date <= END
    address = lead["address"][r][ok]
    streams.add(
        "inspection", inspection_rows(region, address, date[ok], np.ones(len(address), bool), rng)
    )


def history_inspections(region: Region, rng: np.random.Generator) -> Frame:
    """Housing inspections across the region since 2012: every home with past violations
    had one (that is how they are known), and some rented homes were inspected clean."""
    n = region.n_addresses
    rented = region.tenure > 0
    inspected = (region.past_violations > 0) | (rented & (rng.random(n) < 0.05))
    address = np.flatnonzero(inspected)
    span = (END - HISTORY_START).astype(np.int64)
    date = HISTORY_START + rng.integers(0, span, len(address))
    lead_check = rng.random(len(address)) < 0.25
    return inspection_rows(
        region, address, date, lead_check, rng, violations=region.past_violations[address]
    )


def inspection_rows(
    region: Region,
    address: np.ndarray,
    date: np.ndarray,
    lead_check: np.ndarray,
    rng: np.random.Generator,
    violations: np.ndarray | None = None,
) -> Frame:
    m = len(address)
    hazard = region.hazard[address]
    found = lead_check & np.where(
        hazard, rng.random(m) < INSPECTION_SENSITIVITY, rng.random(m) < INSPECTION_FALSE_POSITIVE
    )
    if violations is None:
        violations = rng.poisson(0.2 + 0.8 * (region.condition[address] >= 2))
    outcome = np.where(
        found | (violations >= 3),
        "Notice served",
        np.where(violations > 0, "Informal action", "No action"),
    )
    return {
        "address": address,
        "date": date.astype("datetime64[D]"),
        "lead_check": lead_check,
        "lead_found": found,
        "violations": violations,
        "outcome": outcome,
    }
