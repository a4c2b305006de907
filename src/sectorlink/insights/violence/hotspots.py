"""Hotspots: Getis-Ord Gi* over small areas, and each area's own count tested.

The statistic is esda's `G_Local` with `star=True` over binary Queen contiguity weights
built by libpysal from the hub's own small-area outlines (`geo_area`; nothing is
downloaded): an area's Gi* is the share of all incidents that fall in it and its
neighbours. Its z-score (`z`, esda's, under total randomisation) is reported as esda
gives it. esda's own permutation inference is not used: it is compiled by numba on first
use, over a minute in every new process, and it holds the focal area's count fixed, which
tests the neighbours rather than the area.

Which areas are hotspots is decided by each area's own count against what it should be
without one (`sectorlink.insights.violence.expected`): an expectation from where the
victims live, over-dispersion estimated from the areas themselves, the hotspots found
left out of the fit, Benjamini-Hochberg over all areas (`p_own`, `q_own`). The counts
are the places' (`sectorlink.insights.violence.places`): a place near an area's edge is
counted whole in the area holding most of it.

Gi* is published beside it as `hot_cluster`: the period's incidents are redistributed
`permutations` times over the areas in proportion to that same expectation
(multinomial), and an area's Monte Carlo p-value (`p_gi`) is the share of draws whose
Gi* window holds as many incidents as observed, corrected with Benjamini-Hochberg
(`q_gi`). A hot cluster whose own count is not high is a neighbour of a hotspot: Gi*
over contiguity spreads an isolated hot area's excess over its neighbours.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from sectorlink.insights.violence.expected import (
    AreaTest,
    area_test,
    benjamini_hochberg,
    flow_exposure,
)

_CHUNK = 500


@dataclass(frozen=True)
class HotspotRules:
    fdr: float = 0.05
    permutations: int = 9999
    seed: int = 17
    place_radius_m: float = 150.0
    """The radius of a place (a venue and its frontage, a street segment): see places."""

    def __post_init__(self) -> None:
        if self.place_radius_m <= 0:
            raise ValueError(f"place_radius_m must be positive, not {self.place_radius_m}")
        if not 0 < self.fdr < 1:
            raise ValueError(f"hotspot_fdr must lie between 0 and 1, not {self.fdr}")
        if self.permutations < 99:
            raise ValueError(f"permutations must be at least 99, not {self.permutations}")


def queen_weights(codes: list[str], geometries: list[str]):  # type: ignore[no-untyped-def]
    """libpysal Queen contiguity weights from GeoJSON geometries (binary)."""
    import libpysal
    from shapely.geometry import shape

    shapes = [shape(json.loads(g)) for g in geometries]
    with warnings.catch_warnings():
        # An island (an area touching no other) is reported by the caller, not printed.
        warnings.simplefilter("ignore")
        weights = libpysal.weights.Queen.from_iterable(shapes, ids=codes)
    weights.transform = "B"
    return weights


def gi_star(
    areas: pd.DataFrame,
    counts: pd.Series,
    residents: pd.Series,
    rules: HotspotRules,
    *,
    flows: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, AreaTest | None]:
    """Gi* and hotspot flags per small area.

    Args:
        areas: `code, geometry` of every small area (the map's areas).
        counts: incidents per area code (areas missing count zero), each place counted
            whole in its area.
        residents: residents per area code: the expectation when `flows` is empty or
            absent (all-zero or empty too: uniform).
        flows: `home_area, area, incidents`: incidents by the victim's home area and the
            area counted in; the expectation comes from these when there are any.

    Returns one row per area (`area, incidents, residents, expected, gi, z, p_gi, q_gi,
    p_own, q_own, hot_cluster, hotspot, neighbours`) and the area test (None when there
    is nothing to test).
    """
    import esda

    codes = [str(c) for c in areas["code"]]
    y = counts.reindex(codes).fillna(0).to_numpy(dtype=float)
    pop = residents.reindex(codes).fillna(0).to_numpy(dtype=float)
    weights = queen_weights(codes, list(areas["geometry"]))
    adjacency = sparse.csr_matrix(weights.sparse, dtype=float)
    n_incidents = int(y.sum())
    result = pd.DataFrame(
        {
            "area": codes,
            "incidents": y.astype(np.int64),
            "residents": pop.astype(np.int64),
            "neighbours": [int(weights.cardinalities[c]) for c in codes],
        }
    )
    if n_incidents == 0 or len(codes) < 3:
        for column in ("expected", "gi", "z", "p_gi", "q_gi", "p_own", "q_own"):
            result[column] = np.nan
        result["hot_cluster"] = False
        result["hotspot"] = False
        return result, None
    if flows is not None and len(flows) and flows["incidents"].sum() > 0:
        exposure_of = flow_exposure(codes, adjacency, flows)
    else:
        fixed = pop if pop.sum() > 0 else np.ones(len(codes))
        exposure_of = lambda keep: (fixed, {})  # noqa: E731
    test = area_test(y, exposure_of, rules.fdr)
    share = test.expected / test.expected.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gi = esda.G_Local(
            y,
            weights,
            transform="B",
            star=True,
            # esda's own conditional permutation is compiled by numba on first use (over a
            # minute per process): the inference below is vectorised numpy instead.
            permutations=0,
            island_weight=0,
        )
    # The window each Gi* sums: the area itself and its Queen neighbours.
    window = adjacency.tolil()
    window.setdiag(1.0)
    window = window.tocsr()
    observed = window @ y
    rng = np.random.default_rng(rules.seed)
    gi_higher = np.zeros(len(codes))
    done = 0
    while done < rules.permutations:
        size = min(_CHUNK, rules.permutations - done)
        draws = rng.multinomial(n_incidents, share, size=size).T.astype(float)
        gi_higher += (window @ draws >= observed[:, None] - 1e-9).sum(axis=1)
        done += size
    p_gi = (gi_higher + 1) / (rules.permutations + 1)
    result["expected"] = test.expected
    result["gi"] = gi.Gs
    result["z"] = gi.Zs
    result["p_gi"] = p_gi
    result["q_gi"] = benjamini_hochberg(p_gi)
    result["p_own"] = test.p
    result["q_own"] = test.q
    result["hot_cluster"] = (result["q_gi"] <= rules.fdr) & (result["z"] > 0)
    result["hotspot"] = test.hotspot
    return result, test
