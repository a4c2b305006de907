"""Fellegi-Sunter scoring of encoded pairs: u by random sampling, m and the prior by EM.

The same recipe as the plain engine's Splink model, on comparison levels computed from
Dice similarities and keyed-token agreements: u (how often two different people agree at
each level) from random record pairs, m (how often one person's records do) by EM on the
blocked candidate pairs, and the prior from EM's expected number of matches. EM runs on
the distinct comparison patterns with their counts, so it costs the same for a thousand
pairs or fifty million.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sectorlink.linkage.engines.bloom.comparisons import NULL_LEVEL, Comparison

PROBABILITY_FLOOR = 1e-6
EM_MAX_ITERATIONS = 100
EM_TOLERANCE = 1e-5
# Too few candidate pairs for EM to learn from: keep the starting m and say so.
MIN_PAIRS_FOR_EM = 200
# Comparisons without an ordering among matches: each partner numbers its own clients,
# so one person's records across partners rarely share the source's identifier.
UNORDERED = frozenset({"local_person_id"})
# Keyed tokens whose agreement anchors a pair as one person (another start for EM).
ANCHOR_TOKENS = ("nhs_number", "ni_number", "ssn")


@dataclass
class FellegiSunter:
    comparisons: list[Comparison]
    m: list[np.ndarray]
    u: list[np.ndarray]
    # Probability that a random pair of records is the same person.
    prior: float
    iterations: int = 0
    messages: list[str] = field(default_factory=list)
    # comparisons that failed the checks and were held at their starting m
    fixed: list[str] = field(default_factory=list)

    def match_weight(self, gamma: np.ndarray) -> np.ndarray:
        """log2 Bayes factor of every pair plus the prior's log odds."""
        weight = np.full(gamma.shape[0], math.log2(self.prior / (1 - self.prior)))
        for k in range(len(self.comparisons)):
            bf = np.log2(self.m[k] / self.u[k])
            g = gamma[:, k]
            known = g != NULL_LEVEL
            weight[known] += bf[g[known]]
        return weight

    def as_json(self) -> dict[str, Any]:
        """The trained model, in the shape of Splink's comparison levels."""
        return {
            "engine": "bloom",
            "probability_two_random_records_match": self.prior,
            "em_iterations": self.iterations,
            "comparisons": [
                {
                    "output_column_name": c.name,
                    "comparison_levels": [
                        {
                            "label_for_charts": label,
                            "m_probability": float(self.m[k][level]),
                            "u_probability": float(self.u[k][level]),
                            "bayes_factor": float(self.m[k][level] / self.u[k][level]),
                        }
                        for level, label in enumerate(c.labels)
                    ],
                }
                for k, c in enumerate(self.comparisons)
            ],
        }


def level_frequencies(gamma: np.ndarray, comparisons: list[Comparison]) -> list[np.ndarray]:
    """Per comparison, the share of pairs at each level among pairs where it is known."""
    out: list[np.ndarray] = []
    for k, c in enumerate(comparisons):
        g = gamma[:, k]
        counts = np.bincount(g[g != NULL_LEVEL], minlength=c.levels).astype(np.float64)
        # a half count per level keeps an unseen level possible, not impossible
        out.append((counts + 0.5) / (counts.sum() + 0.5 * c.levels))
    return out


def starting_m(comparisons: list[Comparison]) -> list[np.ndarray]:
    """Before EM: one person's records mostly agree at the top level."""
    m: list[np.ndarray] = []
    for c in comparisons:
        p = np.array([2.0**level for level in range(c.levels)])
        m.append(p / p.sum())
    return m


def _patterns(gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of ``gamma`` with their counts. Each row is packed into one integer
    first (levels are small), since sorting rows of a wide array is far slower."""
    base = int(gamma.max(initial=0)) + 2
    if base ** gamma.shape[1] >= 2**62:
        patterns, inverse, counts = np.unique(
            gamma, axis=0, return_inverse=True, return_counts=True
        )
        return patterns, inverse.reshape(-1), counts.astype(np.float64)
    weights = base ** np.arange(gamma.shape[1], dtype=np.int64)
    keys = (gamma.astype(np.int64) + 1) @ weights
    _, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    return gamma[first], inverse.reshape(-1), counts.astype(np.float64)


def _log_likelihood(patterns: np.ndarray, probs: list[np.ndarray]) -> np.ndarray:
    total = np.zeros(patterns.shape[0])
    for k, p in enumerate(probs):
        g = patterns[:, k]
        known = g != NULL_LEVEL
        total[known] += np.log(p[g[known]])
    return total


def _level_shares(
    patterns: np.ndarray, weights: np.ndarray, comparisons: list[Comparison]
) -> list[np.ndarray]:
    shares: list[np.ndarray] = []
    for k, c in enumerate(comparisons):
        g = patterns[:, k]
        known = g != NULL_LEVEL
        sums = np.bincount(g[known], weights=weights[known], minlength=c.levels)
        sums = np.maximum(sums, PROBABILITY_FLOOR * max(sums.sum(), 1.0))
        shares.append(sums / sums.sum())
    return shares


def _em(
    patterns: np.ndarray,
    counts: np.ndarray,
    comparisons: list[Comparison],
    m: list[np.ndarray],
    u_start: list[np.ndarray],
    learn: set[int],
) -> tuple[list[np.ndarray], int]:
    """EM as a two-class mixture over pairs given as distinct ``patterns`` with their
    ``counts``: m moves only for the comparisons in ``learn`` (the others keep the m
    given), u and the share of matches move freely. Returns the new m and the number of
    iterations."""
    used = counts > 0
    patterns, counts = patterns[used], counts[used]
    u = [p.copy() for p in u_start]
    m = [p.copy() for p in m]
    share = 0.5
    iterations = 0
    for iterations in range(1, EM_MAX_ITERATIONS + 1):  # noqa: B007 - returned after the loop
        log_m = _log_likelihood(patterns, m) + math.log(share)
        log_u = _log_likelihood(patterns, u) + math.log(1 - share)
        posterior = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))
        matched = counts * posterior
        new_share = float(matched.sum() / counts.sum())
        shares = _level_shares(patterns, matched, comparisons)
        new_m = [shares[k] if k in learn else m[k] for k in range(len(comparisons))]
        u = _level_shares(patterns, counts - matched, comparisons)
        change = max(
            abs(new_share - share),
            *(float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True)),
        )
        m, share = new_m, min(max(new_share, 1e-9), 1 - 1e-9)
        if change < EM_TOLERANCE:
            break
    return m, iterations


def _prior(
    patterns: np.ndarray,
    counts: np.ndarray,
    m: list[np.ndarray],
    u: list[np.ndarray],
    total_pairs: float,
) -> float:
    """The probability that two random records match: the fixed point of
    prior = (expected matches among the candidate pairs under that prior) / all pairs,
    which assumes blocking misses few matching pairs."""
    log_bf = _log_likelihood(patterns, m) - _log_likelihood(patterns, u)
    prior = min(0.1, float(counts.sum()) / max(total_pairs, 1.0) / 2)
    for _ in range(200):
        odds = math.log(prior / (1 - prior))
        posterior = 1.0 / (1.0 + np.exp(np.clip(-(log_bf + odds), -700, 700)))
        expected = float((counts * posterior).sum())
        new = min(max(expected / max(total_pairs, 1.0), 1e-12), 0.5)
        if abs(new - prior) <= 1e-6 * prior:
            return new
        prior = new
    return prior


def check(comparisons: list[Comparison], m: list[np.ndarray]) -> list[int]:
    """Comparisons (indices) whose m for agreement (the top level) is below m for
    disagreement (level 0): EM split something other than matches from non-matches."""
    return [
        k
        for k, c in enumerate(comparisons)
        if c.name not in UNORDERED and c.levels >= 2 and m[k][-1] < m[k][0]
    ]


def anchored_m(
    gamma: np.ndarray, comparisons: list[Comparison], anchored: np.ndarray
) -> list[np.ndarray]:
    """Starting m from the pairs that share a national number (one person each)."""
    return level_frequencies(gamma[anchored], comparisons)


def train(
    candidate_gamma: np.ndarray,
    random_gamma: np.ndarray,
    comparisons: list[Comparison],
    *,
    total_pairs: float,
    same_birth_date: np.ndarray | None = None,
    anchored: np.ndarray | None = None,
) -> FellegiSunter:
    """Train, check the model (:func:`check`) and, when it fails, train again from
    another start (m measured on ``anchored`` pairs, those sharing a national number),
    and failing that with the failing comparisons held at their starting m."""
    model = _train(
        candidate_gamma,
        random_gamma,
        comparisons,
        total_pairs=total_pairs,
        same_birth_date=same_birth_date,
    )
    failing = check(comparisons, model.m) if model.iterations else []
    if not failing:
        return model
    names = ", ".join(comparisons[k].name for k in failing)
    messages = [
        f"model check: m for agreement below m for disagreement in {names} "
        "(EM split households, not matches)"
    ]
    if anchored is not None and anchored.sum() >= MIN_PAIRS_FOR_EM:
        model = _train(
            candidate_gamma,
            random_gamma,
            comparisons,
            total_pairs=total_pairs,
            same_birth_date=same_birth_date,
            start=anchored_m(candidate_gamma, comparisons, anchored),
        )
        failing = check(comparisons, model.m)
        messages.append(
            f"retrained from another start (m of the {int(anchored.sum()):,} pairs sharing "
            "a national number): " + ("passed" if not failing else "still failing")
        )
    if failing:
        model = _train(
            candidate_gamma,
            random_gamma,
            comparisons,
            total_pairs=total_pairs,
            same_birth_date=same_birth_date,
            hold=set(failing),
        )
        messages.append(
            "retrained with "
            + ", ".join(comparisons[k].name for k in failing)
            + " held at their starting m (agreement most likely among matches)"
        )
    model.messages = messages + model.messages
    model.fixed = [comparisons[k].name for k in failing]
    return model


def _train(
    candidate_gamma: np.ndarray,
    random_gamma: np.ndarray,
    comparisons: list[Comparison],
    *,
    total_pairs: float,
    same_birth_date: np.ndarray | None = None,
    start: list[np.ndarray] | None = None,
    hold: set[int] | None = None,
) -> FellegiSunter:
    """Train on the candidate pairs' levels, with u from random pairs' levels.

    EM runs as a two-class mixture over candidate pairs (m and u both move, so the
    agreement blocking forces on non-matches does not pass for evidence), in two sessions
    as with Splink's training rules: pairs sharing a birth date teach m of every other
    comparison (other members of a household rarely share one, so they do not pass for
    matches); then all candidate pairs teach m of the birth comparisons, with the other
    m held. The model keeps EM's m and the random sample's u; the prior is what makes
    the expected matches among the candidate pairs consistent with all record pairs.
    """
    u_random = level_frequencies(random_gamma, comparisons)
    m = start if start is not None else starting_m(comparisons)
    held = hold or set()
    messages: list[str] = []
    if candidate_gamma.shape[0] < MIN_PAIRS_FOR_EM:
        messages.append(
            f"only {candidate_gamma.shape[0]:,} candidate pairs: EM skipped, starting m kept"
        )
        prior = min(0.1, max(candidate_gamma.shape[0], 1) / max(total_pairs, 1.0) / 2)
        return FellegiSunter(comparisons, m, u_random, prior, 0, messages)
    birth = {k for k, c in enumerate(comparisons) if c.name in ("birth_date", "birth_year")}
    others = set(range(len(comparisons))) - birth
    sessions: list[tuple[np.ndarray, set[int]]] = []
    if same_birth_date is not None and birth:
        first = same_birth_date == 1
        if first.sum() >= MIN_PAIRS_FOR_EM:
            sessions = [(first, others), (np.ones_like(first), birth)]
    if not sessions:
        sessions = [(np.ones(candidate_gamma.shape[0], dtype=bool), others | birth)]
    # the distinct patterns once, for every session (the pairs are the bulk of memory)
    patterns, inverse, counts = _patterns(candidate_gamma)
    iterations = 0
    for mask, learn in sessions:
        session_counts = np.bincount(inverse[mask], minlength=counts.size).astype(np.float64)
        m, n = _em(patterns, session_counts, comparisons, m, u_random, learn - held)
        iterations += n
    prior = _prior(patterns, counts, m, u_random, total_pairs)
    return FellegiSunter(comparisons, m, u_random, prior, iterations, messages)
