"""Contradictions that the data may overrule: twins and a wide birth-year gap.

Different valid national identifiers always contradict (a check digit or a validated
format stands behind them). The other two rules read names and dates, and whether they
contradict depends on how a data set's errors are made: in the hub's extracts a true
match almost never has the same birth date with clearly different first names, or birth
years 15+ apart, so those patterns mean two people; in data whose errors replace a whole
name or date (FEBRL's generator) a few percent of true matches show them.

So their m is learned, but never from the pairs the contradiction would split. Scored with
both levels neutral (m = u), a parent and child sharing a name and an address look like
one person, so the share of *likely matches* showing a 20-year gap says how many
households there are, not how often a person's records disagree by 20 years. The share is
measured instead on pairs that are matches for a reason the pattern cannot fake:

1. **anchored pairs**: records sharing a valid national number or the source's own
   person identifier (one person, whatever the names and dates say); the pattern is
   tested without its shared-number exemption. Used when there are at least
   :data:`MIN_ANCHORED` of them.
2. otherwise the **likely matches that share no place** (neither postcode nor address):
   a household cannot explain them. The share is the sum of their match probabilities
   showing the pattern over the sum of all of theirs.

A share below :data:`NOISE_RATE` keeps the strong contradiction (weight
:data:`~sectorlink.linkage.comparisons.CONTRADICTION_WEIGHT`, and clusters are split on
it); a larger share trains the level, its weight bounded below by the strong weight and
above by 0 (for twins: by the weight of an exact birth date, see :data:`CAP_LEVEL`),
and clusters are not split on it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import duckdb

from sectorlink.linkage.comparisons import (
    CONTRADICTION_WEIGHT,
    NATIONAL_IDS,
    birth_gap_sql,
    household_sql,
    twins_sql,
)
from sectorlink.linkage.contradictions import (
    DUCKDB,
    OPTIONAL_COLUMNS,
    full_projection,
    pair_projection,
)
from sectorlink.linkage.model import ModelPlan

# Contradiction kinds whose weight may be learned, and the given-name comparison's
# household level (`household`): rare among anchored matches, it keeps the weight that
# cancels the shared family name and address; common (data whose errors replace whole
# first names, as FEBRL's), it weighs as any other first-name disagreement and clusters
# are not split on clearly different first names either.
LEARNABLE = ("twins", "birth_gap", "household")
# A learned weight is at most 0 (a 15-year gap is never evidence for a link), except
# for twins: there the names' disagreement is counted by the name comparisons already,
# and the level is a birth date that agrees, so it may count up to what the "exact
# date" level of its comparison counts.
CAP_LEVEL = {"twins": "exact date"}
# Share of matching pairs showing a pattern at or above which it is noise, not a
# contradiction. Measured: twins, synthetic region well under 0.1%, FEBRL4 about 5%;
# birth gap, FEBRL4 about 6%. (Estimated from all likely matches, the region's birth gap
# came out at 4%: its parents and children; see the module docstring.)
NOISE_RATE = 0.01
# Anchored pairs needed to estimate from them (below, the no-shared-place estimate).
MIN_ANCHORED = 100

# (comparison index, level index) in the Splink settings, per learnable kind.
Positions = dict[str, tuple[int, int]]


@dataclass
class LearnedContradiction:
    kind: str
    # estimated share of matching pairs that show the pattern
    rate: float
    u: float
    weight: float
    strict: bool
    # what the share was measured on: "anchored pairs" or "likely matches sharing no place"
    basis: str = "anchored pairs"
    basis_pairs: float = 0.0

    def message(self) -> str:
        share = f"{self.rate:.2%} of matching pairs ({self.basis}: {self.basis_pairs:,.0f})"
        if self.kind == "household":
            if self.strict:
                return (
                    f"household: {share} show it; weight {self.weight:.2f} applied (the "
                    "shared family name and address count for nothing)"
                )
            return (
                f"household: {share} show it (at least {NOISE_RATE:.0%}): weighed as any "
                f"other first-name disagreement ({self.weight:.2f}); clusters are not "
                "split on clearly different first names"
            )
        if self.strict:
            return f"{self.kind}: {share} show it; applied as a strong contradiction"
        return (
            f"{self.kind}: {share} show it (at least {NOISE_RATE:.0%}): trained, "
            f"weight {self.weight:.2f}, not a reason to split clusters"
        )


def learnable_positions(plan: ModelPlan) -> Positions:
    """Where the strict, learnable contradiction levels sit in the plan's comparisons."""
    out: Positions = {}
    for ci, comparison in enumerate(plan.comparisons):
        for li, level in enumerate(comparison.levels):
            contradiction = level.contradiction_u is not None and level.strict
            if level.kind in LEARNABLE and (contradiction or level.household):
                out[level.kind] = (ci, li)
    return out


def _level(model: dict[str, Any], position: tuple[int, int]) -> dict[str, Any]:
    ci, li = position
    level: dict[str, Any] = model["comparisons"][ci]["comparison_levels"][li]
    return level


def _cap(model: dict[str, Any], position: tuple[int, int], kind: str) -> float:
    """The most a learned level of ``kind`` may weigh (see :data:`CAP_LEVEL`)."""
    label = CAP_LEVEL.get(kind)
    levels = model["comparisons"][position[0]]["comparison_levels"]
    for level in levels:
        m, u = level.get("m_probability"), level.get("u_probability")
        if label is not None and level.get("label_for_charts") == label and m and u:
            return max(0.0, math.log2(float(m) / float(u)))
    return 0.0


def neutral_model(model: dict[str, Any], positions: Positions) -> dict[str, Any]:
    """A copy of the trained model with the learnable levels at weight 0 (m = u)."""
    out = copy.deepcopy(model)
    for position in positions.values():
        level = _level(out, position)
        level["m_probability"] = level["u_probability"]
    return out


def pattern_sql(kind: str, fields: Collection[str], *, exempt_shared_id: bool = True) -> str:
    """SQL over ``col_l``/``col_r``: the pair falls in the ``kind`` level
    (``exempt_shared_id=False``: the pattern whether or not a national number agrees)."""
    if kind == "twins":
        return twins_sql(DUCKDB, fields, exempt_shared_id=exempt_shared_id)
    if kind == "birth_gap":
        return birth_gap_sql(DUCKDB, fields, exempt_shared_id=exempt_shared_id)
    if kind == "household":
        return household_sql(DUCKDB, fields) or "false"
    raise ValueError(f"no learnable contradiction {kind!r}; choose from {', '.join(LEARNABLE)}")


def anchor_sql(fields: Collection[str]) -> str:
    """SQL: the pair shares a valid national number or the source's person identifier."""
    ids = [c for c in (*NATIONAL_IDS, "local_person_id") if c in fields]
    return " OR ".join(f"coalesce({c}_l = {c}_r, false)" for c in ids) or "false"


def same_place_sql(fields: Collection[str]) -> str:
    """SQL: the pair shares a postcode or an address (a household could explain it)."""
    places = [c for c in ("postcode", "address") if c in fields]
    return " OR ".join(f"coalesce({c}_l = {c}_r, false)" for c in places) or "false"


def learn_contradictions(
    con: duckdb.DuckDBPyConnection,
    *,
    std: str,
    pairs: str,
    fields: Collection[str],
    model: dict[str, Any],
    positions: Positions,
    floor: float,
) -> tuple[dict[str, Any], list[LearnedContradiction]]:
    """Estimate each learnable contradiction on ``pairs`` (scored by
    :func:`neutral_model`), add its weight to the pairs' match weights in place (pairs
    falling under ``floor`` probability are dropped) and return the model with the
    learned levels (what was applied) and what was learned."""
    if not positions:
        return model, []
    kinds = list(positions)
    columns = {r[0] for r in con.execute(f"DESCRIBE {std}").fetchall()}
    full = set(OPTIONAL_COLUMNS) <= columns
    projection = full_projection if full else pair_projection
    id_fields = set(fields) if full else set(fields) - set(OPTIONAL_COLUMNS)
    flags = ", ".join(
        f"coalesce({pattern_sql(k, fields)}, false) AS is_{k}, "
        f"coalesce({pattern_sql(k, fields, exempt_shared_id=False)}, false) AS raw_{k}"
        for k in kinds
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_pair_patterns AS
            SELECT unique_id_l, unique_id_r, match_probability, {flags},
                   {anchor_sql(id_fields)} AS anchored, {same_place_sql(fields)} AS same_place
            FROM (
                SELECT p.unique_id_l, p.unique_id_r, p.match_probability,
                       {projection("a", "b")}
                FROM {pairs} p
                JOIN {std} a ON a.unique_id = p.unique_id_l
                JOIN {std} b ON b.unique_id = p.unique_id_r
            )"""
    )
    anchored = ", ".join(f"count(*) FILTER (WHERE anchored AND raw_{k})" for k in kinds)
    apart = ", ".join(
        f"sum(match_probability) FILTER (WHERE NOT same_place AND NOT anchored AND is_{k})"
        for k in kinds
    )
    row = con.execute(
        f"""SELECT count(*) FILTER (WHERE anchored),
                   sum(match_probability) FILTER (WHERE NOT same_place AND NOT anchored),
                   {anchored}, {apart}
            FROM sl_pair_patterns"""
    ).fetchall()[0]
    n_anchored, mass_apart = int(row[0] or 0), float(row[1] or 0.0)
    use_anchors = n_anchored >= MIN_ANCHORED
    total = float(n_anchored) if use_anchors else mass_apart
    shares = row[2 : 2 + len(kinds)] if use_anchors else row[2 + len(kinds) :]
    basis = "anchored pairs" if use_anchors else "likely matches sharing no place"
    learned_model = copy.deepcopy(model)
    learned: list[LearnedContradiction] = []
    for kind, share in zip(kinds, shares, strict=True):
        rate = float(share or 0.0) / total if total > 0 else 0.0
        level = _level(learned_model, positions[kind])
        u = float(level["u_probability"])
        strict = rate < NOISE_RATE
        if kind == "household":
            # the weight set after training, or that of any other first-name disagreement
            levels = learned_model["comparisons"][positions[kind][0]]["comparison_levels"]
            other = levels[-1]
            weight = math.log2(
                float(level["m_probability"] if strict else other["m_probability"])
                / float(level["u_probability"] if strict else other["u_probability"])
            )
            level["u_probability"] = u = float(level["u_probability"])
        else:
            cap = _cap(learned_model, positions[kind], kind)
            weight = (
                CONTRADICTION_WEIGHT
                if strict
                else min(cap, max(CONTRADICTION_WEIGHT, math.log2(rate / u)))
            )
        level["m_probability"] = u * 2.0**weight
        learned.append(LearnedContradiction(kind, rate, u, weight, strict, basis, total))
        if weight != 0.0:
            con.execute(
                f"""UPDATE {pairs} SET match_weight = {pairs}.match_weight + {weight!r},
                        match_probability = 1.0 / (1.0 + pow(2.0, -({pairs}.match_weight
                                                                   + {weight!r})))
                    FROM sl_pair_patterns f
                    WHERE f.is_{kind} AND f.unique_id_l = {pairs}.unique_id_l
                      AND f.unique_id_r = {pairs}.unique_id_r"""
            )
    con.execute(f"DELETE FROM {pairs} WHERE match_probability < {floor!r}")
    con.execute("DROP TABLE IF EXISTS sl_pair_patterns")
    return learned_model, learned
