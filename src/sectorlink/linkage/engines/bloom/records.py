"""The encoded records as arrays: filters as packed 64-bit words, tokens as integer codes.

What the bloom engine compares: per candidate pair, the Dice coefficient of each
Bloom-filter field (the compiled kernel, :mod:`sectorlink.pprl.dice`) and the agreement
of keyed tokens, turned into comparison levels; and the term-frequency adjustment of exact
agreement, from how often each keyed token value occurs.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from sectorlink.linkage.engines.bloom.comparisons import Comparison, levels
from sectorlink.linkage.engines.bloom.scoring import FellegiSunter
from sectorlink.linkage.sqlutil import scalar
from sectorlink.pprl import dice
from sectorlink.pprl.load import ENCODED_TABLE

# Filters the contradiction rules read in SQL (kept in the working copy of the records).
CONTRADICTION_FILTERS = ("bf_given_name", "bf_local_person_id", "bf_birth_year", "bf_birth_date")
# The working copy of the records in the warehouse connection (temporary).
RECORDS = "sl_enc"
# Pairs scored per batch (bounds the memory of Dice and level arrays).
BATCH = 2_000_000


# Checks across name fields (their tokens share one key): a given name found as the
# other record's middle or family name, and given and family names swapped.
CROSS_TOKENS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "given_cross": (("given_canonical", "given_name"), ("middle_first", "family_name")),
    "name_swap": (("given_canonical", "given_name"), ("family_name",)),
}


class EncodedRecords:
    """The encoded records, with filters as packed words and tokens as integer codes."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        columns = [r[0] for r in con.execute(f"DESCRIBE {ENCODED_TABLE}").fetchall()]
        present = con.execute(
            "SELECT "
            + ", ".join(f'count("{c}")' for c in columns if c.startswith(("bf_", "tok_")))
            + f" FROM {ENCODED_TABLE}"
        ).fetchall()[0]
        names = [c for c in columns if c.startswith(("bf_", "tok_"))]
        have = {name for name, n in zip(names, present, strict=True) if n}
        self.n = int(scalar(con, f"SELECT count(*) FROM {RECORDS}") or 0)
        self.filters: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in sorted(c for c in have if c.startswith("bf_")):
            array = (
                # the order of unique_id (see _link), read from the loaded table so the
                # temporary copy of the records need not hold every filter
                con.sql(f"SELECT {name} FROM {ENCODED_TABLE} ORDER BY source, record_id")
                .to_arrow_table()
                .column(0)
                .combine_chunks()
            )
            width = _byte_width(con, name)
            words, _ = dice.as_words(array.cast(pa.binary(width)))
            self.filters[name[3:]] = (words, dice.popcounts(words))
        self.tokens = {c[4:] for c in have if c.startswith("tok_")}
        self.codes = _token_codes(con, self.tokens)

    def dice(self, field: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        words, pops = self.filters[field]
        return np.asarray(dice.dice_pairs(words, words, left, right, pops, pops), dtype=np.float32)

    def frequency(self, token: str) -> np.ndarray:
        """Per record, the share of records (holding the token) with the same value."""
        codes = self.codes[token]
        known = codes >= 0
        _, inverse, counts = np.unique(codes[known], return_inverse=True, return_counts=True)
        out = np.ones(codes.size, dtype=np.float64)
        out[known] = counts[inverse.reshape(-1)] / max(int(known.sum()), 1)
        return out

    def has(self, token: str) -> bool:
        """Whether ``same`` can answer for ``token`` (a keyed token or a cross-name check)."""
        if token in CROSS_TOKENS:
            givens, others = CROSS_TOKENS[token]
            return givens[0] in self.tokens and any(o in self.tokens for o in others)
        return token in self.tokens

    def _equal(self, a: str, b: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Token ``a`` of the left record equals token ``b`` of the right (same key group)."""
        x, y = self.codes.get(a), self.codes.get(b)
        if x is None or y is None:
            return np.zeros(left.size, dtype=bool)
        return np.asarray((x[left] == y[right]) & (x[left] >= 0))

    def same(self, token: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """1 equal, 0 different, -1 either missing; the swapped birth date matches either way,
        and the cross-name checks look for a name in another name field of the other record."""
        if token in CROSS_TOKENS:
            givens, others = CROSS_TOKENS[token]
            hit = np.zeros(left.size, dtype=bool)
            for given in givens:
                for other in others:
                    hit |= self._equal(given, other, left, right)
                    hit |= self._equal(other, given, left, right)
            cross: np.ndarray = hit.astype(np.int8)
            codes = self.codes[givens[0]]
            cross[(codes[left] < 0) | (codes[right] < 0)] = -1
            return cross
        if token == "birth_date_swapped":
            date, swapped = self.codes["birth_date"], self.codes["birth_date_swapped"]
            one = (swapped[left] == date[right]) & (swapped[left] >= 0)
            other = (date[left] == swapped[right]) & (swapped[right] >= 0)
            out: np.ndarray = (one | other).astype(np.int8)
            out[(date[left] < 0) | (date[right] < 0)] = -1
            return out
        codes = self.codes[token]
        a, b = codes[left], codes[right]
        same: np.ndarray = (a == b).astype(np.int8)
        same[(a < 0) | (b < 0)] = -1
        return same


def record_columns(con: duckdb.DuckDBPyConnection) -> str:
    """Columns of the working copy of the records: keys, tokens, and the filters the
    clustering's contradiction rules read (the others are read once, into arrays)."""
    names = [r[0] for r in con.execute(f"DESCRIBE {ENCODED_TABLE}").fetchall()]
    keep = [
        n
        for n in names
        if n in ("source", "record_id", *CONTRADICTION_FILTERS) or n.startswith("tok_")
    ]
    return ", ".join(f'"{n}"' for n in keep)


def _byte_width(con: duckdb.DuckDBPyConnection, column: str) -> int:
    return int(scalar(con, f"SELECT max(octet_length({column})) FROM {ENCODED_TABLE}") or 8)


def _token_codes(con: duckdb.DuckDBPyConnection, tokens: set[str]) -> dict[str, np.ndarray]:
    """Each token column as an integer (-1 for missing), in unique_id order.

    A keyed token is already a uniform random hex string: its first 60 bits serve as its
    code (a collision among a few million records has odds below one in 10^5), and
    tokens sharing a key, such as a date and a swapped date, stay comparable.
    """
    if not tokens:
        return {}
    names = sorted(tokens)
    select = ", ".join(
        f"coalesce(('0x' || substr(tok_{t}, 1, 15))::BIGINT, -1) AS {t}" for t in names
    )
    got = con.execute(f"SELECT {select} FROM {RECORDS} ORDER BY unique_id").fetchnumpy()
    return {t: np.ascontiguousarray(got[t], dtype=np.int64) for t in names}


def comparison_levels(
    records: EncodedRecords,
    comparisons: list[Comparison],
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """(pairs, comparisons) int8 levels, computed in batches."""
    out = np.empty((left.size, len(comparisons)), dtype=np.int8)
    for start in range(0, left.size, BATCH):
        lb, rb = left[start : start + BATCH], right[start : start + BATCH]
        dices = {f: records.dice(f, lb, rb) for f in {f for c in comparisons for f in c.filters}}
        sames = {
            t: records.same(t, lb, rb)
            for t in {t for c in comparisons for t in c.tokens}
            if records.has(t)
        }
        for k, c in enumerate(comparisons):
            out[start : start + BATCH, k] = levels(c, dices, sames)
    return out


def tf_adjustment(
    records: EncodedRecords,
    model: FellegiSunter,
    gamma: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """Term-frequency adjustment of exact agreement, as Splink does it: at the top level
    the level's average u is replaced by the frequency of the value the two records
    share (the larger of the two sides' frequencies, for robustness)."""
    adjust = np.zeros(left.size)
    for k, c in enumerate(model.comparisons):
        if c.tf_token is None or c.tf_token not in records.tokens:
            continue
        top = c.levels - 1
        at_top = gamma[:, k] == top
        if not at_top.any():
            continue
        freq = records.frequency(c.tf_token)
        shared = np.maximum(freq[left[at_top]], freq[right[at_top]])
        adjust[at_top] = np.log2(model.u[k][top] / np.clip(shared, 1e-9, 1.0))
    return adjust
