"""The compiled Dice kernel against a plain numpy reference on random filters.

The same tests run with the JIT on (the compiled kernel) and, through one subprocess
test, with ``NUMBA_DISABLE_JIT=1`` (the kernel's source as plain Python), so a compiler
quirk and a logic error cannot hide each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest

from sectorlink.pprl import dice
from sectorlink.pprl.dice import as_words, dice_all_pairs, dice_pairs, popcounts

Words = npt.NDArray[np.uint64]


def random_filters(rng: np.random.Generator, n: int, words: int, empty: int = 0) -> Words:
    """Filters with a spread of densities (sparse ones make exact ties such as 0.8)."""
    density = rng.uniform(0.02, 0.45, size=(n, 1))
    bits = rng.random((n, words * 64)) < density
    bits[np.arange(n), rng.integers(0, words * 64, size=n)] = True  # empty only on purpose
    bits[rng.choice(n, size=empty, replace=False)] = False
    packed = np.packbits(bits, axis=1, bitorder="little")
    return np.ascontiguousarray(packed.view("<u8").astype(np.uint64))


def bit_matrix(words: Words) -> npt.NDArray[np.bool_]:
    return np.unpackbits(words.view(np.uint8), axis=1, bitorder="little").astype(bool)


def reference_dice(a: Words, b: Words) -> npt.NDArray[np.float64]:
    """n_a × n_b Dice in float64 from the unpacked bits; NaN where a filter is empty."""
    abits = bit_matrix(a).astype(np.int64)
    bbits = bit_matrix(b).astype(np.int64)
    overlap = abits @ bbits.T
    pa_ = abits.sum(axis=1)[:, None]
    pb_ = bbits.sum(axis=1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        dice = 2.0 * overlap / (pa_ + pb_)
    dice[(pa_ == 0) | (pb_ == 0)] = np.nan
    return dice


JIT_OFF = os.environ.get("NUMBA_DISABLE_JIT") == "1"
# Plain Python is ~1000x slower: keep the sizes that mode runs small.
N_A, N_B = (40, 30) if JIT_OFF else (300, 250)


@pytest.mark.parametrize("words", [1, 16])
def test_popcounts_match_numpy(words: int) -> None:
    rng = np.random.default_rng(words)
    a = random_filters(rng, N_A, words, empty=3)
    got = popcounts(a)
    assert got.dtype == np.uint32
    np.testing.assert_array_equal(got, np.bitwise_count(a).sum(axis=1))


@pytest.mark.parametrize("words", [1, 16])
def test_dice_pairs_match_reference(words: int) -> None:
    rng = np.random.default_rng(10 + words)
    a = random_filters(rng, N_A, words, empty=4)
    b = random_filters(rng, N_B, words, empty=4)
    ref = reference_dice(a, b)
    left = rng.integers(0, N_A, size=5_000 if not JIT_OFF else 500)
    right = rng.integers(0, N_B, size=left.size)
    # Every empty filter of a and b appears in some pair, so the NaN rule is exercised.
    left[:4] = np.flatnonzero(popcounts(a) == 0)
    right[4:8] = np.flatnonzero(popcounts(b) == 0)
    got = dice_pairs(a, b, left, right)
    assert got.dtype == np.float32 and got.shape == left.shape
    expected = ref[left, right]
    assert np.isnan(got[:8]).all()
    np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)
    # Precomputed popcounts give the same answer.
    again = dice_pairs(a, b, left, right, a_pop=popcounts(a), b_pop=popcounts(b))
    np.testing.assert_array_equal(again, got)


@pytest.mark.parametrize("words", [1, 16])
@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.8, 1.0])
def test_dice_all_pairs_match_reference(words: int, threshold: float) -> None:
    rng = np.random.default_rng(100 + words)
    a = random_filters(rng, N_A, words, empty=3)
    b = random_filters(rng, N_B, words, empty=3)
    # Duplicates give Dice exactly 1 so threshold 1.0 has hits.
    b[:5] = a[10:15]
    ref = reference_dice(a, b)
    with np.errstate(invalid="ignore"):
        exp_left, exp_right = np.nonzero(ref >= threshold)
    left, right, score = dice_all_pairs(a, b, threshold)
    assert left.dtype == np.int64 and right.dtype == np.int64 and score.dtype == np.float32
    np.testing.assert_array_equal(left, exp_left)
    np.testing.assert_array_equal(right, exp_right)
    np.testing.assert_allclose(score, ref[exp_left, exp_right], rtol=1e-6)
    assert exp_left.size > 0


def test_dice_all_pairs_in_several_calls_with_overflowing_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small call and hit-buffer sizes: many parallel calls, and rows whose hits overflow
    # the buffer beside rows that fit, so both ways of collecting hits are exercised.
    monkeypatch.setattr(dice, "_CALL_GROUPS", 3)
    monkeypatch.setattr(dice, "_HITS", 2)
    monkeypatch.setattr(dice, "_BLOCK_CELLS", 64)
    rng = np.random.default_rng(5)
    a = random_filters(rng, N_A, 2, empty=2)
    b = random_filters(rng, N_B, 2, empty=2)
    ref = reference_dice(a, b)
    with np.errstate(invalid="ignore"):
        exp_left, exp_right = np.nonzero(ref >= 0.4)
    per_row = np.bincount(exp_left, minlength=N_A)
    assert (per_row > 2).any() and ((per_row > 0) & (per_row <= 2)).any()
    left, right, score = dice_all_pairs(a, b, 0.4)
    np.testing.assert_array_equal(left, exp_left)
    np.testing.assert_array_equal(right, exp_right)
    np.testing.assert_allclose(score, ref[exp_left, exp_right], rtol=1e-6)


def test_dice_all_pairs_threshold_is_exact_at_ties() -> None:
    # 2*2/(3+2) = 0.8 exactly in float64: the pair is in at 0.8 and out just above.
    a = np.array([[0b111]], dtype=np.uint64)
    b = np.array([[0b011], [0b1000]], dtype=np.uint64)
    left, right, score = dice_all_pairs(a, b, 0.8)
    assert left.tolist() == [0] and right.tolist() == [0]
    assert score[0] == np.float32(0.8)
    assert dice_all_pairs(a, b, np.nextafter(0.8, 1.0))[0].size == 0


def test_dice_all_pairs_empty_inputs() -> None:
    a = np.zeros((0, 2), dtype=np.uint64)
    b = random_filters(np.random.default_rng(0), 5, 2)
    for res in (dice_all_pairs(a, b, 0.5), dice_all_pairs(b, a, 0.5)):
        assert [x.size for x in res] == [0, 0, 0]
    zeros = np.zeros((3, 2), dtype=np.uint64)
    assert dice_all_pairs(zeros, zeros, 0.0)[0].size == 0  # NaN is never >= threshold


def filters_column(rng: np.random.Generator, n: int, words: int) -> tuple[pa.Array, Words]:
    filters = random_filters(rng, n, words)
    values: list[bytes | None] = [row.tobytes() for row in filters]
    nulls = rng.choice(n, size=n // 5, replace=False)
    for i in nulls:
        values[i] = None
        filters[i] = 0
    return pa.array(values, type=pa.binary(words * 8)), filters


@pytest.mark.parametrize("words", [1, 16])
def test_as_words_nulls_slices_and_chunks(words: int) -> None:
    rng = np.random.default_rng(words)
    column, filters = filters_column(rng, 50, words)
    got, present = as_words(column)
    np.testing.assert_array_equal(got, filters)
    np.testing.assert_array_equal(present, column.is_valid().to_numpy(zero_copy_only=False))
    assert got.flags.c_contiguous and got.dtype == np.uint64

    sliced = column.slice(7, 30)
    got, present = as_words(sliced)
    np.testing.assert_array_equal(got, filters[7:37])
    assert present.tolist() == sliced.is_valid().to_pylist()

    chunked = pa.chunked_array([column.slice(0, 20), column.slice(20)])
    got, present = as_words(chunked)
    np.testing.assert_array_equal(got, filters)

    # Null slots hold whatever bytes Arrow was given; the words must still be zero.
    garbage = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(words * 8),
        2,
        [pa.py_buffer(np.array([0b10], np.uint8)), pa.py_buffer(b"\xff" * words * 16)],
    )
    got, present = as_words(garbage)
    assert present.tolist() == [False, True]
    assert not got[0].any() and (got[1] == np.uint64(2**64 - 1)).all()


def test_as_words_is_zero_copy_without_nulls_and_little_endian() -> None:
    raw = bytearray(16 * 4)
    raw[16 * 2 + 9] = 0b0000_0100  # row 2, bit 8*9 + 2 = 74 -> word 1, bit 10
    column = pa.array([bytes(raw[i * 16 : (i + 1) * 16]) for i in range(4)], pa.binary(16))
    sliced = column.slice(1)
    words, present = as_words(sliced)
    assert present.all() and words.shape == (3, 2)
    assert words[1].tolist() == [0, 1 << 10]
    data = sliced.buffers()[1]
    assert words.ctypes.data == data.address + sliced.offset * 16  # a view, not a copy


def test_kernels_read_the_zero_copy_words() -> None:
    # as_words hands out a read-only view of Arrow's buffer; the kernels take it as is.
    rng = np.random.default_rng(7)
    filters = random_filters(rng, 40, 4)
    column = pa.array([row.tobytes() for row in filters], pa.binary(32))
    words, _ = as_words(column)
    assert not words.flags.writeable
    left = rng.integers(0, 40, size=200)
    right = rng.integers(0, 40, size=200)
    ref = reference_dice(filters, filters)
    np.testing.assert_allclose(dice_pairs(words, words, left, right), ref[left, right], rtol=1e-6)
    got_left, got_right, _ = dice_all_pairs(words, words, 0.6)
    with np.errstate(invalid="ignore"):
        exp_left, exp_right = np.nonzero(ref >= 0.6)
    np.testing.assert_array_equal(got_left, exp_left)
    np.testing.assert_array_equal(got_right, exp_right)


def test_as_words_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        as_words(pa.array([b"abc"], pa.binary()))
    with pytest.raises(ValueError):
        as_words(pa.array([b"abcd"], pa.binary(4)))


def test_bad_arguments_are_refused() -> None:
    a = random_filters(np.random.default_rng(0), 4, 2)
    with pytest.raises(IndexError):
        dice_pairs(a, a, np.array([0, 4]), np.array([0, 1]))
    with pytest.raises(IndexError):
        dice_pairs(a, a, np.array([0, 1]), np.array([-1, 1]))
    with pytest.raises(ValueError):
        dice_pairs(a, a[:, :1], np.array([0]), np.array([0]))
    with pytest.raises(ValueError):
        dice_pairs(a, a, np.array([0]), np.array([0, 1]))
    with pytest.raises(ValueError):
        dice_all_pairs(a, a, 0.5, a_pop=np.zeros(3, np.uint32))
    with pytest.raises(TypeError):
        popcounts(a.astype(np.int64))  # type: ignore[arg-type]


@pytest.mark.skipif(JIT_OFF, reason="already running without the JIT")
def test_same_results_without_the_jit() -> None:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", str(Path(__file__))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
