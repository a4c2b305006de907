"""Contradictions and the household signature on keyed values: what the hub can test.

Two different NHS numbers; the same birth date with clearly different given names and no
shared identifier (twins); birth years in different decades with no year in common, unless
the dates share two parts (a keying error) or an identifier (the birth gap: a parent and a
child; learned, see :func:`birth_gap`); clearly different given names and no shared
identifier at all (a cluster may hold such a pair only when strong links bridge it,
:data:`sectorlink.linkage.contradictions.BRIDGEABLE`). And the household signature, given
names clearly different (level "different", another first letter and Soundex) with family
name and postcode agreeing exactly, whose weight cancels what the shared family name and
postcode add (as the plain engine's household level, :mod:`sectorlink.linkage.household`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sectorlink.linkage.engines.bloom.comparisons import BIRTH_DATE_DICE, DIFFERENT_DECADE_DICE
from sectorlink.linkage.engines.bloom.records import BATCH, CONTRADICTION_FILTERS, EncodedRecords
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


def household_signature(
    model: FellegiSunter,
    gamma: np.ndarray,
    records: EncodedRecords,
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """Per pair: given names clearly different, family name and postcode the same.

    Clearly different is the plain engine's test: the given-name level is "different"
    (low Dice, no canonical, middle-name or swap agreement) and the first letters and
    Soundex codes differ too. Level "different" alone holds one person's nicknames and
    short forms (Kaz for Karen, Em for Emma) and typos in short names (Mray), which share
    a first letter: a third of a region's pairs sharing an NHS number showed them."""
    index = {c.name: k for k, c in enumerate(model.comparisons)}
    given, family, postcode = (index[n] for n in ("given_name", "family_name", "postcode"))
    top_family = model.comparisons[family].levels - 1
    top_postcode = model.comparisons[postcode].levels - 1
    signature = (
        (gamma[:, given] == 0)
        & (gamma[:, family] == top_family)
        & (gamma[:, postcode] == top_postcode)
    )
    for token in ("given_initial", "given_soundex"):
        if token in records.tokens:
            signature &= records.same(token, left, right) != 1
    return np.asarray(signature)


def shared_identifier(records: EncodedRecords, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per pair: a national number or the source's own person identifier agrees."""
    shared = np.zeros(left.size, dtype=bool)
    for token in IDENTIFIER_TOKENS:
        if token in records.tokens:
            shared |= records.same(token, left, right) == 1
    return shared


def birth_gap(records: EncodedRecords, left: np.ndarray, right: np.ndarray) -> np.ndarray | None:
    """Per pair: the birth-gap pattern (without its shared-identifier exemption), or None
    when the encodings hold no birth-year filter.

    The two birth-year filters share no token (different decades, no possible year in
    common: a parent and a child, at least ten years apart and mostly 15 or more, the
    plain engine's test), unless the two dates share two or more parts (day and month
    with a mistyped year, say: one keying error). A year, a date and an age are all
    encoded in the birth-year filter, so this reads a year-only or age-only record
    against any other. The hub cannot measure a gap in years on keyed values; a decade
    boundary is what the filter can tell."""
    if "birth_year" not in records.filters:
        return None
    out = np.zeros(left.size, dtype=bool)
    for start in range(0, left.size, BATCH):
        lb, rb = left[start : start + BATCH], right[start : start + BATCH]
        gap = records.dice("birth_year", lb, rb) < DIFFERENT_DECADE_DICE
        if "birth_date" in records.filters:
            gap &= ~(records.dice("birth_date", lb, rb) >= BIRTH_DATE_DICE[0])
        for token in ("birth_date", "birth_date_swapped"):
            if records.has(token) and "birth_date" in records.tokens:
                gap &= records.same(token, lb, rb) != 1
        out[start : start + BATCH] = gap
    return out


def contradiction_rules(
    tokens: set[str], filters: set[str], *, given_name: bool = True, gap: bool = False
) -> tuple[str, Any]:
    """Contradictions on keyed tokens and filters: two different NHS numbers; the same
    birth date with clearly different given names and no shared identifier (twins);
    with ``gap``, the birth gap (:func:`birth_gap`) and no shared identifier; with
    ``given_name``, clearly different given names and no shared identifier."""
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
    explained = "false"
    same = [f"coalesce(tok_{t}_l = tok_{t}_r, false)" for t in IDENTIFIER_TOKENS if t in tokens]
    if "local_person_id" in filters:
        # a source's own identifier with a keystroke or two wrong still says one person
        same.append(f"coalesce({_dice_sql('bf_local_person_id')} >= {SAME_LOCAL_ID_DICE}, false)")
    same_nhs = "(" + " OR ".join(same) + ")" if same else "false"
    if names:
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
    if gap and "birth_year" in filters:
        two_parts = (
            f"coalesce({_dice_sql('bf_birth_date')} >= {BIRTH_DATE_DICE[0]}, false)"
            if "birth_date" in filters
            else "false"
        )
        cases.append(
            f"""WHEN {_dice_sql("bf_birth_year")} < {DIFFERENT_DECADE_DICE}
                AND NOT {two_parts} AND NOT {same_nhs} THEN 'birth_gap'"""
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
