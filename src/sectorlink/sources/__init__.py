"""Partner extracts: mapping specs, readers, validation, atomic ingest and quality reports."""

from sectorlink.sources.errors import FileFormatError, SourceError, SpecError
from sectorlink.sources.loader import (
    FieldIssue,
    FieldQuality,
    LoadResult,
    Reject,
    RejectGroup,
    UnmappedCode,
    ingest,
)
from sectorlink.sources.reasons import FileErrorCode, ProblemCode
from sectorlink.sources.spec import MappingSpec, load_spec, parse_spec

__all__ = [
    "FieldIssue",
    "FieldQuality",
    "FileErrorCode",
    "FileFormatError",
    "LoadResult",
    "MappingSpec",
    "ProblemCode",
    "Reject",
    "RejectGroup",
    "SourceError",
    "SpecError",
    "UnmappedCode",
    "check_extract",
    "ingest",
    "load_spec",
    "parse_spec",
]


def check_extract(spec: "MappingSpec | str", file: str, **kwargs: object) -> LoadResult:
    """Validate an extract against its spec and report, writing nothing (``ingest --check``)."""
    return ingest(spec, file, check=True, **kwargs)  # type: ignore[arg-type]
