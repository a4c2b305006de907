"""Bloom filters on packed 64-bit words: hashing distinct tokens, setting bits, hardening.

Bit i of a filter is bit (i % 64) of little-endian word i // 64. Each distinct token is
hashed once (keyed HMAC-SHA256 or BLAKE2b); its k bit positions come from that one digest
by enhanced double hashing (Dillinger & Manolios 2004). Records get their filters by ORing
the filters of their tokens in a compiled loop, never a Python loop over records.
"""

from __future__ import annotations

import hmac

import numba
import numpy as np
import numpy.typing as npt

from sectorlink.pprl.keys import keyed_digest

Words = npt.NDArray[np.uint64]


def token_positions(
    tokens: list[str], key: bytes, bits: int, k: int, algorithm: str
) -> npt.NDArray[np.int64]:
    """The k bit positions of each token, shape (len(tokens), k)."""
    if not tokens:
        return np.zeros((0, k), dtype=np.int64)
    digests = b"".join(keyed_digest(key, t.encode(), algorithm) for t in tokens)
    words = np.frombuffer(digests, dtype="<u8").reshape(len(tokens), 4)
    m = np.uint64(bits)
    h1 = (words[:, 0] % m).astype(np.int64)
    h2 = (words[:, 1] % m).astype(np.int64)
    i = np.arange(k, dtype=np.int64)
    # enhanced double hashing: the cubic term keeps positions apart even when h2 shares a
    # factor with m (m is a power of two here, so plain h1 + i*h2 could cycle early)
    positions: npt.NDArray[np.int64] = (
        h1[:, None] + i[None, :] * h2[:, None] + (i**3 - i)[None, :] // 6
    ) % bits
    return positions


@numba.njit(cache=True, nogil=True)
def _token_filters(positions: npt.NDArray[np.int64], words: int) -> Words:  # pragma: no cover
    out = np.zeros((positions.shape[0], words), dtype=np.uint64)
    for t in range(positions.shape[0]):
        for j in range(positions.shape[1]):
            p = positions[t, j]
            out[t, p >> 6] |= np.uint64(1) << np.uint64(p & 63)
    return out


@numba.njit(cache=True, nogil=True)
def _or_rows(
    rows: npt.NDArray[np.int64], ids: npt.NDArray[np.int32], token_words: Words, out: Words
) -> None:  # pragma: no cover
    w = token_words.shape[1]
    for p in range(rows.shape[0]):
        r = rows[p]
        t = ids[p]
        for j in range(w):
            out[r, j] |= token_words[t, j]


def record_filters(
    n: int,
    rows: npt.NDArray[np.int64],
    token_ids: npt.NDArray[np.int32],
    positions: npt.NDArray[np.int64],
    bits: int,
) -> tuple[Words, npt.NDArray[np.bool_]]:
    """Filters of `n` records from (row, token id) pairs; also which rows had a token."""
    words = bits // 64
    token_words = _token_filters(np.ascontiguousarray(positions), words)
    out = np.zeros((n, words), dtype=np.uint64)
    _or_rows(
        np.ascontiguousarray(rows, dtype=np.int64),
        np.ascontiguousarray(token_ids, dtype=np.int32),
        token_words,
        out,
    )
    present = np.zeros(n, dtype=np.bool_)
    present[rows] = True
    return out, present


# --- keyed pseudo-randomness that does not depend on numpy's generator versions -----------


def keyed_stream(key: bytes, label: str, count: int) -> npt.NDArray[np.uint64]:
    """`count` pseudo-random 64-bit words from HMAC-SHA256 in counter mode."""
    blocks = (count + 3) // 4
    data = b"".join(hmac.digest(key, f"{label}:{i}".encode(), "sha256") for i in range(blocks))
    return np.frombuffer(data, dtype="<u8")[:count].copy()


def keyed_permutation(key: bytes, size: int) -> npt.NDArray[np.int64]:
    """A permutation of range(size) fixed by the key (sort by keyed random words)."""
    return np.argsort(keyed_stream(key, "perm", size), kind="stable").astype(np.int64)


def diffusion_taps(key: bytes, bits: int, t: int) -> npt.NDArray[np.int64]:
    """For each output bit, t distinct input bits, chosen by the key: shape (bits, t)."""
    taps = np.empty((bits, t), dtype=np.int64)
    stream = keyed_stream(key, "taps", bits * t * 2)
    pos = 0
    for j in range(bits):  # over filter bits (at most a few thousand), not records
        chosen: list[int] = []
        while len(chosen) < t:
            if pos >= stream.shape[0]:
                stream = keyed_stream(key, f"taps-more-{j}", bits * t)
                pos = 0
            c = int(stream[pos] % np.uint64(bits))
            pos += 1
            if c not in chosen:
                chosen.append(c)
        taps[j] = chosen
    return taps


@numba.njit(cache=True, nogil=True, parallel=True)
def _gather_xor(
    filters: Words, tap_words: npt.NDArray[np.int64], tap_shifts: Words, out: Words
) -> None:  # pragma: no cover
    one = np.uint64(1)
    t = tap_words.shape[1]
    for r in numba.prange(filters.shape[0]):
        for w in range(out.shape[1]):
            # build each output word in a register, one store per 64 bits
            acc = np.uint64(0)
            for jj in range(64):
                j = w * 64 + jj
                b = np.uint64(0)
                for s in range(t):
                    b ^= filters[r, tap_words[j, s]] >> tap_shifts[j, s]
                acc |= (b & one) << np.uint64(jj)
            out[r, w] = acc


def gather_bits(filters: Words, taps: npt.NDArray[np.int64]) -> Words:
    """Output bit j of each row = XOR of the input bits taps[j, :].

    With one tap per output bit this is a bit permutation; with t taps it is the
    diffusion layer of Armknecht, Heng & Schnell (PoPETs 2023)."""
    if taps.ndim == 1:
        taps = taps[:, None]
    out = np.zeros((filters.shape[0], taps.shape[0] // 64), dtype=np.uint64)
    tap_words = np.ascontiguousarray(taps >> 6)
    tap_shifts = np.ascontiguousarray(taps & 63).astype(np.uint64)
    _gather_xor(np.ascontiguousarray(filters), tap_words, tap_shifts, out)
    return out


def balance(filters: Words, key: bytes) -> Words:
    """The filter followed by its complement, then bits permuted by a keyed permutation:
    every filter of the field has exactly half its bits set, whatever the value's length."""
    doubled = np.concatenate([filters, ~filters], axis=1)
    return gather_bits(doubled, keyed_permutation(key, doubled.shape[1] * 64))


def xor_fold(filters: Words) -> Words:
    """Bit i XOR bit i + m/2: half the length, and no bit tied to a single token."""
    half = filters.shape[1] // 2
    return np.bitwise_xor(filters[:, :half], filters[:, half:])


def diffuse(filters: Words, key: bytes, t: int) -> Words:
    """The diffusion layer: each output bit the XOR of t keyed-chosen input bits."""
    return gather_bits(filters, diffusion_taps(key, filters.shape[1] * 64, t))


def popcount(filters: Words) -> npt.NDArray[np.int64]:
    """Set bits per row."""
    counts: npt.NDArray[np.int64] = np.bitwise_count(filters).sum(axis=1).astype(np.int64)
    return counts
