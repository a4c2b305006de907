"""Word lists for invented place, street and venue names (data/places.csv)."""

from __future__ import annotations

import csv
import functools
from importlib import resources

import numpy as np


@functools.cache
def words(kind: str) -> np.ndarray:
    text = (
        resources.files("sectorlink.synth.data").joinpath("places.csv").read_text(encoding="utf-8")
    )
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return np.array([row["word"] for row in csv.DictReader(lines) if row["kind"] == kind])
