"""Candidate pairs from keyed tokens: the hub blocks without seeing any value.

Two records are compared when they share all the keyed tokens of at least one rule.
A rule is used only when the encodings hold its tokens. Very large blocks (one token value
shared by thousands of records, such as a default date) are left out of that rule and
reported; the other rules still reach those records. And, as the plain engine does
(:mod:`sectorlink.linkage.blocking`), each rule's pairs are counted first (one GROUP BY)
against a budget linear in the records (:func:`~sectorlink.linkage.blocking.pair_budget`):
a rule over it is narrowed with one more token (birth year, postcode sector, a name's
Soundex), or dropped when even that is over. So the candidate pairs, and the memory of
every array that holds one value per pair, grow with the records, not their square.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np

from sectorlink.linkage.blocking import pair_budget
from sectorlink.linkage.sqlutil import scalar

Rule = tuple[tuple[str, str], ...]

# Each rule: tokens the two records must share. (left token, right token) pairs compare
# a token of one record with a different token of the other under the same key.
RULES: tuple[Rule, ...] = (
    (("nhs_number", "nhs_number"),),
    (("ni_number", "ni_number"),),
    (("ssn", "ssn"),),
    (("local_person_id", "local_person_id"),),
    (("birth_date", "birth_date"), ("family_soundex", "family_soundex")),
    (("birth_date", "birth_date"), ("given_soundex", "given_soundex")),
    (("birth_date", "birth_date"), ("postcode_sector", "postcode_sector")),
    (("birth_date", "birth_date"), ("postcode", "postcode")),
    # given and family names swapped (their tokens share one key)
    (("given_name", "family_name"), ("birth_date", "birth_date")),
    (("birth_date_swapped", "birth_date"), ("family_soundex", "family_soundex")),
    (("given_canonical", "given_canonical"), ("family_name", "family_name")),
    (
        ("given_soundex", "given_soundex"),
        ("family_soundex", "family_soundex"),
        ("birth_year", "birth_year"),
    ),
    (("postcode", "postcode"), ("given_soundex", "given_soundex")),
    (("postcode", "postcode"), ("family_soundex", "family_soundex")),
    # given and family names swapped where there is no birth date (an ambulance crew's
    # 'Patel Niall', a year-only or age-only record): exactly, and by their Soundex codes
    # (a typo in a swapped name) within the postcode sector
    (("given_name", "family_name"), ("family_name", "given_name"), ("postcode", "postcode")),
    (
        ("given_soundex", "family_soundex"),
        ("family_soundex", "given_soundex"),
        ("postcode_sector", "postcode_sector"),
    ),
)
# Records sharing one block key beyond this are not paired by that rule.
MAX_BLOCK = 400
# Tokens that narrow a rule over the pair budget, tried in this order (each on its own).
NARROWING = ("birth_year", "postcode_sector", "given_soundex", "family_soundex")


@dataclass
class BlockingReport:
    rules: list[str]
    pairs: int
    oversized_blocks: dict[str, int]
    # most pairs one rule may create, and every rule tried: name, pairs, used, note
    budget: int = 0
    choices: list[dict[str, Any]] = field(default_factory=list)


def rule_name(rule: Rule) -> str:
    return " & ".join(a if a == b else f"{a}~{b}" for a, b in rule)


def _keyed(records: str, rule: Rule, side: int) -> str:
    """The records holding every token of one side of ``rule``, as unique_id, k0, k1..."""
    cols = ", ".join(f"tok_{t[side]} AS k{i}" for i, t in enumerate(rule))
    not_null = " AND ".join(f"tok_{t[side]} IS NOT NULL" for t in rule)
    return f"SELECT unique_id, {cols} FROM {records} WHERE {not_null}"


def count_pairs(con: duckdb.DuckDBPyConnection, records: str, rule: Rule) -> int:
    """Pairs ``rule`` creates (blocks over :data:`MAX_BLOCK` left out, before pairs found by
    several rules are counted once): Splink's pre-filter count, on keyed tokens."""
    keys = ", ".join(f"k{i}" for i in range(len(rule)))
    left = f"SELECT {keys}, count(*) AS n FROM ({_keyed(records, rule, 0)}) GROUP BY ALL"
    if all(a == b for a, b in rule):
        sql = f"SELECT sum(n * (n - 1) / 2) FROM ({left}) WHERE n <= {MAX_BLOCK}"
    else:
        right = f"SELECT {keys}, count(*) AS n FROM ({_keyed(records, rule, 1)}) GROUP BY ALL"
        sql = f"""SELECT sum(l.n * r.n) FROM ({left}) l JOIN ({right}) r USING ({keys})
                  WHERE l.n <= {MAX_BLOCK}"""
    return int(scalar(con, sql) or 0)


def choose_rules(
    con: duckdb.DuckDBPyConnection, records: str, tokens: set[str], n_records: int
) -> tuple[list[Rule], list[dict[str, Any]], int]:
    """The rules to use (narrowed where over the budget), every rule's outcome, the budget."""
    budget = pair_budget(n_records)
    used: list[Rule] = []
    choices: list[dict[str, Any]] = []
    for rule in RULES:
        if not all(a in tokens and b in tokens for a, b in rule):
            continue
        pairs = count_pairs(con, records, rule)
        chosen, note = rule, ""
        if pairs > budget:
            note = f"{pairs:,} pairs over the budget of {budget:,}"
            for token in NARROWING:
                if token not in tokens or any(token in (a, b) for a, b in rule):
                    continue
                narrower = (*rule, (token, token))
                narrower_pairs = count_pairs(con, records, narrower)
                if narrower_pairs <= budget:
                    chosen, pairs = narrower, narrower_pairs
                    note += f": narrowed with {token}"
                    break
        ok = pairs <= budget
        choices.append(
            {
                "rule": rule_name(chosen),
                "pairs": pairs,
                "used": ok and pairs > 0,
                "note": note if ok else note + ": dropped (every narrowing over the budget too)",
            }
        )
        if ok and pairs > 0:
            used.append(chosen)
    return used, choices, budget


def candidate_pairs(
    con: duckdb.DuckDBPyConnection, records: str, tokens: set[str], n_records: int
) -> tuple[np.ndarray, np.ndarray, BlockingReport]:
    """(left, right) unique_id arrays of all candidate pairs (left < right), distinct."""
    selects: list[str] = []
    used: list[str] = []
    oversized: dict[str, int] = {}
    rules, choices, budget = choose_rules(con, records, tokens, n_records)
    for rule in rules:
        name = rule_name(rule)
        used.append(name)
        left_key = ", ".join(f"tok_{a}" for a, _ in rule)
        not_null = " AND ".join(f"tok_{a} IS NOT NULL" for a, _ in rule)
        not_null_r = " AND ".join(f"tok_{b} IS NOT NULL" for _, b in rule)
        big = con.execute(
            f"""SELECT count(*) FROM (SELECT 1 FROM {records} WHERE {not_null}
                GROUP BY {left_key} HAVING count(*) > {MAX_BLOCK})"""
        ).fetchall()[0][0]
        if big:
            oversized[name] = int(big)
        on = " AND ".join(f"a.k{i} = b.k{i}" for i in range(len(rule)))
        # a symmetric rule finds each pair from both ends: keep one
        order = "<" if all(a == b for a, b in rule) else "<>"
        left_cols = ", ".join(f"tok_{a} AS k{i}" for i, (a, _) in enumerate(rule))
        right_cols = ", ".join(f"tok_{b} AS k{i}" for i, (_, b) in enumerate(rule))
        keys = ", ".join(f"k{i}" for i in range(len(rule)))
        on_s = " AND ".join(f"a.k{i} = s.k{i}" for i in range(len(rule)))
        keyed_l = f"SELECT unique_id, {left_cols} FROM {records} WHERE {not_null}"
        keyed_r = f"SELECT unique_id, {right_cols} FROM {records} WHERE {not_null_r}"
        selects.append(
            f"""SELECT least(a.unique_id, b.unique_id) AS l, greatest(a.unique_id, b.unique_id) AS r
                FROM ({keyed_l}) a
                SEMI JOIN (SELECT {keys} FROM ({keyed_l}) GROUP BY ALL
                           HAVING count(*) <= {MAX_BLOCK}) s ON {on_s}
                JOIN ({keyed_r}) b ON {on} AND a.unique_id {order} b.unique_id"""
        )
    if not selects:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty, BlockingReport([], 0, {}, budget, choices)
    pairs = con.execute(
        f"""SELECT DISTINCT l::INTEGER AS l, r::INTEGER AS r
            FROM ({" UNION ALL ".join(selects)}) ORDER BY l, r"""
    ).fetchnumpy()
    # int32 halves the largest arrays of a run (tens of millions of pairs at a million
    # people); the Dice kernel widens each batch as it goes
    left = np.ascontiguousarray(pairs["l"], dtype=np.int32)
    right = np.ascontiguousarray(pairs["r"], dtype=np.int32)
    return left, right, BlockingReport(used, int(left.size), oversized, budget, choices)


def random_pairs(n: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random pairs of distinct records (for u: almost all are non-matches)."""
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n, size=count, dtype=np.int64)
    offset = rng.integers(1, max(n, 2), size=count, dtype=np.int64)
    right = (left + offset) % n
    return left.astype(np.int32), right.astype(np.int32)
