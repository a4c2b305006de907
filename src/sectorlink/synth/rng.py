"""Independent, reproducible random streams.

Each job (geography, a chunk's people, a chunk's events, ...) gets its own stream keyed by
the seed, the chunk and a name, so adding draws to one job never shifts another's output.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str, chunk: int = 0) -> np.random.Generator:
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(
        np.random.SeedSequence([seed & 0xFFFFFFFF, seed >> 32, chunk, key])
    )
