"""A frame is a dict of equal-length numpy arrays: one event stream of one chunk.

Plain dicts keep the event generators simple and fast; these helpers are all they need.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Frame = dict[str, np.ndarray]

NAT_D = np.datetime64("NaT", "D")
NAT_S = np.datetime64("NaT", "s")


def length(frame: Frame) -> int:
    return len(next(iter(frame.values()))) if frame else 0


def take(frame: Frame, idx: np.ndarray) -> Frame:
    return {k: v[idx] for k, v in frame.items()}


def concat(frames: list[Frame], defaults: dict[str, Any]) -> Frame:
    """Stack frames; a column missing from one frame is filled with its default."""
    frames = [f for f in frames if length(f) > 0]
    keys = list(defaults)
    out: Frame = {}
    for key in keys:
        parts = []
        for f in frames:
            if key in f:
                parts.append(f[key])
            else:
                parts.append(np.full(length(f), defaults[key]))
        if parts:
            out[key] = np.concatenate(parts)
        else:
            out[key] = np.array([defaults[key]])[:0]
    return out


def empty(defaults: dict[str, Any]) -> Frame:
    return {k: np.array([v])[:0] for k, v in defaults.items()}


def poisson_rows(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    """Person index repeated once per event, with event counts ~ Poisson(rate)."""
    counts = rng.poisson(np.maximum(rate, 0.0))
    return np.repeat(np.arange(len(rate)), counts)
