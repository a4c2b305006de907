"""Standardising identifiers for linkage, in DuckDB SQL.

``standardise(con)`` returns one standardised row per ``person_record`` row; the linkage
engines (Splink and the Bloom-filter encoder) both start from it.
"""

from sectorlink.identity.reference import register_reference_tables
from sectorlink.identity.standardise import (
    CHECKED_IDENTIFIERS,
    STANDARD_COLUMNS,
    identifier_quality,
    standardise,
    standardised_sql,
)

__all__ = [
    "CHECKED_IDENTIFIERS",
    "STANDARD_COLUMNS",
    "identifier_quality",
    "register_reference_tables",
    "standardise",
    "standardised_sql",
]
