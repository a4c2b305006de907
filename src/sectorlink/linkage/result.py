"""What a linkage run returns, whichever engine scored it, and the run's small helpers."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sectorlink.linkage.clustering import ClusterReport
from sectorlink.linkage.learned import LearnedContradiction
from sectorlink.linkage.training import TrainingReport

DEFAULT_THRESHOLD = 0.9
# Pairs below this match probability are not kept (they are never links).
PAIR_FLOOR = 0.01


@dataclass
class LinkResult:
    run_id: str
    engine: str
    records: int
    sources: dict[str, int]
    persons: int
    pairs_kept: int
    links: int
    threshold_probability: float
    training: TrainingReport
    clustering: ClusterReport
    key_events: dict[str, int]
    timings: dict[str, float]
    messages: list[str] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    # twins and birth-gap contradictions: learned share among matches and weight applied
    contradictions: list[LearnedContradiction] = field(default_factory=list)
    # one line saying which model scored the pairs (the first line of every report)
    model_summary: str = ""


@dataclass
class Timer:
    """Seconds per named step: ``with timer("train"): ...``."""

    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = round(time.perf_counter() - start, 3)


def probability_to_weight(p: float) -> float:
    return math.log2(p / (1 - p))
