"""The one interface every linkage engine implements, and what it hands the run.

An engine turns the warehouse's records into scored pairs: it reads its input (person
records standardised in the clear, or the partners' encodings), trains and checks its
model, scores candidate pairs into the temporary table ``sl_pairs`` (unique_id_l,
unique_id_r, match_weight, match_probability) and says which pairs contradict. From there
:func:`sectorlink.linkage.run.link` does the rest the same way for every engine: the
no-silent-fallback check, coherent clusters, stable keys, staging, the run row,
publishing and the output folder. Engines: ``duckdb`` and ``spark`` (Splink, in the
clear; :mod:`sectorlink.linkage.engines.splink`) and ``bloom`` (encodings;
:mod:`sectorlink.linkage.engines.bloom`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

from sectorlink.linkage.clustering import ContradictionRules
from sectorlink.linkage.learned import LearnedContradiction
from sectorlink.linkage.training import TrainingReport

if TYPE_CHECKING:
    from sectorlink.linkage.result import LinkResult, Timer

# Temporary table of scored pairs every engine leaves for the run.
PAIRS = "sl_pairs"

# Writes the output folder once the run is published: (con, folder, result, truth).
OutputWriter = Callable[
    [duckdb.DuckDBPyConnection, Path, "LinkResult", "Path | str | None"], dict[str, Path]
]


@dataclass
class Scored:
    """What an engine hands the run: the records and scored pairs, and how it got them."""

    # temporary table of the records: unique_id, source, record_id, and the columns the
    # contradiction rules read
    records: str
    n_records: int
    sources: dict[str, int]
    training: TrainingReport
    # the model as JSON (linkage_run.model), the blocking (linkage_run.blocking)
    model: dict[str, Any]
    blocking: Any
    version: str
    # contradiction rules over two records; check: split clusters on them
    rules: ContradictionRules
    check: bool
    # standardised fields present (the plain rules read them), empty for encodings
    fields: Collection[str] = ()
    messages: list[str] = field(default_factory=list)
    contradictions: list[LearnedContradiction] = field(default_factory=list)
    # stages the engine's own extra tables (con, run_id): identifier quality in the clear
    stage_extra: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None
    write_outputs: OutputWriter | None = None


class LinkageEngine(Protocol):
    """Input -> trained, checked model -> scored pairs and contradiction rules."""

    name: str

    def score(self, con: duckdb.DuckDBPyConnection, timer: Timer, *, seed: int) -> Scored:
        """Read the input, train and check the model, score pairs into :data:`PAIRS`.

        Raises:
            LinkageError: nothing to link (no records, no usable identifier).
        """
        ...

    def cleanup(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the engine's temporary tables from the warehouse connection."""
        ...

    def close(self) -> None:
        """Release what the engine holds (a DuckDB of its own, a Spark session)."""
        ...
