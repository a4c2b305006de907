"""The few SQL functions whose names differ between DuckDB and Spark.

Comparison levels and contradiction checks are written once against this class, so the
same model runs on either engine (Spark gets string similarity from Splink's jar).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EngineName = Literal["duckdb", "spark"]


@dataclass(frozen=True)
class Dialect:
    name: EngineName

    def jaro_winkler(self, a: str, b: str) -> str:
        fn = "jaro_winkler_similarity" if self.name == "duckdb" else "jaro_winkler"
        return f"{fn}({a}, {b})"

    def damerau_levenshtein(self, a: str, b: str) -> str:
        return f"damerau_levenshtein({a}, {b})"

    def intersect_size(self, a: str, b: str) -> str:
        if self.name == "duckdb":
            return f"len(list_intersect({a}, {b}))"
        return f"size(array_intersect({a}, {b}))"

    def union_size(self, a: str, b: str) -> str:
        if self.name == "duckdb":
            return f"len(list_distinct(list_concat({a}, {b})))"
        return f"size(array_union({a}, {b}))"

    def first_word(self, s: str) -> str:
        if self.name == "duckdb":
            return f"split_part({s}, ' ', 1)"
        return f"substring_index({s}, ' ', 1)"

    def token_jaccard(self, a: str, b: str) -> str:
        return f"({self.intersect_size(a, b)} / {self.union_size(a, b)})"
