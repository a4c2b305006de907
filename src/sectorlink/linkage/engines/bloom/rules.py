"""Contradictions and the household signature on keyed values: what the hub can test.

Two different NHS numbers; the same birth date with clearly different given names and no
shared identifier (twins); clearly different given names and no shared identifier at all
(a cluster may hold such a pair only when strong links bridge it,
:data:`sectorlink.linkage.contradictions.BRIDGEABLE`). And the household signature, given
names at level "different" with family name and postcode agreeing exactly, whose weight
cancels what the shared family name and postcode add (as the plain engine's household
level, :mod:`sectorlink.linkage.household`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sectorlink.linkage.engines.bloom.records import CONTRADICTION_FILTERS
from sectorlink.linkage.engines.bloom.scoring import FellegiSunter

# Given names this dissimilar (Dice of their filters) are "clearly different" for the
# twins rule: names sharing a first letter or a nickname stay above it.
TWINS_GIVEN_DICE = 0.3
SAME_LOCAL_ID_DICE = 0.75
# A shared identifier means one person, whatever the names say.
IDENTIFIER_TOKENS = ("nhs_number", "ni_number", "ssn", "local_person_id")


def _dice_sql(column: str) -> str:
    a, b = f"{column}_l::BIT", f"{column}_r::BIT"
    return f"(2.0 * bit_count({a} & {b}) / nullif(bit_count({a}) + bit_count({b}), 0))"


def _top_weight(model: FellegiSunter, name: str) -> float | None:
    for k, c in enumerate(model.comparisons):
        if c.name == name:
            return float(np.log2(model.m[k][-1] / model.u[k][-1]))
    return None


def household_weight(model: FellegiSunter) -> float | None:
    """The weight of the household signature (given names at level 'different', family
    name and postcode agreeing exactly): it cancels what the shared family name and
    postcode add, as the plain engine's household level does
    (:mod:`sectorlink.linkage.household`). None without those comparisons."""
    family, postcode = _top_weight(model, "family_name"), _top_weight(model, "postcode")
    if family is None or postcode is None or not model.iterations:
        return None
    if "given_name" not in {c.name for c in model.comparisons}:
        return None
    return -(max(0.0, family) + max(0.0, postcode))


def household_signature(model: FellegiSunter, gamma: np.ndarray) -> np.ndarray:
    """Per pair: given names at level 'different', family name and postcode the same."""
    index = {c.name: k for k, c in enumerate(model.comparisons)}
    given, family, postcode = (index[n] for n in ("given_name", "family_name", "postcode"))
    top_family = model.comparisons[family].levels - 1
    top_postcode = model.comparisons[postcode].levels - 1
    signature = (
        (gamma[:, given] == 0)
        & (gamma[:, family] == top_family)
        & (gamma[:, postcode] == top_postcode)
    )
    return np.asarray(signature)


def contradiction_rules(
    tokens: set[str], filters: set[str], *, given_name: bool = True
) -> tuple[str, Any]:
    """Contradictions on keyed tokens and filters: two different NHS numbers; the same
    birth date with clearly different given names and no shared identifier (twins);
    with ``given_name``, clearly different given names and no shared identifier."""
    columns = [
        f"tok_{t}"
        for t in (
            *IDENTIFIER_TOKENS,
            "birth_date",
            "given_canonical",
            "given_soundex",
            "given_name",
            "given_initial",
            "family_name",
            "middle_first",
        )
        if t in tokens
    ]
    columns += [c for c in CONTRADICTION_FILTERS if c[3:] in filters]
    cases: list[str] = []
    if "nhs_number" in tokens:
        cases.append("WHEN tok_nhs_number_l <> tok_nhs_number_r THEN 'nhs_number'")
    names = {"given_canonical", "given_soundex"} <= tokens and "given_name" in filters
    same_nhs = explained = "false"
    if names:
        same = [f"coalesce(tok_{t}_l = tok_{t}_r, false)" for t in IDENTIFIER_TOKENS if t in tokens]
        if "local_person_id" in filters:
            # a source's own identifier with a keystroke or two wrong still says one person
            same.append(
                f"coalesce({_dice_sql('bf_local_person_id')} >= {SAME_LOCAL_ID_DICE}, false)"
            )
        same_nhs = "(" + " OR ".join(same) + ")" if same else "false"
        # a given name found in the other record's middle or family name explains the
        # difference (a middle name used as the first, or swapped names): not twins
        crossed = [
            f"coalesce(tok_{g}_l = tok_{o}_r OR tok_{o}_l = tok_{g}_r, false)"
            for g in ("given_canonical", "given_name")
            for o in ("middle_first", "family_name")
            if g in tokens and o in tokens
        ]
        if "given_initial" in tokens:
            # names sharing their first letter are never "clearly different" (an initial,
            # an abbreviation, a typo after the first letter)
            crossed.append("coalesce(tok_given_initial_l = tok_given_initial_r, false)")
        explained = " OR ".join(crossed) or "false"
    if names and "birth_date" in tokens:
        cases.append(
            f"""WHEN tok_birth_date_l = tok_birth_date_r
                AND tok_given_canonical_l <> tok_given_canonical_r
                AND tok_given_soundex_l <> tok_given_soundex_r
                AND {_dice_sql("bf_given_name")} < {TWINS_GIVEN_DICE}
                AND NOT ({explained})
                AND NOT {same_nhs} THEN 'twins'"""
        )
    if names and given_name:
        # the same test without the birth date: clearly different first names and no
        # shared identifier keep two records out of one cluster unless strong links
        # bridge them (see `linkage.clustering.BRIDGE_WEIGHT`)
        cases.append(
            f"""WHEN tok_given_canonical_l <> tok_given_canonical_r
                AND tok_given_soundex_l <> tok_given_soundex_r
                AND {_dice_sql("bf_given_name")} < {TWINS_GIVEN_DICE}
                AND NOT ({explained})
                AND NOT {same_nhs} THEN 'given_name'"""
        )
    rule = "CASE " + " ".join(cases) + " END" if cases else "CAST(NULL AS VARCHAR)"

    def projection(left: str, right: str) -> str:
        if not columns:
            return f"{left}.unique_id AS unique_id_l, {right}.unique_id AS unique_id_r"
        return ", ".join(f"{left}.{c} AS {c}_l, {right}.{c} AS {c}_r" for c in columns)

    return rule, projection
