"""What each small area's count of assaults should be without a hotspot, and the test.

Most assaults happen at or near the victim's home; a hotspot is a place that draws
victims from elsewhere. The expectation therefore comes from where the victims live
(the person index's home area), not from how many people live in each area: an area
whose residents suffer many assaults (a deprived estate, a household with repeated
domestic abuse) expects many, and a town centre few people live in expects few.

From the incidents whose victim's home area is known, three shares are estimated from
the data itself: the share that happen in the victim's own area (`at_home_area`), in an
area next to it (`next_door`, Queen contiguity) and anywhere else (`elsewhere`). An
area's exposure is then

    at_home_area * R[a] + next_door * sum over neighbours b of R[b] / neighbours(b)
                        + elsewhere * sum(R) / areas

where R[b] counts the incidents of b's residents, wherever they happened. The expected
count is the exposure scaled to the incidents counted (victims of unknown home included).

Counts of assaults vary more than a Poisson count (repeat victims, households, estates):
the variance is taken as `dispersion` x the mean (a negative binomial of the NB1 kind),
with the dispersion estimated from the areas themselves, robustly (the median of the
squared Pearson residuals over the median of a chi-square on one degree of freedom), so
the hotspots being looked for do not inflate it; it is never taken below 1 (Poisson).

The fit excludes the hotspots it finds: shares, scale and dispersion are estimated on
the areas not flagged, the areas tested again, until the flagged set no longer changes.
Each area's p-value is its upper tail; the areas are corrected together with
Benjamini-Hochberg.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

CHI2_1_MEDIAN = float(stats.chi2.median(1))
_MAX_ROUNDS = 20


@dataclass(frozen=True)
class AreaTest:
    """The expected count, the test and what the fit estimated, per area (in order)."""

    expected: np.ndarray
    p: np.ndarray
    q: np.ndarray
    hotspot: np.ndarray
    dispersion: float
    shares: dict[str, float]
    """`at_home_area, next_door, elsewhere`: empty when the expectation used residents."""
    rounds: int


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


def robust_dispersion(y: np.ndarray, mu: np.ndarray) -> float:
    """Variance over mean, from the median squared Pearson residual; at least 1."""
    ok = mu > 0
    if ok.sum() < 3:
        return 1.0
    pearson = (y[ok] - mu[ok]) ** 2 / mu[ok]
    return max(1.0, float(np.median(pearson)) / CHI2_1_MEDIAN)


def upper_tail(y: np.ndarray, mu: np.ndarray, dispersion: float) -> np.ndarray:
    """P(Y >= y) for Y of mean `mu` and variance `dispersion * mu` (NB1; Poisson at 1)."""
    y = np.asarray(y, dtype=float)
    mu = np.maximum(np.asarray(mu, dtype=float), 1e-12)
    if dispersion <= 1.0 + 1e-9:
        return np.asarray(stats.poisson.sf(y - 1, mu), dtype=float)
    return np.asarray(stats.nbinom.sf(y - 1, mu / (dispersion - 1), 1 / dispersion), dtype=float)


def flow_exposure(
    codes: list[str], adjacency: sparse.csr_matrix, flows: pd.DataFrame
) -> Callable[[np.ndarray], tuple[np.ndarray, dict[str, float]]]:
    """The exposure of each area from where victims live, for a set of areas kept.

    Args:
        codes: the areas, in order.
        adjacency: binary contiguity between them (same order).
        flows: `home_area, area, incidents`: incidents by the victim's home area and the
            area counted in (only both known).

    Returns a function of `keep` (bool per area: the areas not flagged) giving the
    exposure and the three shares, both estimated from incidents counted in kept areas.
    """
    index = {c: i for i, c in enumerate(codes)}
    inside = flows[flows["home_area"].isin(index) & flows["area"].isin(index)]
    home = inside["home_area"].map(index).to_numpy(dtype=np.int64)
    where = inside["area"].map(index).to_numpy(dtype=np.int64)
    n = inside["incidents"].to_numpy(dtype=float)
    adjacency = sparse.csr_matrix(adjacency, dtype=float)
    next_door = np.asarray(adjacency[home, where]).ravel() > 0 if len(home) else np.zeros(0, bool)
    same = home == where
    degree = np.maximum(np.asarray(adjacency.sum(axis=1)).ravel(), 1.0)
    # All the residents' incidents, those at a hotspot included: leaving out a flagged
    # area's own would lower its expectation because it was flagged.
    residents = np.bincount(home, weights=n, minlength=len(codes))

    def exposure(keep: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        kept = keep[where]
        total = n[kept].sum()
        if total == 0:
            return np.zeros(len(codes)), {}
        shares = {
            "at_home_area": float(n[kept & same].sum() / total),
            "next_door": float(n[kept & next_door].sum() / total),
        }
        shares["elsewhere"] = max(0.0, 1.0 - shares["at_home_area"] - shares["next_door"])
        value = (
            shares["at_home_area"] * residents
            + shares["next_door"] * (adjacency @ (residents / degree))
            + shares["elsewhere"] * residents.sum() / len(codes)
        )
        return value, shares

    return exposure


def with_floor(exposure: np.ndarray) -> np.ndarray:
    """An area with no exposure still has people passing through it: a floor of a tenth
    of the median area's keeps its expected count above zero."""
    positive = exposure[exposure > 0]
    if not len(positive):
        return np.ones(len(exposure))
    floored: np.ndarray = np.maximum(exposure, 0.1 * float(np.median(positive)))
    return floored


def area_test(
    y: np.ndarray,
    exposure_of: Callable[[np.ndarray], tuple[np.ndarray, dict[str, float]]],
    fdr: float,
) -> AreaTest:
    """Flag the areas whose count is significantly above expectation (see the module)."""
    y = np.asarray(y, dtype=float)
    keep = np.ones(len(y), dtype=bool)
    rounds = 0
    while True:
        rounds += 1
        exposure, shares = exposure_of(keep)
        exposure = with_floor(exposure)
        mu = exposure * y[keep].sum() / exposure[keep].sum()
        dispersion = robust_dispersion(y[keep], mu[keep])
        p = upper_tail(y, mu, dispersion)
        q = benjamini_hochberg(p)
        hotspot = (q <= fdr) & (y > mu)
        # Stop when the flagged set is the one the fit left out; a flagged set that would
        # leave fewer than three areas to fit on is not followed.
        if rounds >= _MAX_ROUNDS or np.array_equal(hotspot, ~keep) or (~hotspot).sum() < 3:
            break
        keep = ~hotspot
    return AreaTest(
        expected=mu,
        p=p,
        q=q,
        hotspot=hotspot,
        dispersion=dispersion,
        shares=shares,
        rounds=rounds,
    )
