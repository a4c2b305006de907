"""National identifiers, phone numbers and partner record ids, generated in bulk.

Every generator takes a global counter (a person's or a row's position in the whole
region), so ids stay unique across chunks without remembering what was issued.
"""

from __future__ import annotations

import numpy as np

from sectorlink.synth.textops import replace

NHS_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)  # weights of the first nine digits
# First letters and second letters HMRC never issues, and prefixes it never uses.
NI_FIRST = np.array(list("ABCEGHJKLMNOPRSTWXYZ"))
NI_SECOND = np.array(list("ABCEGHJKLMNPRSTWXYZ"))
NI_BANNED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
NI_PREFIXES = np.array([a + b for a in NI_FIRST for b in NI_SECOND if a + b not in NI_BANNED])


class IdPermutation:
    """A keyed bijection of [0, modulus): unique ids from a counter that do not reveal order.

    Partner ids in sequence would tell a linker that two rows were written together
    (a duplicate registration right after the original); scrambled ids do not. Rounds of
    multiply-add and xor-shift permute [0, 2**bits) (uint64 arithmetic wraps, which is
    exact modulo 2**bits); values that land at or above `modulus` are permuted again
    ("cycle walking"), which keeps the map a bijection of [0, modulus).
    """

    ROUNDS = 3

    def __init__(self, modulus: int, rng: np.random.Generator) -> None:
        self.modulus = modulus
        self.bits = max(4, int(modulus - 1).bit_length())
        self.mask = np.uint64((1 << self.bits) - 1)
        self.mul = (
            rng.integers(0, 1 << 62, self.ROUNDS, dtype=np.uint64) | np.uint64(1)
        ) & self.mask
        self.add = rng.integers(0, 1 << 62, self.ROUNDS, dtype=np.uint64) & self.mask
        self.shift = np.uint64(max(1, self.bits // 2))

    def _round_trip(self, x: np.ndarray) -> np.ndarray:
        for r in range(self.ROUNDS):
            x = (x * self.mul[r] + self.add[r]) & self.mask
            x ^= x >> self.shift
        return x

    def __call__(self, k: np.ndarray) -> np.ndarray:
        x = self._round_trip(np.asarray(k, dtype=np.int64).astype(np.uint64))
        out_of_range = x >= np.uint64(self.modulus)
        while out_of_range.any():
            x[out_of_range] = self._round_trip(x[out_of_range])
            out_of_range = x >= np.uint64(self.modulus)
        return x.astype(np.int64)


def nhs_check_digit(first_nine: np.ndarray) -> np.ndarray:
    """Mod-11 check digit of 9-digit numbers; 10 means the number cannot be issued."""
    digits = (first_nine[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    remainder = (digits * NHS_WEIGHTS).sum(axis=1) % 11
    check = 11 - remainder
    return np.where(check == 11, 0, check)


def nhs_numbers(counter: np.ndarray, perm: IdPermutation) -> np.ndarray:
    """Unique valid NHS numbers (10 digits, mod-11 check) for global person counters.

    The 9-digit stem comes from a permutation of the counter within one leading-digit
    block; a stem whose check digit would be 10 is moved to the next block (4xx, 6xx,
    7xx...), so numbers never collide and every one passes the check.
    """
    stem_in_block = perm(counter)  # < 10**8
    out = np.zeros(len(counter), dtype=np.int64)
    pending = np.ones(len(counter), dtype=bool)
    for lead in (4, 6, 7, 8, 3, 5, 2, 1):
        stem = lead * 10**8 + stem_in_block
        check = nhs_check_digit(stem)
        ok = pending & (check != 10)
        out[ok] = stem[ok] * 10 + check[ok]
        pending &= ~ok
        if not pending.any():
            break
    return out


def nhs_valid(numbers: np.ndarray) -> np.ndarray:
    """Whether 10-digit text NHS numbers pass the mod-11 check (blank -> False)."""
    arr = np.asarray(numbers, dtype=str)
    clean = replace(arr, " ", "")
    ok = (np.char.str_len(clean) == 10) & np.char.isdigit(clean)
    values = np.where(ok, clean, "0").astype(np.int64)
    return np.asarray(ok & (nhs_check_digit(values // 10) == values % 10))


def ni_numbers(counter: np.ndarray, perm: IdPermutation, rng: np.random.Generator) -> np.ndarray:
    """Unique well-formed National Insurance numbers (AB123456C)."""
    code = perm(counter)  # < len(NI_PREFIXES) * 10**6
    prefix = NI_PREFIXES[code // 10**6]
    digits = format_ids(code % 10**6, "", 6)
    suffix = np.array(list("ABCD"))[rng.integers(0, 4, len(counter))]
    return np.char.add(np.char.add(prefix, digits), suffix)


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """UK mobile numbers as 11 digits (07xxx xxxxxx), random: collisions are harmless."""
    return format_ids(rng.integers(0, 10**9, n), "07", 9)


def landline_numbers(rng: np.random.Generator, n: int, area_code: str = "01632") -> np.ndarray:
    """Landlines in one area code (01632 is Ofcom's code reserved for fiction)."""
    return format_ids(rng.integers(0, 10**6, n), area_code, 6)


def format_ids(numbers: np.ndarray, prefix: str, width: int) -> np.ndarray:
    """`prefix` + the number zero-padded to `width` digits (NGH00012345)."""
    if len(numbers) == 0:
        return np.array([], dtype=f"<U{len(prefix) + width}")
    return np.char.add(prefix, np.char.zfill(numbers.astype(np.int64).astype(str), width))
