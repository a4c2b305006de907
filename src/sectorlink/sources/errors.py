"""Errors that stop a load: about the spec or the file, never about one row."""

from __future__ import annotations

from pathlib import Path

from sectorlink.sources.reasons import FileErrorCode


class SourceError(Exception):
    """A problem a user must fix before anything loads. Says what, in which file, and where,
    with a code (:class:`FileErrorCode`) saying what kind of problem it is."""

    default_code = FileErrorCode.UNREADABLE

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
        code: FileErrorCode | None = None,
        footer_rows: int | None = None,
    ) -> None:
        self.message = message
        self.code = code or self.default_code
        """What kind of problem it is: code that must tell kinds apart reads this."""
        self.footer_rows = footer_rows
        """With `FileErrorCode.LIKELY_FOOTER`: the `file.footer_rows` that would read it."""
        self.file = Path(file) if file is not None else None
        self.row = row
        self.column = column
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class SpecError(SourceError):
    """The mapping spec is not valid."""

    default_code = FileErrorCode.SPEC_INVALID


class FileFormatError(SourceError):
    """The extract cannot be read as the spec says (encoding, delimiter, truncation...)."""
