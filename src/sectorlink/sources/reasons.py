"""Codes for every problem ingest reports: a row's or a field's (`ProblemCode`) and a file's
(`FileErrorCode`).

Each problem carries its code beside its English message, and code that needs to know the
kind of a problem (the quality report's kinds, `spec draft` learning `footer_rows`) reads
the code, never the message, which stays free to say more.
"""

from __future__ import annotations

from enum import StrEnum


class ProblemCode(StrEnum):
    """What is wrong with one value or one row. Stored in `rejects.code` and
    `field_issues.code`."""

    NOT_A_DATE = "not_a_date"
    FUTURE_DATE = "future_date"
    YEAR_UNDER_1000 = "year_under_1000"
    NOT_A_WHOLE_NUMBER = "not_a_whole_number"
    NOT_A_NUMBER = "not_a_number"
    NOT_A_BOOLEAN = "not_a_boolean"
    REQUIRED_MISSING = "required_missing"
    REQUIRED_CODE_UNMAPPED = "required_code_unmapped"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_PERSON = "unknown_person"
    REPEATED_HEADER = "repeated_header"


PROBLEM_LABELS: dict[ProblemCode, str] = {
    ProblemCode.NOT_A_DATE: "date does not parse",
    ProblemCode.FUTURE_DATE: "date in the future",
    ProblemCode.YEAR_UNDER_1000: "two-digit year read as a four-digit one",
    ProblemCode.NOT_A_WHOLE_NUMBER: "not a number",
    ProblemCode.NOT_A_NUMBER: "not a number",
    ProblemCode.NOT_A_BOOLEAN: "not a yes/no value",
    ProblemCode.REQUIRED_MISSING: "required value missing",
    ProblemCode.REQUIRED_CODE_UNMAPPED: "required code not mapped",
    ProblemCode.DUPLICATE_ID: "duplicate id",
    ProblemCode.UNKNOWN_PERSON: "unknown person record",
    ProblemCode.REPEATED_HEADER: "header repeated in the file",
}
"""How the quality report names each kind of problem."""


class FileErrorCode(StrEnum):
    """Why a spec or a file stops a load (`SourceError.code`)."""

    SPEC_INVALID = "spec_invalid"
    COLUMN_MISSING = "column_missing"
    COLUMN_NOT_FLAT = "column_not_flat"
    FILE_NOT_FOUND = "file_not_found"
    NOT_A_FILE = "not_a_file"
    UNREADABLE = "unreadable"
    EMPTY = "empty"
    NO_DATA_ROWS = "no_data_rows"
    UNKNOWN_FORMAT = "unknown_format"
    OPTION_NOT_FOR_FORMAT = "option_not_for_format"
    PACKED = "packed"
    """Compressed in a way that cannot be unpacked, or an archive of several files."""
    WRONG_ENCODING = "wrong_encoding"
    """Bytes that are not valid in the declared encoding: another one may read the file."""
    ENCODING_MISMATCH = "encoding_mismatch"
    """The file says it is in another encoding (a byte-order mark, valid UTF-8 text, or no
    UTF-16 where UTF-16 is declared)."""
    NUL_BYTE = "nul_byte"
    HEADER = "header"
    """The header row is missing, blank, unreadable or names a column twice."""
    RAGGED_ROW = "ragged_row"
    """A row with more or fewer fields than the header (delimiter or quoting)."""
    LIKELY_FOOTER = "likely_footer"
    """Short rows among the last lines: a report's footer; `SourceError.footer_rows` says
    how many lines to set in `file.footer_rows`."""
    FOOTER_TOO_LONG = "footer_too_long"
    CUT_OFF = "cut_off"
    UNTERMINATED_QUOTE = "unterminated_quote"
    CSV_UNREADABLE = "csv_unreadable"
    WORKBOOK_UNREADABLE = "workbook_unreadable"
    SHEET_MISSING = "sheet_missing"
    PARQUET_UNREADABLE = "parquet_unreadable"
