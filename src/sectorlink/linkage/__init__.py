"""Person linkage: one person index across every partner, with Splink.

Library entry points (the CLI commands `link` and `evaluate` wrap them)::

    from sectorlink.linkage import link, evaluate
    result = link("hub.duckdb", out_dir="linkage-output")   # engine="spark" | "bloom"
    print(evaluate(duckdb.connect("hub.duckdb"), "truth.csv").overall.f1)
"""

from sectorlink.linkage.engine import LinkageEngine, Scored
from sectorlink.linkage.errors import LinkageError, LinkageInputError, TruthFileError
from sectorlink.linkage.evaluate import ErrorKind, Evaluation, Scores, evaluate
from sectorlink.linkage.outputs import export_person_index
from sectorlink.linkage.result import DEFAULT_THRESHOLD, LinkResult
from sectorlink.linkage.run import link
from sectorlink.linkage.store import (
    IDENTIFIER_QUALITY,
    LINKAGE_PAIRS,
    LINKAGE_RUN,
    PERSON_INDEX,
    PERSON_KEY_HISTORY,
    TABLE_DOCS,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "IDENTIFIER_QUALITY",
    "LINKAGE_PAIRS",
    "LINKAGE_RUN",
    "PERSON_INDEX",
    "PERSON_KEY_HISTORY",
    "TABLE_DOCS",
    "ErrorKind",
    "Evaluation",
    "LinkResult",
    "LinkageEngine",
    "LinkageError",
    "LinkageInputError",
    "Scored",
    "Scores",
    "TruthFileError",
    "evaluate",
    "export_person_index",
    "link",
]
