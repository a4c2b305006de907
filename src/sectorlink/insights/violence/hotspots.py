"""Hotspots: Getis-Ord Gi* over small areas, Monte Carlo inference, FDR.

The statistic is esda's `G_Local` with `star=True` over binary Queen contiguity weights
built by libpysal from the hub's own small-area outlines (`geo_area`; nothing is
downloaded): an area's Gi* is the share of all incidents that fall in it and its
neighbours. Its z-score (`z`, esda's, under total randomisation) is reported as esda
gives it. esda's own permutation inference is not used: it is compiled by numba on first
use, over a minute in every new process, and it holds the focal area's count fixed, which
tests the neighbours rather than the area.

Which areas are hotspots is decided by a second, population-aware randomisation, because
the small areas need not hold similar populations (LSOAs are drawn to, the synthetic
region's are not) and because Gi* over contiguity spreads an isolated hot area's excess
over its neighbours. The period's incidents are redistributed `permutations` times over
the areas in proportion to their residents (multinomial; uniformly when no residents
are known), and for each area two one-sided Monte Carlo p-values are read off the same
draws: its Gi* (`p_gi`) and its own count (`p_own`). Both are corrected over all areas
with Benjamini-Hochberg. A hotspot is an area with both `q_gi` and `q_own` at or under
the false-discovery rate: a significant hot cluster whose own count is itself
significantly high (the neighbours of a hotspot, significant only through it, are not).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

_CHUNK = 500


@dataclass(frozen=True)
class HotspotRules:
    fdr: float = 0.05
    permutations: int = 9999
    seed: int = 17

    def __post_init__(self) -> None:
        if not 0 < self.fdr < 1:
            raise ValueError(f"hotspot_fdr must lie between 0 and 1, not {self.fdr}")
        if self.permutations < 99:
            raise ValueError(f"permutations must be at least 99, not {self.permutations}")


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(adjusted, 1.0)
    return q


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
    areas: pd.DataFrame, counts: pd.Series, residents: pd.Series, rules: HotspotRules
) -> pd.DataFrame:
    """Gi* and hotspot flags per small area.

    Args:
        areas: `code, geometry` of every small area (the map's areas).
        counts: incidents per area code (areas missing count zero).
        residents: residents per area code (for the null; all-zero or empty: uniform).

    Returns one row per area: `area, incidents, residents, expected, gi, z,
    p_gi, q_gi, p_own, q_own, hot_cluster, hotspot, neighbours`.
    """
    import esda

    codes = [str(c) for c in areas["code"]]
    y = counts.reindex(codes).fillna(0).to_numpy(dtype=float)
    pop = residents.reindex(codes).fillna(0).to_numpy(dtype=float)
    weights = queen_weights(codes, list(areas["geometry"]))
    n_incidents = int(y.sum())
    if pop.sum() > 0:
        # An area nobody is known to live in (a town centre, a park) still has people in
        # it: a floor of a tenth of the median area keeps its expected count above zero.
        floor = 0.1 * float(np.median(pop[pop > 0]))
        base = np.maximum(pop, floor)
        share = base / base.sum()
    else:
        share = np.full(len(codes), 1 / len(codes))
    result = pd.DataFrame(
        {
            "area": codes,
            "incidents": y.astype(np.int64),
            "residents": pop.astype(np.int64),
            "expected": share * n_incidents,
            "neighbours": [int(weights.cardinalities[c]) for c in codes],
        }
    )
    if n_incidents == 0 or len(codes) < 3:
        for column in ("gi", "z", "p_gi", "q_gi", "p_own", "q_own"):
            result[column] = np.nan
        result["hot_cluster"] = False
        result["hotspot"] = False
        return result
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
    window = sparse.csr_matrix(weights.sparse, dtype=float).tolil()
    window.setdiag(1.0)
    window = window.tocsr()
    observed = window @ y
    rng = np.random.default_rng(rules.seed)
    gi_higher = np.zeros(len(codes))
    own_higher = np.zeros(len(codes))
    done = 0
    while done < rules.permutations:
        size = min(_CHUNK, rules.permutations - done)
        draws = rng.multinomial(n_incidents, share, size=size).T.astype(float)
        gi_higher += (window @ draws >= observed[:, None] - 1e-9).sum(axis=1)
        own_higher += (draws >= y[:, None]).sum(axis=1)
        done += size
    p_gi = (gi_higher + 1) / (rules.permutations + 1)
    p_own = (own_higher + 1) / (rules.permutations + 1)
    result["gi"] = gi.Gs
    result["z"] = gi.Zs
    result["p_gi"] = p_gi
    result["q_gi"] = benjamini_hochberg(p_gi)
    result["p_own"] = p_own
    result["q_own"] = benjamini_hochberg(p_own)
    result["hot_cluster"] = (result["q_gi"] <= rules.fdr) & (result["z"] > 0)
    result["hotspot"] = (result["q_own"] <= rules.fdr) & (result["incidents"] > result["expected"])
    return result
