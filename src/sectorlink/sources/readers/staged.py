"""What every reader stages: the table of text columns, and how its header is named."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from sectorlink.model import collapse_space_sql
from sectorlink.model.sql import quote_literal as _lit
from sectorlink.sources.errors import FileFormatError
from sectorlink.sources.reasons import FileErrorCode

STAGING = "__staging"


@dataclass(frozen=True)
class StagedFile:
    """A file staged as text columns; `columns` maps header names to staging column names."""

    path: Path
    format: str
    columns: dict[str, str]
    rows: int
    delimiter: str | None = None
    encoding: str | None = None
    header_row: int = 1
    unmappable: dict[str, str] = dataclasses.field(default_factory=dict)
    """Columns whose values are not flat (lists, structs, maps, binary), by name: their type.
    Staged as text all the same; a spec that maps one is refused."""

    @property
    def header(self) -> list[str]:
        return list(self.columns)

    def header_name(self, name: str) -> str | None:
        """The header name a spec's column `name` refers to. Runs of white space count as
        one space, so a wrapped Excel header ('Date of', line end, 'Birth') is 'Date of
        Birth'; case counts only where two columns differ by it alone, since a partner's
        new system version writes 'PatientId' where the old one wrote 'PatientID'."""
        if name in self.columns:
            return name
        collapsed = " ".join(name.split())
        if collapsed in self.columns:
            return collapsed
        folded = [h for h in self.columns if h.casefold() == collapsed.casefold()]
        return folded[0] if len(folded) == 1 else None

    def column(self, name: str) -> str | None:
        """The staging column (c0, c1, ...) of the spec's column `name`, if the file has it."""
        found = self.header_name(name)
        return None if found is None else self.columns[found]


UNNAMED = "(unnamed column {})"


def name_unnamed(header: list[str]) -> list[str]:
    """Name the header's blank names `(unnamed column N)`, so the file loads: a delimiter
    ending every line makes a last column without a name, and pandas and R write their row
    index as a first one. No spec maps such a column by accident."""
    return [name or UNNAMED.format(i) for i, name in enumerate(header, start=1)]


def is_unnamed(name: str) -> bool:
    return _UNNAMED.fullmatch(name) is not None


_UNNAMED = re.compile(r"\(unnamed column [0-9]+\)")


def check_header(path: Path, header: list[str], header_row: int = 1) -> None:
    """Refuse a header that names a column twice (a spec could not say which it means)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen:
            raise FileFormatError(
                f"column {name!r} appears twice in the header (columns {seen[name]} and {i})",
                file=path,
                row=header_row,
                column=name,
                code=FileErrorCode.HEADER,
            )
        seen[name] = i


def header_again_sql(staged: StagedFile) -> str | None:
    """Whether a row repeats the header: the row-level repair step every format ends with.

    Monthly extracts joined into one file carry each month's header (and each its
    byte-order mark). Read from the raw text as the header names were (trimmed, white space
    collapsed). A CASE, since DuckDB computes every side of an AND in a projection: one
    substring test rules out almost every row before the others are computed."""
    if staged.format not in ("csv", "excel"):
        return None
    named = [(name, column) for name, column in staged.columns.items() if not is_unnamed(name)]
    if len(named) < 2:  # one column's name could be a value
        return None
    # Each joined export may start with its own byte-order mark, before its header.
    tests = " AND ".join(
        f"{collapse_space_sql(column) if ' ' in name else f'trim({column})'} = {_lit(name)}"
        for name, column in ((n, f"replace({c}, chr(65279), '')") for n, c in named)
    )
    name, column = next(((n, c) for n, c in named if " " not in n), named[0])
    first = name.split(" ")[0]
    return (
        f"CASE WHEN contains({column}, {_lit(first)}) THEN coalesce({tests}, false) ELSE false END"
    )
