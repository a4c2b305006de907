"""``link_encoded()``: kept for callers of the hub's old entry point (``sectorlink.demo``).

The bloom engine now lives in :mod:`sectorlink.linkage.engines.bloom` and runs through the
one :func:`sectorlink.linkage.link`; this is ``link(warehouse, engine="bloom", ...)``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from sectorlink.linkage.result import DEFAULT_THRESHOLD, LinkResult
from sectorlink.linkage.run import link


def link_encoded(
    warehouse: Path | str | duckdb.DuckDBPyConnection,
    *,
    out_dir: Path | str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 42,
    truth: Path | str | None = None,
    allow_default_model: bool = False,
) -> LinkResult:
    """Link the encodings in the warehouse: ``link(warehouse, engine="bloom", ...)``."""
    return link(
        warehouse,
        engine="bloom",
        out_dir=out_dir,
        threshold=threshold,
        seed=seed,
        truth=truth,
        allow_default_model=allow_default_model,
    )
