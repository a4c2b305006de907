"""The linkage tables in the warehouse, and the one transaction that publishes a run.

A run writes everything into ``*__staging`` tables first; :func:`publish` swaps them in
and appends to the history tables in a single transaction. A run stopped at any point
before that leaves the previous person index exactly as it was.
"""

from __future__ import annotations

import duckdb

from sectorlink.linkage.sqlutil import table_exists

# The person index: one row per person record, replaced whole by each run.
PERSON_INDEX = "person_index"
# Scored pairs of the latest run (those above a low floor), replaced whole by each run.
LINKAGE_PAIRS = "linkage_pairs"
# Identifier quality of the latest run (values nulled as invalid, per source).
IDENTIFIER_QUALITY = "linkage_identifier_quality"
# Appended to by every run.
LINKAGE_RUN = "linkage_run"
PERSON_KEY_HISTORY = "person_key_history"

STAGING_SUFFIX = "__staging"

TABLE_DOCS: dict[str, str] = {
    PERSON_INDEX: "(source, record_id) -> person_key: the person index of the latest run",
    LINKAGE_PAIRS: "record pairs Splink scored in the latest run, with match weights",
    PERSON_KEY_HISTORY: "every person key created, kept, merged, split or retired, per run",
    LINKAGE_RUN: "one row per run: engine, counts, training, model JSON, timings",
    IDENTIFIER_QUALITY: "per source and identifier: values nulled as invalid in the latest run",
}

REPLACED_DDL: dict[str, str] = {
    PERSON_INDEX: """(
        source VARCHAR NOT NULL,
        record_id VARCHAR NOT NULL,
        person_key VARCHAR NOT NULL,
        cluster_size INTEGER NOT NULL,
        run_id VARCHAR NOT NULL,
        PRIMARY KEY (source, record_id)
    )""",
    LINKAGE_PAIRS: """(
        run_id VARCHAR NOT NULL,
        source_l VARCHAR NOT NULL,
        record_id_l VARCHAR NOT NULL,
        source_r VARCHAR NOT NULL,
        record_id_r VARCHAR NOT NULL,
        match_weight DOUBLE NOT NULL,
        match_probability DOUBLE NOT NULL,
        linked BOOLEAN NOT NULL,
        contradiction VARCHAR
    )""",
    IDENTIFIER_QUALITY: """(
        run_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        identifier VARCHAR NOT NULL,
        records BIGINT NOT NULL,
        invalid_nulled BIGINT NOT NULL
    )""",
}

APPENDED_DDL: dict[str, str] = {
    LINKAGE_RUN: """(
        run_id VARCHAR PRIMARY KEY,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        engine VARCHAR NOT NULL,
        records BIGINT NOT NULL,
        sources INTEGER NOT NULL,
        pairs_kept BIGINT NOT NULL,
        links BIGINT NOT NULL,
        persons BIGINT NOT NULL,
        threshold_probability DOUBLE NOT NULL,
        training_mode VARCHAR NOT NULL,
        prior DOUBLE NOT NULL,
        messages JSON NOT NULL,
        blocking JSON NOT NULL,
        clustering JSON NOT NULL,
        timings JSON NOT NULL,
        model JSON NOT NULL,
        splink_version VARCHAR NOT NULL
    )""",
    PERSON_KEY_HISTORY: """(
        run_id VARCHAR NOT NULL,
        event VARCHAR NOT NULL,
        person_key VARCHAR NOT NULL,
        related_key VARCHAR,
        records INTEGER NOT NULL,
        recorded_at TIMESTAMP NOT NULL
    )""",
}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the linkage tables that do not exist yet (empty)."""
    for name, ddl in {**REPLACED_DDL, **APPENDED_DDL}.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} {ddl}")


def staging(name: str) -> str:
    return name + STAGING_SUFFIX


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Remove staging tables a stopped run left behind."""
    for name in (*REPLACED_DDL, *APPENDED_DDL):
        con.execute(f"DROP TABLE IF EXISTS {staging(name)}")


def create_staging(con: duckdb.DuckDBPyConnection) -> None:
    drop_staging(con)
    for name, ddl in {**REPLACED_DDL, **APPENDED_DDL}.items():
        con.execute(f"CREATE TABLE {staging(name)} {ddl}")


def publish(con: duckdb.DuckDBPyConnection) -> None:
    """Swap the staged tables in and append the staged history, all or nothing."""
    con.execute("BEGIN TRANSACTION")
    try:
        for name in REPLACED_DDL:
            con.execute(f"DROP TABLE IF EXISTS {name}")
            con.execute(f"ALTER TABLE {staging(name)} RENAME TO {name}")
        for name in APPENDED_DDL:
            con.execute(f"INSERT INTO {name} SELECT * FROM {staging(name)}")
            con.execute(f"DROP TABLE {staging(name)}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def has_index(con: duckdb.DuckDBPyConnection) -> bool:
    return table_exists(con, PERSON_INDEX)
