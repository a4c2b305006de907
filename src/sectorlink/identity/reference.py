"""The small reference tables that standardising needs, loaded into a DuckDB connection.

They ship as CSV files in ``identity/data`` (source and licence in its README). They are
registered as temporary tables so the same SQL runs on the warehouse connection and on a
scratch connection (the Bloom-filter engine), without writing anything to the warehouse.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb

DATA_DIR = Path(str(resources.files("sectorlink.identity") / "data"))

# Temporary table names; prefixed so they never clash with model tables.
NICKNAMES = "sl_ref_nicknames"
NAME_WORDS = "sl_ref_name_words"
ADDRESS_WORDS = "sl_ref_address_words"


def _csv(name: str) -> str:
    return str(DATA_DIR / name).replace("'", "''")


def register_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the temporary reference tables on ``con``."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {NICKNAMES} AS
        WITH raw AS (
            SELECT nickname, canonical, nullif(trim(coalesce(sex, '')), '') AS sex,
                   row_number() OVER () AS priority
            FROM read_csv('{_csv("nicknames.csv")}', header = true, all_varchar = true)
        )
        -- one row per nickname: the canonical name for men, for women, and when the
        -- sex is unknown (the first row in the file wins)
        SELECT nickname,
               arg_min(canonical, priority) FILTER (WHERE sex IS NULL OR sex = 'M') AS canonical_m,
               arg_min(canonical, priority) FILTER (WHERE sex IS NULL OR sex = 'F') AS canonical_f,
               arg_min(canonical, priority) AS canonical_any
        FROM raw GROUP BY nickname
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {NAME_WORDS} AS
        SELECT word, kind
        FROM read_csv('{_csv("name_words.csv")}', header = true, all_varchar = true)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {ADDRESS_WORDS} AS
        SELECT abbreviation, word
        FROM read_csv('{_csv("address_words.csv")}', header = true, all_varchar = true)
        """
    )


def name_words(kind: str) -> list[str]:
    """The words of one kind (title, suffix, particle) from ``name_words.csv``."""
    lines = (DATA_DIR / "name_words.csv").read_text().splitlines()[1:]
    return [w for w, k in (line.split(",") for line in lines if line) if k == kind]


def address_words() -> dict[str, str]:
    lines = (DATA_DIR / "address_words.csv").read_text().splitlines()[1:]
    pairs = (line.split(",", 1) for line in lines if line)
    return {abbreviation: word for abbreviation, word in pairs}
