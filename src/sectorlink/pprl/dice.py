"""Dice coefficients on Bloom filters packed in 64-bit words, in a compiled kernel.

A filter of ``bits`` bits is ``bits // 64`` little-endian ``uint64`` words: bit ``i`` is bit
``i % 64`` of word ``i // 64`` (the layout of a Parquet ``FIXED_SIZE_BINARY(bits / 8)``
value read as words on a little-endian machine, so :func:`as_words` needs no copy). The
Dice coefficient of filters A and B is ``2|A∧B| / (|A| + |B|)``; it is NaN when either
filter is empty, because an empty filter (a missing identifier) says nothing about
similarity and must not read as "completely different".

The kernels are numba functions that popcount with the CPU's ``popcnt`` instruction (or a
vector popcount where LLVM can use one) through LLVM's ``ctpop`` intrinsic, run on all of
numba's threads and release the GIL. They compile on first use and are cached beside the
module (``__pycache__``), so only the first process on a machine pays the compile time.
With ``NUMBA_DISABLE_JIT=1`` the same code runs as plain (slow) Python, which is how the
tests check the semantics independently of the compiler.

>>> import numpy as np
>>> a = np.array([[0b1111]], dtype=np.uint64)
>>> b = np.array([[0b0011], [0]], dtype=np.uint64)
>>> print(dice_pairs(a, b, np.array([0, 0]), np.array([0, 1])))  # 2*2/(4+2); empty
[0.6666667       nan]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from numba import config, njit, prange, types
from numba.extending import intrinsic

__all__ = ["as_words", "dice_all_pairs", "dice_pairs", "popcounts"]

Words = npt.NDArray[np.uint64]
Pops = npt.NDArray[np.uint32]
Indices = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]

# fastmath without "nnan"/"ninf": NaN is a result these kernels return on purpose, and
# under nnan LLVM may fold a select of NaN away. The other flags are harmless here.
_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

# Candidate buffers for dice_all_pairs hold one (row, b) cell per pair of a block of rows;
# this caps them (int32 + int32 per cell) so memory stays bounded whatever the sizes.
_BLOCK_CELLS = 8_000_000


if config.DISABLE_JIT:  # type: ignore[attr-defined]

    def _popcount64(x: Any) -> int:
        return int(x).bit_count()

else:

    @intrinsic
    def _popcount64(typingctx: Any, x: Any) -> Any:
        """LLVM ``ctpop`` on a uint64: the ``popcnt`` instruction on x86-64 (host CPU)."""
        if x not in (types.uint64, types.int64):
            return None
        sig = types.uint64(x)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.ctpop(args[0])

        return sig, codegen


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def _popcounts_kernel(words: Any, out: Any) -> None:
    n, nw = words.shape
    for i in prange(n):
        c = np.uint64(0)
        for w in range(nw):
            c += _popcount64(words[i, w])
        out[i] = c


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def _dice_pairs_kernel(
    a: Any, b: Any, left: Any, right: Any, a_pop: Any, b_pop: Any, out: Any
) -> None:
    nw = a.shape[1]
    for k in prange(left.shape[0]):
        i = left[k]
        j = right[k]
        pa = np.int64(a_pop[i])
        pb = np.int64(b_pop[j])
        c = np.uint64(0)
        for w in range(nw):
            c += _popcount64(a[i, w] & b[j, w])
        if pa == 0 or pb == 0:
            out[k] = np.float32(np.nan)
        else:
            out[k] = np.float32(2.0 * np.float64(c) / np.float64(pa + pb))


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def _all_pairs_block(
    a: Any,
    a_pop: Any,
    row0: Any,
    b: Any,
    b_pop: Any,
    lo: Any,
    hi: Any,
    cmin: Any,
    cand_j: Any,
    cand_c: Any,
    counts: Any,
) -> None:
    """Rows ``row0 + r`` of a against b[lo[r]:hi[r]] (b sorted by popcount).

    Each row keeps its qualifying (b position, overlap) pairs at the front of its row of
    the candidate buffers. The write happens on every pair and only the count moves on a
    hit, so the inner loop has no unpredictable branch.
    """
    nw = a.shape[1]
    for r in prange(counts.shape[0]):
        i = row0 + r
        pa = np.int64(a_pop[i])
        cnt = 0
        for j in range(lo[r], hi[r]):
            c = np.uint64(0)
            for w in range(nw):
                c += _popcount64(a[i, w] & b[j, w])
            cand_j[r, cnt] = j
            cand_c[r, cnt] = c
            cnt += np.int64(c) >= cmin[pa + np.int64(b_pop[j])]
        counts[r] = cnt


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def _compact_block(
    row0: Any,
    a_pop: Any,
    b_pop_sorted: Any,
    order: Any,
    cand_j: Any,
    cand_c: Any,
    counts: Any,
    offsets: Any,
    left: Any,
    right: Any,
    score: Any,
) -> None:
    """Copy each row's hits to its slice of the output, ordered by b's original index."""
    for r in prange(counts.shape[0]):
        n = counts[r]
        if n == 0:
            continue
        i = row0 + r
        pa = np.float64(a_pop[i])
        orig = np.empty(n, dtype=np.int64)
        for k in range(n):
            orig[k] = order[cand_j[r, k]]
        perm = np.argsort(orig)
        base = offsets[r]
        for k in range(n):
            src = perm[k]
            pos = cand_j[r, src]
            left[base + k] = i
            right[base + k] = orig[src]
            score[base + k] = np.float32(
                2.0 * np.float64(cand_c[r, src]) / (pa + np.float64(b_pop_sorted[pos]))
            )


def as_words(column: pa.Array | pa.ChunkedArray) -> tuple[Words, npt.NDArray[np.bool_]]:
    """Read a nullable ``FIXED_SIZE_BINARY`` column of filters as packed words.

    Returns ``(words, present)``: ``words`` is a C-contiguous ``uint64`` array of shape
    ``(n, bits // 64)`` and ``present`` a bool mask of the non-null rows. Null rows are
    all-zero words (so their Dice is NaN). Without nulls the words are a read-only view of
    the Arrow buffer (no copy); with nulls they are a copy with the null slots cleared,
    because Arrow leaves whatever bytes it likes under a null.
    """
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            column = column.chunk(0)
        elif column.num_chunks == 0:
            column = pa.array([], type=column.type)
        else:
            column = column.combine_chunks()
    if not pa.types.is_fixed_size_binary(column.type):
        raise TypeError(f"expected a fixed_size_binary column of filters, got {column.type}")
    width = column.type.byte_width
    if width == 0 or width % 8:
        raise ValueError(f"filter length must be a positive multiple of 64 bits, got {width} bytes")
    n = len(column)
    nw = width // 8
    data = column.buffers()[1]
    present = np.ones(n, dtype=np.bool_)
    if n == 0 or data is None:
        return np.zeros((n, nw), dtype=np.uint64), np.zeros(n, dtype=np.bool_)
    raw = np.frombuffer(data, dtype=np.uint8, count=n * width, offset=column.offset * width)
    words = raw.view("<u8").reshape(n, nw)
    if words.dtype != np.dtype(np.uint64) or not words.flags.aligned:
        # A big-endian host or an unaligned buffer: one copy into native words.
        words = np.ascontiguousarray(words, dtype=np.uint64)
    if column.null_count:
        present = column.is_valid().to_numpy(zero_copy_only=False)
        words = words.copy()
        words[~present] = 0
    return words, present


def _check_words(words: npt.ArrayLike, name: str) -> Words:
    arr = np.ascontiguousarray(words)
    if arr.dtype != np.uint64 or arr.ndim != 2:
        raise TypeError(f"{name} must be a 2-D uint64 array of packed filters")
    return arr


def _check_pop(pop: npt.ArrayLike | None, words: Words, name: str) -> Pops:
    if pop is None:
        return popcounts(words)
    arr = np.ascontiguousarray(pop, dtype=np.uint32)
    if arr.shape != (words.shape[0],):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({words.shape[0]},)")
    return arr


def popcounts(words: Words) -> Pops:
    """Number of set bits of each filter (row of ``words``), as uint32."""
    arr = _check_words(words, "words")
    out = np.empty(arr.shape[0], dtype=np.uint32)
    _popcounts_kernel(arr, out)
    return out


def dice_pairs(
    a_words: Words,
    b_words: Words,
    left: npt.ArrayLike,
    right: npt.ArrayLike,
    a_pop: Pops | None = None,
    b_pop: Pops | None = None,
) -> Scores:
    """Dice coefficient of ``a_words[left[k]]`` and ``b_words[right[k]]`` for every k.

    ``a_pop``/``b_pop`` are the filters' popcounts if already known (saves recounting
    when the same filters are compared in several batches). NaN where either filter is
    empty. Indices are checked against the array sizes once, up front, so the kernel can
    run without bounds checks.
    """
    a = _check_words(a_words, "a_words")
    b = _check_words(b_words, "b_words")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"filter lengths differ: {a.shape[1]} and {b.shape[1]} words")
    li = np.ascontiguousarray(left, dtype=np.int64)
    ri = np.ascontiguousarray(right, dtype=np.int64)
    if li.ndim != 1 or li.shape != ri.shape:
        raise ValueError("left and right must be 1-D arrays of the same length")
    for idx, size, name in ((li, a.shape[0], "left"), (ri, b.shape[0], "right")):
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
            raise IndexError(f"{name} holds an index outside 0..{size - 1}")
    ap = _check_pop(a_pop, a, "a_pop")
    bp = _check_pop(b_pop, b, "b_pop")
    out = np.empty(li.shape[0], dtype=np.float32)
    _dice_pairs_kernel(a, b, li, ri, ap, bp, out)
    return out


def _min_overlap(threshold: float, bits: int) -> npt.NDArray[np.int64]:
    """``cmin[s]``: the least overlap c with ``2c / s >= threshold`` (float64), for each s.

    Deciding in integers against this table makes the kernel's accept test exact and
    identical to a float64 comparison, whatever fastmath does to divisions.
    """
    s = np.arange(2 * bits + 1, dtype=np.float64)
    never = np.int64(bits + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.maximum(np.floor(threshold * s / 2.0) - 2.0, 0.0)
        for _ in range(6):
            c = np.where(2.0 * c / s < threshold, c + 1.0, c)
    cmin = np.where(2.0 * c / np.maximum(s, 1.0) >= threshold, c, float(never)).astype(np.int64)
    cmin[0] = never
    return cmin


def _pop_bounds(
    a_pop: Pops, threshold: float, bits: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Popcounts pb of b that a filter of popcount pa can reach the threshold with.

    Dice is at most ``2 min(pa, pb) / (pa + pb)``, which is at least t only for
    ``t pa / (2 - t) <= pb <= pa (2 - t) / t``. The bounds are widened by one so rounding
    can only keep a pair, never drop one; the exact test is the kernel's.
    """
    pa_f = a_pop.astype(np.float64)
    if threshold <= 0.0:
        low = np.ones_like(pa_f)
        high = np.full_like(pa_f, bits)
    else:
        low = np.maximum(np.floor(threshold * pa_f / (2.0 - threshold)) - 1.0, 1.0)
        high = np.minimum(np.ceil(pa_f * (2.0 - threshold) / threshold) + 1.0, bits)
    # An empty filter of a reaches nothing (its Dice is NaN): an empty range.
    high[pa_f == 0] = 0.0
    return low.astype(np.int64), high.astype(np.int64)


def dice_all_pairs(
    a_words: Words,
    b_words: Words,
    threshold: float,
    a_pop: Pops | None = None,
    b_pop: Pops | None = None,
) -> tuple[Indices, Indices, Scores]:
    """All pairs (i, j) of a × b with Dice >= ``threshold``.

    Returns ``(left, right, score)`` ordered by left, then right. The test is exact in
    float64 (``2c / (|A| + |B|) >= threshold``); scores are float32. Pairs with an empty
    filter (NaN) are never returned. b is sorted by popcount once so each row of a only
    visits the b filters whose popcount can reach the threshold.
    """
    a = _check_words(a_words, "a_words")
    b = _check_words(b_words, "b_words")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"filter lengths differ: {a.shape[1]} and {b.shape[1]} words")
    ap = _check_pop(a_pop, a, "a_pop")
    bp = _check_pop(b_pop, b, "b_pop")
    bits = a.shape[1] * 64
    threshold = float(threshold)
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    if a.shape[0] == 0 or b.shape[0] == 0 or np.isnan(threshold) or threshold > 1.0:
        return empty

    order = np.argsort(bp, kind="stable").astype(np.int64)
    b_sorted = b[order]
    bp_sorted = np.ascontiguousarray(bp[order])
    low, high = _pop_bounds(ap, threshold, bits)
    lo_all = np.searchsorted(bp_sorted, low, side="left").astype(np.int64)
    hi_all = np.searchsorted(bp_sorted, high, side="right").astype(np.int64)
    cmin = _min_overlap(threshold, bits)

    width = max(int((hi_all - lo_all).max(initial=0)), 1)
    block = max(1, min(a.shape[0], _BLOCK_CELLS // width))
    cand_j = np.empty((block, width), dtype=np.int32)
    cand_c = np.empty((block, width), dtype=np.int32)
    lefts: list[Indices] = []
    rights: list[Indices] = []
    scores: list[Scores] = []
    for row0 in range(0, a.shape[0], block):
        rows = min(block, a.shape[0] - row0)
        counts = np.empty(rows, dtype=np.int64)
        _all_pairs_block(
            a,
            ap,
            row0,
            b_sorted,
            bp_sorted,
            lo_all[row0 : row0 + rows],
            hi_all[row0 : row0 + rows],
            cmin,
            cand_j,
            cand_c,
            counts,
        )
        total = int(counts.sum())
        if total == 0:
            continue
        offsets = np.zeros(rows, dtype=np.int64)
        np.cumsum(counts[:-1], out=offsets[1:])
        left = np.empty(total, dtype=np.int64)
        right = np.empty(total, dtype=np.int64)
        score = np.empty(total, dtype=np.float32)
        _compact_block(
            row0, ap, bp_sorted, order, cand_j, cand_c, counts, offsets, left, right, score
        )
        lefts.append(left)
        rights.append(right)
        scores.append(score)
    if not lefts:
        return empty
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(scores)
