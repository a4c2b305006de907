"""Candidate pairs from keyed tokens: the hub blocks without seeing any value.

Two records are compared when they share all the keyed tokens of at least one rule.
A rule is used only when the encodings hold its tokens. Very large blocks (one token value
shared by thousands of records, such as a default date) are left out of that rule and
reported, so comparisons stay bounded; the other rules still reach those records.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

# Each rule: tokens the two records must share. (left token, right token) pairs compare
# a token of one record with a different token of the other under the same key.
RULES: tuple[tuple[tuple[str, str], ...], ...] = (
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
)
# Records sharing one block key beyond this are not paired by that rule.
MAX_BLOCK = 400


@dataclass
class BlockingReport:
    rules: list[str]
    pairs: int
    oversized_blocks: dict[str, int]


def rule_name(rule: tuple[tuple[str, str], ...]) -> str:
    return " & ".join(a if a == b else f"{a}~{b}" for a, b in rule)


def candidate_pairs(
    con: duckdb.DuckDBPyConnection, records: str, tokens: set[str]
) -> tuple[np.ndarray, np.ndarray, BlockingReport]:
    """(left, right) unique_id arrays of all candidate pairs (left < right), distinct."""
    selects: list[str] = []
    used: list[str] = []
    oversized: dict[str, int] = {}
    for rule in RULES:
        if not all(a in tokens and b in tokens for a, b in rule):
            continue
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
        return empty, empty, BlockingReport([], 0, {})
    pairs = con.execute(
        f"""SELECT DISTINCT l::INTEGER AS l, r::INTEGER AS r
            FROM ({" UNION ALL ".join(selects)}) ORDER BY l, r"""
    ).fetchnumpy()
    # int32 halves the largest arrays of a run (tens of millions of pairs at a million
    # people); the Dice kernel widens each batch as it goes
    left = np.ascontiguousarray(pairs["l"], dtype=np.int32)
    right = np.ascontiguousarray(pairs["r"], dtype=np.int32)
    return left, right, BlockingReport(used, int(left.size), oversized)


def random_pairs(n: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random pairs of distinct records (for u: almost all are non-matches)."""
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n, size=count, dtype=np.int64)
    offset = rng.integers(1, max(n, 2), size=count, dtype=np.int64)
    right = (left + offset) % n
    return left.astype(np.int32), right.astype(np.int32)
