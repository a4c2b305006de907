"""Words of free text, for search and for comparing aims."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORD_TEXT = """
a an and are as at be by for from has have in into is it its of on or our that the their
them these this those to was were which who will with across all more people residents
services service
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def words(text: str) -> list[str]:
    """Lower-case words (letters and digits), in order, stopwords kept."""
    return [w.casefold() for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 2]


def _stem(word: str) -> str:
    # A light suffix strip so "hotspot"/"hotspots" and "linking"/"linked" meet.
    for suffix in ("ings", "ing", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def stems(text: str) -> list[str]:
    return [_stem(w) for w in content_words(text)]


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    left, right = set(a), set(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def tfidf_cosines(documents: Sequence[str]) -> list[list[float]]:
    """Pairwise cosine similarity of TF-IDF vectors of stemmed content words.

    Pure Python: a directory holds hundreds of projects, not millions.
    """
    bags = [Counter(stems(d)) for d in documents]
    n = len(bags)
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    idf = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items()}
    vectors = [{w: tf * idf[w] for w, tf in bag.items()} for bag in bags]
    norms = [math.sqrt(sum(v * v for v in vec.values())) for vec in vectors]
    result = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if norms[i] and norms[j]:
                small, large = sorted((vectors[i], vectors[j]), key=len)
                dot = sum(v * large.get(w, 0.0) for w, v in small.items())
                result[i][j] = result[j][i] = dot / (norms[i] * norms[j])
    return result
