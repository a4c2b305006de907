"""Helpers for building person records in linkage tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

Row = dict[str, Any]


def insert_records(con: duckdb.DuckDBPyConnection, rows: list[Row]) -> None:
    """Insert person_record rows given as dicts (missing fields are NULL)."""
    if not rows:
        return
    columns = sorted({k for r in rows for k in r})
    marks = ", ".join("?" for _ in columns)
    con.executemany(
        f"INSERT INTO person_record ({', '.join(columns)}) VALUES ({marks})",
        [[r.get(c) for c in columns] for r in rows],
    )


def person(
    source: str,
    record_id: str,
    given: str | None,
    family: str | None,
    born: dt.date | None = None,
    **extra: Any,
) -> Row:
    row: Row = {
        "source": source,
        "record_id": record_id,
        "given_name": given,
        "family_name": family,
        "birth_date": born,
        "birth_year": born.year if born else None,
    }
    row.update(extra)
    return row


def nhs_number(base: int) -> str:
    """A valid NHS number from a nine-digit base (the next base when its check is 10)."""
    while True:
        digits = f"{base:09d}"
        total = sum(int(d) * (10 - i) for i, d in enumerate(digits))
        check = (11 - total % 11) % 11
        if check != 10:
            return digits + str(check)
        base += 1
