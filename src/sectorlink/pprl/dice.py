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
from llvmlite import ir
from numba import config, get_num_threads, njit, prange, types
from numba.extending import intrinsic

__all__ = ["as_words", "dice_all_pairs", "dice_pairs", "popcounts"]

Words = npt.NDArray[np.uint64]
Pops = npt.NDArray[np.uint32]
Indices = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]

# fastmath without "nnan"/"ninf": NaN is a result these kernels return on purpose, and
# under nnan LLVM may fold a select of NaN away. The other flags are harmless here.
_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

# dice_all_pairs keeps up to _HITS hits per row of a in a fixed buffer, for up to
# _CALL_GROUPS groups of rows per parallel call: few calls (each a barrier, costly on a
# loaded machine) and bounded memory. Rows with more hits are redone with a buffer as wide
# as their range of b, at most _BLOCK_CELLS cells (int32 + int32 each) at a time.
_HITS = 64
_CALL_GROUPS = 8_192
_BLOCK_CELLS = 8_000_000


if config.DISABLE_JIT:  # type: ignore[attr-defined]

    def _popcount64(x: Any) -> int:
        return int(x).bit_count()

    def _prefetch(address: Any) -> None:
        pass

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

    @intrinsic
    def _prefetch(typingctx: Any, address: Any) -> Any:
        """LLVM ``prefetch`` (read, keep in all cache levels) of the byte at ``address``."""
        if not isinstance(address, types.Integer):
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            i32 = ir.IntType(32)
            i8p = ir.IntType(8).as_pointer()
            fnty = ir.FunctionType(ir.VoidType(), (i8p, i32, i32, i32))
            fn = builder.module.declare_intrinsic("llvm.prefetch", fnty=fnty)
            ptr = builder.inttoptr(args[0], i8p)
            builder.call(fn, (ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)))
            return context.get_dummy_value()

        return types.void(types.uintp), codegen


# How many pairs ahead dice_pairs asks for the filters it will need: candidate pairs
# reach rows of a and b in no cache-friendly order, and without prefetching each pair
# waits on two cache misses (measured: ~1.3-2x more pairs per second with it).
_PREFETCH_AHEAD = 16


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
    row_bytes = nw * 8
    a_base = a.ctypes.data
    b_base = b.ctypes.data
    n = left.shape[0]
    for k in prange(n):
        if k + _PREFETCH_AHEAD < n:
            next_a = a_base + left[k + _PREFETCH_AHEAD] * row_bytes
            next_b = b_base + right[k + _PREFETCH_AHEAD] * row_bytes
            for line in range(0, row_bytes, 64):
                _prefetch(next_a + line)
                _prefetch(next_b + line)
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


# dice_all_pairs works on R rows of a at a time against B filters of b at a time: each
# word of b loaded is ANDed with R words of a, and the B overlaps per row accumulate in a
# small buffer that stays in L1 while LLVM vectorises the loop over b (vpopcntq where the
# CPU has it). b is transposed (word-major) so that loop reads contiguous memory.
_ROWS = 4
_COLS = 1024


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def _all_pairs_groups(
    a: Any,
    a_pop: Any,
    groups: Any,
    bt: Any,
    b_pop: Any,
    lo: Any,
    hi: Any,
    threshold: Any,
    cmin: Any,
    cand_j: Any,
    cand_c: Any,
    counts: Any,
) -> None:
    """Groups of ``_ROWS`` rows of a (sorted by popcount) against b (sorted, transposed).

    Iteration k takes group ``g = groups[k]``: rows ``g * _ROWS + r`` of a against b
    positions ``lo[g]:hi[g]``, into rows ``k * _ROWS + r`` of the outputs. A cheap float
    test (slightly loose) finds the blocks of b with a possible hit; only those get the
    exact integer test. Hits beyond the buffer's width are counted but not stored, so the
    caller can see which rows to redo with a wider buffer.
    """
    nw = bt.shape[0]
    cap = cand_j.shape[1]
    for k in prange(groups.shape[0]):
        g = groups[k]
        acc = np.empty((_ROWS, _COLS), dtype=np.uint64)
        arow = np.empty(_ROWS, dtype=np.uint64)
        cnt = np.zeros(_ROWS, dtype=np.int64)
        i0 = g * _ROWS
        for j0 in range(lo[g], hi[g], _COLS):
            jb = min(_COLS, hi[g] - j0)
            pops = b_pop[j0 : j0 + jb]
            acc[:, :jb] = 0
            for w in range(nw):
                for r in range(_ROWS):
                    arow[r] = a[i0 + r, w]
                col = bt[w, j0 : j0 + jb]
                for jj in range(jb):
                    x = col[jj]
                    for r in range(_ROWS):
                        acc[r, jj] += _popcount64(arow[r] & x)
            for r in range(_ROWS):
                pa = np.int64(a_pop[i0 + r])
                if pa == 0:
                    continue
                paf = np.float64(pa)
                hits = 0
                for jj in range(jb):
                    hits += (
                        2.0 * np.float64(acc[r, jj]) - threshold * (paf + np.float64(pops[jj]))
                        >= -1e-6
                    )
                if hits == 0:
                    continue
                n = cnt[r]
                out = k * _ROWS + r
                for jj in range(jb):
                    c = np.int64(acc[r, jj])
                    if c >= cmin[pa + np.int64(pops[jj])]:
                        if n < cap:
                            cand_j[out, n] = j0 + jj
                            cand_c[out, n] = c
                        n += 1
                cnt[r] = n
        for r in range(_ROWS):
            counts[k * _ROWS + r] = cnt[r]


@njit(parallel=True, nogil=True, cache=True, fastmath=_FASTMATH)
def _compact_groups(
    groups: Any,
    a_pop: Any,
    a_order: Any,
    b_pop: Any,
    b_order: Any,
    cand_j: Any,
    cand_c: Any,
    counts: Any,
    offsets: Any,
    left: Any,
    right: Any,
    score: Any,
) -> None:
    """Copy each output row's hits to its slice of the result, in original indices."""
    for out in prange(counts.shape[0]):
        row = groups[out // _ROWS] * _ROWS + out % _ROWS
        base = offsets[out]
        pa = np.float64(a_pop[row])
        orig = a_order[row]
        for k in range(counts[out]):
            pos = cand_j[out, k]
            left[base + k] = orig
            right[base + k] = b_order[pos]
            score[base + k] = np.float32(
                2.0 * np.float64(cand_c[out, k]) / (pa + np.float64(b_pop[pos]))
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
    elif not words.flags.owndata:
        # A view of Arrow's buffer, which other arrays may share: never to be written.
        words.flags.writeable = False
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
    filter (NaN) are never returned. a and b are sorted by popcount once, so each group of
    rows of a only visits the b filters whose popcount can reach the threshold.
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

    # Pad a to whole groups with empty filters, which never match.
    n_a = a.shape[0]
    padded = -(-n_a // _ROWS) * _ROWS
    a_order = np.argsort(ap, kind="stable").astype(np.int64)
    a_sorted = np.zeros((padded, a.shape[1]), dtype=np.uint64)
    a_sorted[padded - n_a :] = a[a_order]
    ap_sorted = np.zeros(padded, dtype=np.uint32)
    ap_sorted[padded - n_a :] = ap[a_order]
    a_order = np.concatenate([np.full(padded - n_a, -1, np.int64), a_order])

    b_order = np.argsort(bp, kind="stable").astype(np.int64)
    bt = np.ascontiguousarray(b[b_order].T)
    bp_sorted = np.ascontiguousarray(bp[b_order])

    # Popcount bounds of each group: the union of its rows' ranges, which are monotone
    # in the (sorted) popcount, so the first row's low and the last row's high.
    low, high = _pop_bounds(ap_sorted, threshold, bits)
    first = np.arange(0, padded, _ROWS)
    lo = np.searchsorted(bp_sorted, low[first], side="left").astype(np.int64)
    hi = np.searchsorted(bp_sorted, high[first + _ROWS - 1], side="right").astype(np.int64)
    hi = np.maximum(hi, lo)
    cmin = _min_overlap(threshold, bits)

    lefts: list[Indices] = []
    rights: list[Indices] = []
    scores: list[Scores] = []

    def run(groups: Indices, cap: int, keep_overflow: bool) -> Indices:
        """Score ``groups``; collect rows that fit ``cap``; return groups that did not."""
        cand_j = np.empty((groups.size * _ROWS, cap), dtype=np.int32)
        cand_c = np.empty((groups.size * _ROWS, cap), dtype=np.int32)
        counts = np.empty(groups.size * _ROWS, dtype=np.int64)
        args = (bt, bp_sorted, lo, hi, threshold, cmin, cand_j, cand_c, counts)
        _all_pairs_groups(a_sorted, ap_sorted, groups, *args)
        over = (counts > cap).reshape(-1, _ROWS).any(axis=1)
        if keep_overflow and over.any():
            counts.reshape(-1, _ROWS)[over] = 0
        total = int(counts.sum())
        if total:
            offsets = np.zeros(counts.size, dtype=np.int64)
            np.cumsum(counts[:-1], out=offsets[1:])
            left = np.empty(total, dtype=np.int64)
            right = np.empty(total, dtype=np.int64)
            score = np.empty(total, dtype=np.float32)
            _compact_groups(
                groups,
                ap_sorted,
                a_order,
                bp_sorted,
                b_order,
                cand_j,
                cand_c,
                counts,
                offsets,
                left,
                right,
                score,
            )
            lefts.append(left)
            rights.append(right)
            scores.append(score)
        return groups[over] if keep_overflow else groups[:0]

    # prange hands each thread one contiguous share of a call's groups; interleave the
    # groups of each call so every share mixes low and high popcounts (narrow and wide
    # ranges of b) instead of one thread getting all the wide ones.
    n_groups = padded // _ROWS
    threads = max(1, get_num_threads())
    overflow = []
    for k in range(0, n_groups, _CALL_GROUPS):
        groups = np.arange(k, min(k + _CALL_GROUPS, n_groups), dtype=np.int64)
        groups = groups[np.argsort(np.arange(groups.size) % threads, kind="stable")]
        overflow.append(run(groups, _HITS, True))
    redo = np.concatenate(overflow)
    if redo.size:
        width = max(int((hi[redo] - lo[redo]).max()), 1)
        step = max(1, _BLOCK_CELLS // (width * _ROWS))
        for k in range(0, redo.size, step):
            run(redo[k : k + step], width, False)
    if not lefts:
        return empty
    left, right, score = np.concatenate(lefts), np.concatenate(rights), np.concatenate(scores)
    order = np.argsort(left * np.int64(b.shape[0]) + right, kind="stable")
    return left[order], right[order], score[order]
