"""Splink comparisons, one per identifier, over the standardised columns.

Each level carries a default m probability: the starting point for EM, and the value
used as is when there are too few records to train (see docs/linkage.md, "Defaults").
u probabilities always come from random sampling, which works at any size.

Strong contradictions are levels with fixed m and u whose match weight is
:data:`CONTRADICTION_WEIGHT`: two different valid national identifiers, the same birth
date with clearly different first names (twins), or birth years 15+ years apart. The
weight is large enough to beat everything a household shares (surname, address, phone).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sectorlink.linkage.sql_dialect import Dialect

# log2 Bayes factor of a strong contradiction.
CONTRADICTION_WEIGHT = -50.0
# A gap in birth years (between the possible ranges) at or beyond this is a contradiction.
BIRTH_YEAR_GAP_CONTRADICTION = 15
# Name similarity below this (and no nickname, initial, middle-name or swap explanation)
# makes two first names "clearly different".
CLEARLY_DIFFERENT_JW = 0.7


@dataclass
class Level:
    sql: str
    label: str
    m: float | None = None
    # default u, used only when there are too few records to sample u from
    u: float | None = None
    tf_column: str | None = None
    null: bool = False
    contradiction_u: float | None = None
    # False: a contradiction level is trained like any other (see `build_comparisons`)
    strict: bool = True
    # the contradiction's kind (a key of `contradictions.KINDS`), for contradiction levels
    kind: str | None = None
    # the household level of the given-name comparison: m and u fixed while training,
    # its weight set from the trained model (`household_weight`)
    household: bool = False

    def as_dict(self, defaults: bool = False) -> dict[str, Any]:
        """The Splink level. ``defaults``: the untrained model (default m and u, no
        term-frequency adjustment, whose frequencies mean nothing on a handful of rows)."""
        out: dict[str, Any] = {"sql_condition": self.sql, "label_for_charts": self.label}
        if self.null:
            out["is_null_level"] = True
            return out
        if self.household:
            out["m_probability"] = self.m
            out["u_probability"] = self.u
            out["fix_u_probability"] = True
            out["fix_m_probability"] = True
        elif self.contradiction_u is not None and not self.strict:
            out["m_probability"] = 0.001
        elif self.contradiction_u is not None:
            out["u_probability"] = self.contradiction_u
            out["m_probability"] = self.contradiction_u * 2.0**CONTRADICTION_WEIGHT
            out["fix_u_probability"] = True
            out["fix_m_probability"] = True
        elif self.m is not None:
            out["m_probability"] = self.m
            if defaults and self.u is not None:
                out["u_probability"] = self.u
        if self.tf_column and not defaults:
            out["tf_adjustment_column"] = self.tf_column
            out["tf_adjustment_weight"] = 1.0
        return out


@dataclass
class Comparison:
    name: str
    description: str
    levels: list[Level] = field(default_factory=list)

    def as_dict(self, defaults: bool = False) -> dict[str, Any]:
        return {
            "output_column_name": self.name,
            "comparison_description": self.description,
            "comparison_levels": [lvl.as_dict(defaults) for lvl in self.levels],
        }

    def default_m(self) -> list[float | None]:
        return [lvl.m for lvl in self.levels if not lvl.null]


def _eq(col: str) -> str:
    return f"{col}_l = {col}_r"


def _null(*cols: str) -> str:
    return " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)


def _swapped() -> str:
    return "given_name_l = family_name_r OR family_name_l = given_name_r"


def _alias(name: str, alias: str) -> str:
    """SQL: one record's name is the other's alias (a homeless service's 'known as')."""
    return f"({name}_l = {alias}_r OR {alias}_l = {name}_r)"


def _else(m: float, u: float) -> Level:
    return Level("ELSE", "All other comparisons", m=m, u=u)


def clearly_different_given(d: Dialect, fields: Collection[str]) -> str:
    """SQL: both first names present and nothing explains the difference.

    Deliberately narrow, because it vetoes a link: names sharing their first letter
    (Kaz and Karen, a typo, an initial) are never "clearly different", nor are names
    that a nickname, a swap with the family name or a middle name used as the first
    name explains, even with a typo in it. Twins with the same initial are left to the
    rest of the model (and their NHS numbers)."""
    jw = d.jaro_winkler
    explanations = [
        "substr(given_name_l, 1, 1) = substr(given_name_r, 1, 1)",
        f"{jw('given_name_l', 'given_name_r')} >= {CLEARLY_DIFFERENT_JW}",
        _eq("given_canonical"),
    ]
    if "family_name" in fields:
        explanations.append(
            f"({jw('given_name_l', 'family_name_r')} >= 0.85 "
            f"OR {jw('family_name_l', 'given_name_r')} >= 0.85)"
        )
    if "middle_names" in fields:
        explanations.append(
            f"({jw('given_name_l', d.first_word('middle_names_r'))} >= 0.85 "
            f"OR {jw(d.first_word('middle_names_l'), 'given_name_r')} >= 0.85)"
        )
    if "alias_given" in fields:
        explanations.append(_alias("given_name", "alias_given"))
    either = " OR ".join(f"coalesce({e}, false)" for e in explanations)
    return f"(given_name_l IS NOT NULL AND given_name_r IS NOT NULL AND NOT ({either}))"


def given_name(d: Dialect, fields: Collection[str]) -> Comparison:
    jw = d.jaro_winkler("given_name_l", "given_name_r")
    levels = [
        Level(_null("given_name"), "given name missing", null=True),
        Level(_eq("given_name"), "exact", m=0.82, u=0.01, tf_column="given_name"),
        Level(_eq("given_canonical"), "same after nicknames (bob = robert)", m=0.05, u=0.002),
        Level(f"{jw} >= 0.92", "Jaro-Winkler >= 0.92", m=0.05, u=0.005),
    ]
    if "family_name" in fields:
        levels.append(Level(_swapped(), "given and family names swapped", m=0.01, u=0.0001))
    if "middle_names" in fields:
        levels.append(
            Level(
                f"given_name_l = {d.first_word('middle_names_r')} "
                f"OR {d.first_word('middle_names_l')} = given_name_r",
                "one's given name is the other's middle name",
                m=0.01,
                u=0.001,
            )
        )
    if "alias_given" in fields:
        levels.append(
            Level(_alias("given_name", "alias_given"), ALIAS_GIVEN_LABEL, m=0.01, u=0.0005)
        )
    levels += [
        Level(
            "(length(given_name_l) = 1 OR length(given_name_r) = 1) "
            "AND substr(given_name_l, 1, 1) = substr(given_name_r, 1, 1)",
            "initial agrees",
            m=0.01,
            u=0.005,
        ),
        Level(f"{jw} >= 0.8", "Jaro-Winkler >= 0.8", m=0.03, u=0.03),
    ]
    household = household_sql(d, fields)
    if household is not None:
        # Its weight is set after training (see `household_weight`), never by EM: among
        # pairs that share a family name and an address, different first names are the
        # mark of two members of one household, which EM on household-rich blocks would
        # otherwise learn as a normal variation of one person's records.
        levels.append(
            Level(
                household,
                HOUSEHOLD_LABEL,
                m=HOUSEHOLD_U,
                u=HOUSEHOLD_U,
                household=True,
                kind="household",
            )
        )
    levels.append(_else(0.03, 0.95))
    return Comparison("given_name", "First given name", levels)


ALIAS_GIVEN_LABEL = "one's given name is the other's alias"
ALIAS_FAMILY_LABEL = "one's family name is the other's alias"
HOUSEHOLD_LABEL = "household: clearly different first names, same family name and address"
# The level's u while training (fixed; its m is set from the trained model afterwards).
HOUSEHOLD_U = 1e-4


def household_sql(d: Dialect, fields: Collection[str]) -> str | None:
    """SQL: first names clearly different, the same family name and the same address or
    postcode (the household signature), or None when those fields are missing."""
    place = [f"coalesce({_eq(c)}, false)" for c in ("address", "postcode") if c in fields]
    if "family_name" not in fields or not place:
        return None
    return (
        f"{clearly_different_given(d, fields)} AND {_eq('family_name')} AND ({' OR '.join(place)})"
    )


def family_name(d: Dialect, fields: Collection[str]) -> Comparison:
    jw = d.jaro_winkler("family_name_l", "family_name_r")
    levels = [
        Level(_null("family_name"), "family name missing", null=True),
        Level(_eq("family_name"), "exact", m=0.85, u=0.002, tf_column="family_name"),
        Level(
            f"{d.intersect_size('family_parts_l', 'family_parts_r')} >= 1",
            "shares a part of a double-barrelled name",
            m=0.03,
            u=0.0001,
        ),
        Level(f"{jw} >= 0.92", "Jaro-Winkler >= 0.92", m=0.05, u=0.002),
    ]
    if "given_name" in fields:
        levels.append(Level(_swapped(), "given and family names swapped", m=0.01, u=0.0001))
    if "alias_family" in fields:
        levels.append(
            Level(_alias("family_name", "alias_family"), ALIAS_FAMILY_LABEL, m=0.01, u=0.0005)
        )
    levels += [Level(f"{jw} >= 0.8", "Jaro-Winkler >= 0.8", m=0.02, u=0.02), _else(0.04, 0.97)]
    return Comparison("family_name", "Family name", levels)


def middle_names(d: Dialect) -> Comparison:
    return Comparison(
        "middle_names",
        "Middle names",
        [
            Level(_null("middle_names"), "middle names missing", null=True),
            Level(_eq("middle_names"), "exact", m=0.8, u=0.01, tf_column="middle_names"),
            Level(
                f"{d.first_word('middle_names_l')} = {d.first_word('middle_names_r')}",
                "first middle name agrees",
                m=0.08,
                u=0.005,
            ),
            Level(
                "substr(middle_names_l, 1, 1) = substr(middle_names_r, 1, 1)",
                "initial agrees",
                m=0.06,
                u=0.06,
            ),
            _else(0.06, 0.92),
        ],
    )


def _gap() -> str:
    return "greatest(birth_year_min_l - birth_year_max_r, birth_year_min_r - birth_year_max_l, 0)"


NATIONAL_IDS = ("nhs_number", "ni_number", "ssn")


def same_national_id(fields: Collection[str]) -> str:
    """SQL: some valid national identifier agrees. That outweighs a name or date
    discrepancy (a keying error), so contradictions on those do not fire then."""
    agree = [f"coalesce({c}_l = {c}_r, false)" for c in NATIONAL_IDS if c in fields]
    return "(" + " OR ".join(agree) + ")" if agree else "false"


def same_birth_day(exclude_first_of_january: bool = True) -> str:
    """SQL: the same full birth date, read either way round (day/month swapped).

    1 January is left out: it is what many systems write for an unknown day and month,
    so two people sharing it says little about twins."""
    same = (
        "(birth_date_text_l = birth_date_text_r OR birth_date_swapped_l = birth_date_text_r "
        "OR birth_date_text_l = birth_date_swapped_r)"
    )
    if exclude_first_of_january:
        same += " AND substr(birth_date_text_l, 5, 4) <> '0101'"
    return same


def twins_sql(d: Dialect, fields: Collection[str], *, exempt_shared_id: bool = True) -> str:
    """SQL: the twins contradiction (same birth day, clearly different first names, no
    shared national number). ``exempt_shared_id=False``: the pattern alone, shared
    number or not (to measure how often records of one person show it)."""
    pattern = f"{same_birth_day()} AND {clearly_different_given(d, fields)}"
    return f"{pattern} AND NOT {same_national_id(fields)}" if exempt_shared_id else pattern


def birth_gap_sql(d: Dialect, fields: Collection[str], *, exempt_shared_id: bool = True) -> str:
    """SQL: the birth-gap contradiction: possible birth years this far apart, unless the
    two full dates are one keying error apart (1853 for 1823) or a national number agrees
    (``exempt_shared_id=False``: shared number or not)."""
    one_edit = (
        "(birth_date_text_l IS NOT NULL AND birth_date_text_r IS NOT NULL AND "
        f"{d.damerau_levenshtein('birth_date_text_l', 'birth_date_text_r')} <= 1)"
    )
    pattern = f"{_gap()} >= {BIRTH_YEAR_GAP_CONTRADICTION} AND NOT coalesce({one_edit}, false)"
    return f"{pattern} AND NOT {same_national_id(fields)}" if exempt_shared_id else pattern


def birth(d: Dialect, fields: Collection[str]) -> Comparison:
    """Birth date, year or age: full dates where both have them, year ranges otherwise."""
    both_days = "birth_date_text_l IS NOT NULL AND birth_date_text_r IS NOT NULL"
    levels = [Level(_null("birth_year_min"), "no birth date, year or age", null=True)]
    if "given_name" in fields:
        levels.append(
            Level(
                twins_sql(d, fields),
                "contradiction: same birth date, clearly different first names (twins)",
                contradiction_u=5e-5,
                kind="twins",
            )
        )
    levels += [
        Level(_eq("birth_date_text"), "exact date", m=0.85, u=5e-05, tf_column="birth_date_text"),
        Level(
            "birth_date_swapped_l = birth_date_text_r OR birth_date_text_l = birth_date_swapped_r",
            "day and month swapped",
            m=0.01,
            u=1e-05,
        ),
        Level(
            # any single edit leaves the year or the month and day intact: a cheap test
            # first, so the edit distance runs on few pairs
            f"{both_days} AND (substr(birth_date_text_l, 1, 4) = substr(birth_date_text_r, 1, 4) "
            "OR substr(birth_date_text_l, 5, 4) = substr(birth_date_text_r, 5, 4)) "
            f"AND {d.damerau_levenshtein('birth_date_text_l', 'birth_date_text_r')} <= 1",
            "one digit mistyped or two transposed",
            m=0.06,
            u=0.0005,
        ),
        Level(f"{both_days} AND {_eq('birth_year')}", "same year, different day", m=0.01, u=0.012),
        Level(
            f"NOT ({both_days}) AND {_eq('birth_year')}",
            "same year (a year-only date on one side)",
            m=0.03,
            u=0.012,
        ),
        Level(
            f"NOT ({both_days}) AND {_gap()} = 0",
            "birth-year ranges overlap (an age on one side)",
            m=0.02,
            u=0.025,
        ),
        Level(f"{_gap()} <= 1", "birth years 1 apart", m=0.01, u=0.03),
        Level(f"{_gap()} <= 3", "birth years 2-3 apart", m=0.005, u=0.05),
        Level(
            f"{_gap()} < {BIRTH_YEAR_GAP_CONTRADICTION}", "birth years 4-14 apart", m=0.005, u=0.25
        ),
        Level(
            birth_gap_sql(d, fields),
            f"contradiction: birth years {BIRTH_YEAR_GAP_CONTRADICTION}+ apart",
            contradiction_u=0.5,
            kind="birth_gap",
        ),
        _else(1e-4, 0.6),
    ]
    return Comparison("birth", "Date of birth, year of birth or age at an event", levels)


def sex() -> Comparison:
    return Comparison(
        "sex",
        "Sex",
        [
            Level(_null("sex"), "sex missing", null=True),
            Level(_eq("sex"), "same", m=0.97, u=0.5),
            _else(0.03, 0.5),
        ],
    )


def location(d: Dialect, fields: Collection[str]) -> Comparison:
    """Address and postcode together: they describe one place, so counting them as two
    independent agreements would double the evidence a household shares."""
    has_address = "address" in fields
    has_postcode = "postcode" in fields
    cols = [c for c in ("address", "postcode") if c in fields]
    null_sql = " OR ".join(
        "(" + " AND ".join(f"{c}_{side} IS NULL" for c in cols) + ")" for side in ("l", "r")
    )
    levels = [Level(null_sql, "no address or postcode", null=True)]
    similar = similar_text = ""
    if has_address:
        # The same house number first: cheap, and it keeps the costly token overlap for
        # the few pairs where it can matter (a typo in the street or the postcode). With
        # the same postcode, the same house number is already its own level above.
        similar_text = (
            f"({d.token_jaccard('address_tokens_l', 'address_tokens_r')} >= 0.6 "
            f"OR {d.jaro_winkler('address_l', 'address_r')} >= 0.92)"
        )
        similar = f"{_eq('house_number')} AND {similar_text}"
    if has_address and has_postcode:
        levels += [
            Level(
                f"{_eq('address')} AND {_eq('postcode')}",
                "same address and postcode",
                m=0.6,
                u=0.0001,
                tf_column="address",
            ),
            Level(
                # a house number that differs is a neighbour, not a typo
                f"{_eq('postcode')} AND coalesce({_eq('house_number')}, true) AND {similar_text}",
                "same postcode, similar address",
                m=0.05,
                u=0.0001,
            ),
            Level(
                f"{_eq('postcode')} AND {_eq('house_number')}",
                "same postcode and house number",
                m=0.05,
                u=0.0001,
            ),
            Level(
                _eq("address"),
                "same address, postcode differs or missing",
                m=0.03,
                u=1e-05,
                tf_column="address",
            ),
            Level(_eq("postcode"), "same postcode", m=0.03, u=0.001, tf_column="postcode"),
            Level(similar, "similar address", m=0.05, u=0.0001),
        ]
    elif has_address:
        levels += [
            Level(_eq("address"), "same address", m=0.6, u=0.0001, tf_column="address"),
            Level(similar, "similar address", m=0.15, u=0.001),
        ]
    else:
        levels.append(Level(_eq("postcode"), "same postcode", m=0.6, u=0.001, tf_column="postcode"))
    if has_postcode:
        levels += [
            Level(_eq("postcode_sector"), "same postcode sector", m=0.03, u=0.01),
            Level(_eq("postcode_district"), "same postcode district", m=0.03, u=0.05),
        ]
    levels.append(_else(0.13, 0.9))
    return Comparison("location", "Address and postcode", levels)


def national_id(d: Dialect, column: str, label: str) -> Comparison:
    """NHS numbers carry a check digit, so two different valid ones are two people.
    NI numbers and SSNs do not: one digit apart may be a typo, so that level is trained
    and only numbers further apart are a contradiction."""
    levels = [
        Level(_null(column), f"{label} missing", null=True),
        Level(_eq(column), "same", m=0.99, u=1e-06),
    ]
    if column != "nhs_number":
        levels.append(
            Level(
                f"{d.damerau_levenshtein(f'{column}_l', f'{column}_r')} <= 1",
                "one digit apart (a typo?)",
                m=0.005,
                u=1e-05,
            )
        )
    levels.append(
        Level(
            "ELSE",
            f"contradiction: two different valid {label}s",
            contradiction_u=0.99,
            kind=column,
        )
    )
    return Comparison(column, label, levels)


def phone(d: Dialect) -> Comparison:
    return Comparison(
        "phone",
        "Phone number",
        [
            Level(_null("phone"), "phone missing", null=True),
            Level(_eq("phone"), "same", m=0.7, u=1e-05),
            Level(
                f"{d.damerau_levenshtein('phone_l', 'phone_r')} <= 1",
                "one digit apart",
                m=0.05,
                u=0.0001,
            ),
            _else(0.25, 0.9999),
        ],
    )


def email(d: Dialect) -> Comparison:
    local = (
        "split_part(email_{s}, '@', 1)"
        if d.name == "duckdb"
        else "substring_index(email_{s}, '@', 1)"
    )
    return Comparison(
        "email",
        "Email address",
        [
            Level(_null("email"), "email missing", null=True),
            Level(_eq("email"), "same", m=0.75, u=1e-06),
            Level(
                f"{local.format(s='l')} = {local.format(s='r')}",
                "same name, other domain",
                m=0.05,
                u=1e-05,
            ),
            Level(
                f"{d.jaro_winkler('email_l', 'email_r')} >= 0.9",
                "Jaro-Winkler >= 0.9",
                m=0.05,
                u=0.0001,
            ),
            _else(0.15, 0.9999),
        ],
    )


def local_person_id(d: Dialect) -> Comparison:
    """The person identifier a source keeps for its clients (hospital number, case
    number). Not validated, so a difference is no contradiction: the ELSE level is
    trained, and on the hub's data, where each partner numbers its own clients, it is
    what almost every cross-partner pair shows."""
    return Comparison(
        "local_person_id",
        "Person identifier kept by the source (hospital number, case number)",
        [
            Level(_null("local_person_id"), "person identifier missing", null=True),
            Level(_eq("local_person_id"), "same", m=0.5, u=1e-05),
            Level(
                f"{d.damerau_levenshtein('local_person_id_l', 'local_person_id_r')} <= 1",
                "one keystroke apart",
                m=0.05,
                u=0.0001,
            ),
            _else(0.45, 0.9999),
        ],
    )


# Which standardised columns each comparison needs (any one present is enough).
COMPARISON_FIELDS: dict[str, tuple[str, ...]] = {
    "given_name": ("given_name",),
    "family_name": ("family_name",),
    "middle_names": ("middle_names",),
    "birth": ("birth_year_min",),
    "sex": ("sex",),
    "location": ("address", "postcode"),
    "nhs_number": ("nhs_number",),
    "ni_number": ("ni_number",),
    "ssn": ("ssn",),
    "phone": ("phone",),
    "email": ("email",),
    "local_person_id": ("local_person_id",),
}


def build_comparisons(
    d: Dialect, fields: Collection[str], *, strict_contradictions: bool = True
) -> list[Comparison]:
    """The comparisons for the fields present, in a fixed order.

    With ``strict_contradictions=False`` the contradiction levels keep their own level
    but their weights are trained like the others: for data whose errors replace whole
    names and dates at random (FEBRL's generator), where a contradiction is noise.
    """
    out = _comparisons(d, fields)
    if not strict_contradictions:
        for comparison in out:
            # lenient: plain Fellegi-Sunter, so no household level either
            comparison.levels = [lvl for lvl in comparison.levels if not lvl.household]
            for level in comparison.levels:
                level.strict = False
    return out


def _comparisons(d: Dialect, fields: Collection[str]) -> list[Comparison]:
    out: list[Comparison] = []
    if "given_name" in fields:
        out.append(given_name(d, fields))
    if "family_name" in fields:
        out.append(family_name(d, fields))
    if "middle_names" in fields:
        out.append(middle_names(d))
    if "birth_year_min" in fields:
        out.append(birth(d, fields))
    if "sex" in fields:
        out.append(sex())
    if "address" in fields or "postcode" in fields:
        out.append(location(d, fields))
    for col, label in (("nhs_number", "NHS number"), ("ni_number", "NI number"), ("ssn", "SSN")):
        if col in fields:
            out.append(national_id(d, col, label))
    if "phone" in fields:
        out.append(phone(d))
    if "email" in fields:
        out.append(email(d))
    if "local_person_id" in fields:
        out.append(local_person_id(d))
    return out
