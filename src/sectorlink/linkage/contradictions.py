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
    twins_sql,
)
from sectorlink.linkage.sql_dialect import Dialect

# Standardised columns the rules read.
COLUMNS = (
    "given_name",
    "given_canonical",
    "family_name",
    "middle_names",
    "birth_date_text",
    "birth_date_swapped",
    "birth_year_min",
    "birth_year_max",
    "nhs_number",
    "ni_number",
    "ssn",
)

KINDS = {
    "nhs_number": "different valid NHS numbers",
    "ni_number": "different valid NI numbers",
    "ssn": "different valid SSNs",
    "twins": "same birth date, clearly different first names",
    "birth_gap": f"birth years {BIRTH_YEAR_GAP_CONTRADICTION}+ apart",
}


DUCKDB = Dialect("duckdb")


def contradiction_sql(
    fields: Collection[str], d: Dialect = DUCKDB, *, kinds: Collection[str] | None = None
) -> str:
    """SQL over ``col_l``/``col_r`` columns: the kind of the first contradiction, or NULL.
    ``kinds``: only these kinds (keys of :data:`KINDS`); default all."""
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
    if not cases:
        return "CAST(NULL AS VARCHAR)"
    return "CASE " + " ".join(cases) + " END"


def pair_projection(left: str, right: str) -> str:
    """SELECT list exposing the rule columns of two aliased rows as col_l / col_r."""
    return ", ".join(f"{left}.{c} AS {c}_l, {right}.{c} AS {c}_r" for c in COLUMNS)
