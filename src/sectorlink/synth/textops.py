"""Character-level edits on whole arrays of strings at once.

Strings become a (rows, width) matrix of code points (numpy's fixed-width unicode dtype
viewed as uint32), so a deletion, transposition, doubled letter or keyboard slip at a
per-row position is one fancy-indexing step over all rows, with no Python loop.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> tuple[np.ndarray, np.ndarray]:
    """For each ASCII code point, up to 6 neighbouring keys on a QWERTY keyboard."""
    pos = {ch: (r, c) for r, row in enumerate(_KEYBOARD_ROWS) for c, ch in enumerate(row)}
    table = np.zeros((128, 6), dtype=np.uint32)
    count = np.zeros(128, dtype=np.int64)
    for ch, (r, c) in pos.items():
        near = [
            other
            for other, (r2, c2) in pos.items()
            if other != ch and abs(r2 - r) <= 1 and -1 <= (c2 - c) + (r2 - r) * 0.5 <= 1
        ][:6]
        for code, is_upper in ((ord(ch), False), (ord(ch.upper()), True)):
            count[code] = len(near)
            for j, o in enumerate(near):
                table[code, j] = ord(o.upper() if is_upper else o)
    return table, count


NEIGHBOURS, NEIGHBOUR_COUNT = _keyboard_neighbours()

SLIP, DELETE, TRANSPOSE, DOUBLE = range(4)
TYPO_KINDS = ("keyboard slip", "deletion", "transposition", "doubled letter")


def to_codes(values: np.ndarray, extra: int = 2) -> np.ndarray:
    """(n, width) uint32 code points; `extra` spare columns for insertions."""
    values = np.asarray(values, dtype=str)
    width = max(1, int(np.char.str_len(values).max(initial=0))) + extra
    return (
        np.ascontiguousarray(values.astype(f"<U{width}"))
        .view(np.uint32)
        .reshape(len(values), width)
    )


def from_codes(codes: np.ndarray) -> np.ndarray:
    width = codes.shape[1]
    return np.ascontiguousarray(codes).view(f"<U{width}").ravel()


def typos(values: np.ndarray, kinds: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Apply one typo of kind `kinds[i]` to each string; position chosen by uniforms `u`.

    The first letter is spared (people rarely mistype it), so strings shorter than three
    characters are returned unchanged. A slip on a key with no neighbour (an accented
    letter, a hyphen) becomes a transposition.
    """
    codes = to_codes(values)
    n, width = codes.shape
    length = np.char.str_len(np.asarray(values, dtype=str))
    ok = length >= 3
    # Position in [1, length - 1) so a transposition has a following letter.
    p = 1 + (u * np.maximum(length - 2, 1)).astype(np.int64)
    p = np.minimum(p, np.maximum(length - 2, 1))
    rows = np.arange(n)
    cols = np.arange(width)[None, :]
    current = codes[rows, p]
    slip_ok = (current < 128) & (NEIGHBOUR_COUNT[np.minimum(current, 127)] > 0)
    kinds = np.where((kinds == SLIP) & ~slip_ok, TRANSPOSE, kinds)
    out = codes.copy()

    m = ok & (kinds == SLIP)
    if m.any():
        c = current[m]
        pick = (u[m] * 7919 % 1 * NEIGHBOUR_COUNT[c]).astype(np.int64)
        out[rows[m], p[m]] = NEIGHBOURS[c, pick]
    m = ok & (kinds == DELETE)
    if m.any():
        src = cols + (cols >= p[m, None])
        src = np.minimum(src, width - 1)
        moved = np.take_along_axis(codes[m], src, axis=1)
        moved[:, -1] = 0
        out[m] = moved
    m = ok & (kinds == TRANSPOSE)
    if m.any():
        a, b = p[m], p[m] + 1
        out[rows[m], a] = codes[rows[m], b]
        out[rows[m], b] = codes[rows[m], a]
    m = ok & (kinds == DOUBLE)
    if m.any():
        src = cols - (cols > p[m, None])
        out[m] = np.take_along_axis(codes[m], np.maximum(src, 0), axis=1)
    result = from_codes(out)
    # Swapping two equal letters ("ll") changes nothing: delete one instead, so every
    # flagged typo really is one.
    same = ok & (result == np.asarray(values, dtype=str))
    if same.any():
        result = result.astype(object)
        result[same] = delete_at(np.asarray(values, dtype=str)[same], p[same])
        result = result.astype(str)
    return result


def replace_at(values: np.ndarray, positions: np.ndarray, chars: np.ndarray) -> np.ndarray:
    """Replace the character at `positions[i]` of each string with `chars[i]`."""
    codes = to_codes(values, extra=0)
    rows = np.arange(len(codes))
    codes[rows, positions] = np.ascontiguousarray(np.asarray(chars, dtype="<U1")).view(np.uint32)
    return from_codes(codes)


def delete_at(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Delete the character at `positions[i]` of each string."""
    codes = to_codes(values, extra=0)
    width = codes.shape[1]
    cols = np.arange(width)[None, :]
    src = np.minimum(cols + (cols >= positions[:, None]), width - 1)
    out = np.take_along_axis(codes, src, axis=1)
    out[:, -1] = 0
    return from_codes(out)


def swap_at(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Swap the characters at `positions[i]` and `positions[i] + 1`."""
    codes = to_codes(values, extra=0)
    rows = np.arange(len(codes))
    a = codes[rows, positions].copy()
    codes[rows, positions] = codes[rows, positions + 1]
    codes[rows, positions + 1] = a
    return from_codes(codes)


def replace(values: np.ndarray, old: str, new: str) -> np.ndarray:
    """Replace every `old` with `new` in each string (numpy's own fails on empty arrays)."""
    values = np.asarray(values, dtype=str)
    if len(values) == 0:
        return values
    return np.asarray(pc.replace_substring(pa.array(values), old, new), dtype=str)
