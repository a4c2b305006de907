"""Strong contradictions between two records, as one SQL expression.

The same rules as the contradiction levels of the Splink model, used again after
clustering: a cluster holding any pair that contradicts is incoherent and is split.
"""

from __future__ import annotations

from collections.abc import Collection

from sectorlink.linkage.comparisons import (
    BIRTH_YEAR_GAP_CONTRADICTION,
    NATIONAL_IDS,
    birth_gap_sql,
    clearly_different_given,
    twins_sql,
)
from sectorlink.linkage.sql_dialect import Dialect

# Standardised columns the rules read.
COLUMNS = (
    "given_name",
    "given_canonical",
    "family_name",
    "middle_names",
    "alias_given",
    "birth_date_text",
    "birth_date_swapped",
    "birth_year_min",
    "birth_year_max",
    "nhs_number",
    "ni_number",
    "ssn",
    "postcode",
    "address",
)
# Read too where the records carry it (the run's input does, `standardise` alone not).
OPTIONAL_COLUMNS = ("local_person_id",)

KINDS = {
    "nhs_number": "different valid NHS numbers",
    "ni_number": "different valid NI numbers",
    "ssn": "different valid SSNs",
    "twins": "same birth date, clearly different first names",
    "birth_gap": f"birth years {BIRTH_YEAR_GAP_CONTRADICTION}+ apart",
    "given_name": "clearly different first names, no shared identifier, nothing bridging them",
}
# Kinds that a cluster may hold when the two records are linked strongly, directly or
# each to one third record (see `clustering.BRIDGE_WEIGHT`): a chain through weak links
# is what joins a household, a strong one is one person under two first names (an alias).
BRIDGEABLE = frozenset({"given_name"})
# Kinds excused when one record links strongly to a third that shares an identifier with
# the other (`clustering.IDENTITY_COLUMNS`): a middle name used as the first on a record
# carrying the person's NHS number makes it look like the twin of a record without one.
IDENTITY_BRIDGEABLE = frozenset({"twins", "given_name"})
# Identifiers whose agreement means one person whatever the first names say.
SHARED_IDS = (*NATIONAL_IDS, "local_person_id")


def given_name_sql(d: Dialect, fields: Collection[str], *, local_id: bool = False) -> str:
    """SQL: first names clearly different and no identifier shared (``local_id``: the
    source's person identifier counts, the records carrying it: :func:`full_projection`)."""
    ids = SHARED_IDS if local_id else NATIONAL_IDS
    shared = [f"coalesce({c}_l = {c}_r, false)" for c in ids if c in fields]
    none_shared = f"NOT ({' OR '.join(shared)})" if shared else "true"
    return f"{clearly_different_given(d, fields)} AND {none_shared}"


DUCKDB = Dialect("duckdb")


def contradiction_sql(
    fields: Collection[str],
    d: Dialect = DUCKDB,
    *,
    kinds: Collection[str] | None = None,
    local_id: bool = False,
) -> str:
    """SQL over ``col_l``/``col_r`` columns: the kind of the first contradiction, or NULL.
    ``kinds``: only these kinds (keys of :data:`KINDS`); default all. ``local_id``: the
    pairs carry the source's person identifier (:func:`full_projection`)."""
    wanted = set(KINDS) if kinds is None else set(kinds)
    cases: list[str] = []
    for col in NATIONAL_IDS:
        if col not in fields or col not in wanted:
            continue
        differ = f"{col}_l <> {col}_r"
        if col != "nhs_number":
            differ += f" AND {d.damerau_levenshtein(f'{col}_l', f'{col}_r')} > 1"
        cases.append(f"WHEN {differ} THEN '{col}'")
    if {"given_name", "birth_date_text"} <= set(fields) and "twins" in wanted:
        cases.append(f"WHEN {twins_sql(d, fields)} THEN 'twins'")
    if "birth_year_min" in fields and "birth_gap" in wanted:
        cases.append(f"WHEN {birth_gap_sql(d, fields)} THEN 'birth_gap'")
    if "given_name" in fields and "given_name" in wanted:
        cases.append(f"WHEN {given_name_sql(d, fields, local_id=local_id)} THEN 'given_name'")
    if not cases:
        return "CAST(NULL AS VARCHAR)"
    return "CASE " + " ".join(cases) + " END"


def pair_projection(left: str, right: str) -> str:
    """SELECT list exposing the rule columns of two aliased rows as col_l / col_r."""
    return ", ".join(f"{left}.{c} AS {c}_l, {right}.{c} AS {c}_r" for c in COLUMNS)


def full_projection(left: str, right: str) -> str:
    """:func:`pair_projection` plus :data:`OPTIONAL_COLUMNS` (the run's input table)."""
    extra = ", ".join(f"{left}.{c} AS {c}_l, {right}.{c} AS {c}_r" for c in OPTIONAL_COLUMNS)
    return f"{pair_projection(left, right)}, {extra}"
