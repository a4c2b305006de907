"""What the hub compares between two encoded records, and the levels it scores.

Each comparison turns a pair's Dice similarities (per Bloom-filter field) and keyed-token
agreements into one level, like a Splink comparison: -1 when either record lacks the
value (the comparison is then left out of the pair's weight), 0 for clear disagreement,
and higher levels for closer agreement. The levels are learnt by EM, so no level carries
a hand-set weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

NULL_LEVEL = -1

# Dice cut-offs of the birth filters sit above the noise of bits set by chance. A filter
# holds a few whole tokens (a date: day, month, year, day-month, month-year, the date; a
# year: each possible year and its decade), so two filters sharing no token still share
# bits that collide: with the default schema a date pair sharing nothing has Dice 0.13-0.29
# (1st-99th percentile of random pairs), one part 0.26-0.40, two or three parts 0.41-0.63;
# year filters sharing nothing 0-0.26, only the decade 0.35-0.62, a year 0.68 and up.
# (Cut-offs at 0.15 and 0.01 put nearly every pair of different dates or decades in a
# level meant for partial agreement, and the birth-gap contradiction could not be seen.)
BIRTH_DATE_DICE = (0.42, 0.27)
BIRTH_YEAR_DICE = (0.65, 0.3)
# Below this the two birth-year filters share no token: different decades, no year in
# common (the birth-gap contradiction's test, :mod:`.rules`).
DIFFERENT_DECADE_DICE = BIRTH_YEAR_DICE[-1]


@dataclass(frozen=True)
class Comparison:
    """One comparison: reads some Dice columns and token agreements, gives levels."""

    name: str
    # Bloom fields (without bf_) whose Dice it reads, and tokens (without tok_) whose
    # equality it reads; a comparison is used when all its inputs are in the data.
    filters: tuple[str, ...]
    tokens: tuple[str, ...]
    # Dice cut-offs for levels above 0, highest first; exact-token levels sit above them.
    dice_levels: tuple[float, ...]
    labels: tuple[str, ...]
    # Keyed token whose value frequency adjusts the top (exact) level: agreeing on a
    # common surname says less than agreeing on a rare one (term frequency, as in Splink).
    tf_token: str | None = None

    @property
    def levels(self) -> int:
        return len(self.labels)


# Level labels are listed from 0 (disagree) upward.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "given_name",
        ("given_name",),
        ("given_cross", "given_canonical"),
        (0.85, 0.7, 0.5),
        (
            "different",
            "Dice >= 0.5",
            "Dice >= 0.7",
            "Dice >= 0.85",
            "the other's middle or family name",
            "same canonical name",
        ),
        "given_canonical",
    ),
    Comparison(
        "family_name",
        ("family_name",),
        ("name_swap", "family_name"),
        (0.85, 0.7, 0.5),
        (
            "different",
            "Dice >= 0.5",
            "Dice >= 0.7",
            "Dice >= 0.85",
            "given and family names swapped",
            "same name",
        ),
        "family_name",
    ),
    Comparison(
        "middle_names",
        ("middle_names",),
        (),
        (0.85, 0.6),
        ("different", "Dice >= 0.6", "Dice >= 0.85"),
    ),
    Comparison(
        "birth_date",
        ("birth_date",),
        ("birth_date", "birth_date_swapped"),
        BIRTH_DATE_DICE,
        ("different", "one part shared", "two parts shared", "day and month swapped", "same"),
    ),
    Comparison(
        "birth_year",
        ("birth_year",),
        ("birth_date",),
        BIRTH_YEAR_DICE,
        ("different decade", "same decade", "years overlap"),
    ),
    Comparison(
        "postcode",
        ("postcode",),
        ("postcode_sector", "postcode"),
        (0.6,),
        ("different", "Dice >= 0.6", "same sector", "same postcode"),
        "postcode",
    ),
    Comparison(
        "address",
        ("address",),
        (),
        (0.9, 0.7, 0.5),
        ("different", "Dice >= 0.5", "Dice >= 0.7", "Dice >= 0.9"),
    ),
    Comparison("phone", ("phone",), (), (0.9, 0.7), ("different", "Dice >= 0.7", "Dice >= 0.9")),
    Comparison("email", ("email",), (), (0.9, 0.7), ("different", "Dice >= 0.7", "Dice >= 0.9")),
    Comparison(
        "local_person_id",
        ("local_person_id",),
        ("local_person_id",),
        (0.75,),
        ("different", "one or two keystrokes apart", "same"),
    ),
    Comparison("sex", (), ("sex",), (), ("different", "same")),
    Comparison("nhs_number", (), ("nhs_number",), (), ("different", "same")),
    Comparison("ni_number", (), ("ni_number",), (), ("different", "same")),
    Comparison("ssn", (), ("ssn",), (), ("different", "same")),
)


def usable(filters: set[str], tokens: set[str]) -> list[Comparison]:
    """The comparisons whose inputs the encodings hold (a source may lack some)."""
    chosen: list[Comparison] = []
    for c in COMPARISONS:
        if c.name == "birth_year":
            if "birth_year" in filters:
                chosen.append(c)
        elif c.filters:
            if set(c.filters) <= filters:
                chosen.append(c)
        elif set(c.tokens) <= tokens:
            chosen.append(c)
    return chosen


def _dice_levels(dice: np.ndarray, cutoffs: tuple[float, ...]) -> np.ndarray:
    """0 below the lowest cut-off, then 1, 2, ... up to len(cutoffs) at the highest."""
    level = np.zeros(dice.shape, dtype=np.int8)
    for rank, cut in enumerate(sorted(cutoffs), start=1):
        level[dice >= cut] = rank
    return level


def levels(
    comparison: Comparison,
    dice: Mapping[str, np.ndarray],
    same: Mapping[str, np.ndarray],
) -> np.ndarray:
    """Levels of ``comparison`` for every pair.

    ``dice[field]``: float32 Dice per pair, NaN when either filter is missing.
    ``same[token]``: int8 per pair, 1 equal, 0 different, -1 either missing.
    """
    c = comparison
    if c.name == "birth_date":
        return _birth_date(c, dice["birth_date"], same)
    if c.name == "birth_year":
        return _birth_year(c, dice["birth_year"], same.get("birth_date"))
    if not c.filters:
        # a token-only comparison: agree, disagree, or missing
        return same[c.tokens[0]].astype(np.int8)
    d = dice[c.filters[0]]
    out = _dice_levels(d, c.dice_levels)
    top = len(c.dice_levels)
    # exact-token levels sit above the Dice levels, in the order listed (strongest last)
    for rank, token in enumerate(c.tokens, start=1):
        if token in same:
            out[same[token] == 1] = top + rank
    out[np.isnan(d)] = NULL_LEVEL
    return out


def _birth_date(c: Comparison, d: np.ndarray, same: Mapping[str, np.ndarray]) -> np.ndarray:
    out = _dice_levels(d, c.dice_levels)
    if "birth_date_swapped" in same:
        out[same["birth_date_swapped"] == 1] = 3
    if "birth_date" in same:
        out[same["birth_date"] == 1] = 4
    out[np.isnan(d)] = NULL_LEVEL
    return out


def _birth_year(c: Comparison, d: np.ndarray, exact_dates: np.ndarray | None) -> np.ndarray:
    out = _dice_levels(d, c.dice_levels)
    out[np.isnan(d)] = NULL_LEVEL
    if exact_dates is not None:
        # both full dates known: the birth-date comparison already speaks for the year
        out[exact_dates >= 0] = NULL_LEVEL
    return out
