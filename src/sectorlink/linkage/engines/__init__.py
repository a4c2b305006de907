"""The linkage engines behind :class:`~sectorlink.linkage.engine.LinkageEngine`.

``duckdb`` and ``spark``: Splink on records in the clear (:mod:`.splink`, on a backend
from :mod:`.backends`); ``bloom``: the partners' encodings (:mod:`.bloom`).
"""

from __future__ import annotations

from typing import Any

from sectorlink.linkage.engine import LinkageEngine
from sectorlink.linkage.engines.backends import ENGINE_MEMORY, WAREHOUSE_MEMORY
from sectorlink.linkage.errors import LinkageError

ENGINES = ("duckdb", "spark", "bloom")

__all__ = ["ENGINES", "ENGINE_MEMORY", "WAREHOUSE_MEMORY", "make_engine"]


def make_engine(name: str, *, spark: Any = None, strict: bool = True) -> LinkageEngine:
    """The engine called ``name`` (one of :data:`ENGINES`).

    ``strict``: strong contradictions (the plain engines' ``--lenient`` turns it off; the
    bloom engine always applies its contradictions)."""
    if name in ("duckdb", "spark"):
        from sectorlink.linkage.engines.splink import SplinkEngine

        return SplinkEngine(name, spark=spark, strict=strict)
    if name == "bloom":
        if not strict:
            raise LinkageError("lenient contradictions apply to the duckdb and spark engines only")
        from sectorlink.linkage.engines.bloom import BloomEngine

        return BloomEngine()
    raise LinkageError(f"unknown engine {name!r}: use {', '.join(ENGINES)}")
