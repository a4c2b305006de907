"""Blocking rules chosen from the fields present, with their comparison counts bounded.

Candidate rules are listed from the most to the least specific. A rule is used when all
its columns hold values; a rule that would create more pairs than the budget is tried
again with a narrowing column (postcode district, birth year), and dropped when even
that is too many. Counts come from one GROUP BY per rule on the standardised table
(the "pre-filter" count Splink's blocking analysis reports), so choosing costs seconds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb

from sectorlink.linkage.sqlutil import scalar

# (left column, right column) equalities; a rule with any left != right is one-sided,
# so it is listed in both directions.
Equalities = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Candidate:
    name: str
    equalities: Equalities

    @property
    def columns(self) -> set[str]:
        return {c for pair in self.equalities for c in pair}

    @property
    def symmetric(self) -> bool:
        return all(a == b for a, b in self.equalities)

    def sql(self) -> str:
        return " AND ".join(f"l.{a} = r.{b}" for a, b in self.equalities)

    def narrowed(self, column: str) -> Candidate:
        return Candidate(f"{self.name} + {column}", (*self.equalities, (column, column)))


def _same(*cols: str) -> Equalities:
    return tuple((c, c) for c in cols)


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("NHS number", _same("nhs_number")),
    Candidate("NI number", _same("ni_number")),
    Candidate("SSN", _same("ssn")),
    Candidate("email", _same("email")),
    Candidate("person identifier kept by the source", _same("local_person_id")),
    Candidate("phone", _same("phone")),
    Candidate("family name + birth date", _same("family_name", "birth_date_text")),
    Candidate("given name (canonical) + birth date", _same("given_canonical", "birth_date_text")),
    Candidate("name sounds + birth year", _same("given_soundex", "family_soundex", "birth_year")),
    Candidate("birth date + postcode district", _same("birth_date_text", "postcode_district")),
    Candidate(
        "day/month swapped birth date + family name sound",
        (("birth_date_swapped", "birth_date_text"), ("family_soundex", "family_soundex")),
    ),
    Candidate(
        "birth date + day/month swapped + family name sound",
        (("birth_date_text", "birth_date_swapped"), ("family_soundex", "family_soundex")),
    ),
    Candidate("family name + postcode", _same("family_name", "postcode")),
    Candidate("given name (canonical) + postcode", _same("given_canonical", "postcode")),
    # the address beyond the names: what is left when names and dates were mistyped
    Candidate("postcode + house number", _same("postcode", "house_number")),
    Candidate(
        "name sounds + postcode district",
        _same("given_soundex", "family_soundex", "postcode_district"),
    ),
    Candidate("given name (canonical) + family name", _same("given_canonical", "family_name")),
    Candidate("address + given name sound", _same("address", "given_soundex")),
    Candidate(
        "given and family names swapped",
        (("given_name", "family_name"), ("family_name", "given_name")),
    ),
    # One field each: what is left when every other field was mistyped or replaced. On
    # small data they fit the budget as they are; on large data they are narrowed (or
    # dropped), so they cost comparisons only where comparisons are cheap.
    Candidate("birth date", _same("birth_date_text")),
    Candidate("postcode", _same("postcode")),
    Candidate("family name sound", _same("family_soundex")),
    Candidate("given name sound", _same("given_soundex")),
)

# Columns that narrow a rule that makes too many pairs, tried in this order.
NARROWING = ("birth_year", "postcode_district", "given_soundex", "family_soundex")


@dataclass(frozen=True)
class BlockingChoice:
    name: str
    sql: str
    pairs: int
    used: bool
    note: str


def count_pairs(con: duckdb.DuckDBPyConnection, table: str, rule: Candidate) -> int:
    """Candidate pairs the rule creates before de-duplication across rules."""
    if rule.symmetric:
        cols = ", ".join(a for a, _ in rule.equalities)
        not_null = " AND ".join(f"{a} IS NOT NULL" for a, _ in rule.equalities)
        sql = f"""SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (
                    SELECT count(*) AS n FROM {table} WHERE {not_null} GROUP BY {cols})"""
    else:
        left = [a for a, _ in rule.equalities]
        right = [b for _, b in rule.equalities]
        keys = ", ".join(f"k{i}" for i in range(len(left)))
        lsel = ", ".join(f"{c} AS k{i}" for i, c in enumerate(left))
        rsel = ", ".join(f"{c} AS k{i}" for i, c in enumerate(right))
        lnn = " AND ".join(f"{c} IS NOT NULL" for c in left)
        rnn = " AND ".join(f"{c} IS NOT NULL" for c in right)
        sql = f"""SELECT coalesce(sum(l.n * r.n), 0) FROM
                    (SELECT {lsel}, count(*) AS n FROM {table} WHERE {lnn} GROUP BY ALL) l
                    JOIN (SELECT {rsel}, count(*) AS n FROM {table} WHERE {rnn} GROUP BY ALL) r
                    USING ({keys})"""
    return int(scalar(con, sql) or 0)


def pair_budget(n_records: int) -> int:
    """Most pairs one rule may create: linear in the records, with a floor for small
    data where every pair is cheap."""
    return max(1_000_000, 10 * n_records)


def choose_blocking_rules(
    con: duckdb.DuckDBPyConnection,
    table: str,
    fields: Collection[str],
    n_records: int,
) -> list[BlockingChoice]:
    """Every candidate with its outcome; the ``used`` ones go to Splink in order."""
    budget = pair_budget(n_records)
    out: list[BlockingChoice] = []
    for rule in CANDIDATES:
        missing = sorted(rule.columns - set(fields))
        if missing:
            out.append(
                BlockingChoice(
                    rule.name, rule.sql(), 0, False, f"no values in {', '.join(missing)}"
                )
            )
            continue
        pairs = count_pairs(con, table, rule)
        chosen, note = rule, ""
        for column in NARROWING:
            if pairs <= budget:
                break
            if column in rule.columns or column not in fields:
                continue
            narrower = rule.narrowed(column)
            narrower_pairs = count_pairs(con, table, narrower)
            note = f"narrowed with {column}: {pairs:,} pairs were over the budget of {budget:,}"
            chosen, pairs = narrower, narrower_pairs
        if pairs > budget:
            out.append(
                BlockingChoice(
                    chosen.name, chosen.sql(), pairs, False, f"over the budget of {budget:,} pairs"
                )
            )
        elif pairs == 0:
            out.append(BlockingChoice(chosen.name, chosen.sql(), 0, False, "creates no pairs"))
        else:
            out.append(BlockingChoice(chosen.name, chosen.sql(), pairs, True, note))
    return out


def training_rules(fields: Collection[str]) -> list[tuple[str, str]]:
    """EM blocking rules: each one fixes some fields so the others can be estimated.
    Returned as (description, SQL)."""
    rules: list[tuple[str, str]] = []
    if "birth_date_text" in fields:
        rules.append(("same birth date", "l.birth_date_text = r.birth_date_text"))
    if {"given_canonical", "family_name"} <= set(fields):
        rules.append(
            (
                "same given name (canonical) and family name",
                "l.given_canonical = r.given_canonical AND l.family_name = r.family_name",
            )
        )
    if "postcode" in fields and len(rules) < 2:
        rules.append(("same postcode", "l.postcode = r.postcode"))
    if "birth_year" in fields and len(rules) < 2:
        rules.append(("same birth year", "l.birth_year = r.birth_year"))
    return rules
