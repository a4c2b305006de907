"""Stable person keys: kept across runs, new ones for new people, merges and splits recorded."""

from __future__ import annotations

import duckdb
import pytest

from sectorlink.linkage.keys import assign_keys
from sectorlink.linkage.store import create_staging, ensure_tables, publish


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    ensure_tables(c)
    return c


def run(con: duckdb.DuckDBPyConnection, run_id: str, clusters: dict[str, int]) -> dict[str, str]:
    """Publish a run whose clusters map record id -> cluster id; return record -> key."""
    create_staging(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE clusters "
        "(source VARCHAR, record_id VARCHAR, cluster_id BIGINT)"
    )
    con.executemany(
        "INSERT INTO clusters VALUES ('s', ?, ?)", [[r, c] for r, c in clusters.items()]
    )
    assign_keys(con, "clusters", run_id)
    # the run row is not needed for keys; publish only moves what is staged
    publish(con)
    return dict(con.execute("SELECT record_id, person_key FROM person_index").fetchall())


def events(con: duckdb.DuckDBPyConnection, run_id: str) -> set[tuple[str, str, str | None]]:
    rows = con.execute(
        "SELECT event, person_key, related_key FROM person_key_history WHERE run_id = ?", [run_id]
    ).fetchall()
    return {(e, k, r) for e, k, r in rows}


def test_first_run_creates_a_key_per_cluster(con: duckdb.DuckDBPyConnection) -> None:
    keys = run(con, "r1", {"a": 1, "b": 1, "c": 2})
    assert keys["a"] == keys["b"] != keys["c"]
    assert {e for e, _, _ in events(con, "r1")} == {"created"}
    assert all(k.startswith("P") and len(k) == 10 for k in keys.values())


def test_same_clusters_keep_their_keys_and_record_nothing(con: duckdb.DuckDBPyConnection) -> None:
    first = run(con, "r1", {"a": 1, "b": 1, "c": 2})
    second = run(con, "r2", {"a": 7, "b": 7, "c": 9})  # cluster ids differ between runs
    assert first == second
    assert events(con, "r2") == set()


def test_a_new_record_joins_an_existing_person(con: duckdb.DuckDBPyConnection) -> None:
    first = run(con, "r1", {"a": 1, "b": 1, "c": 2})
    second = run(con, "r2", {"a": 1, "b": 1, "c": 2, "d": 1, "e": 3})
    assert second["d"] == first["a"]
    assert second["e"] not in first.values()
    assert events(con, "r2") == {("created", second["e"], None)}


def test_merge_keeps_the_larger_key_and_records_the_other(con: duckdb.DuckDBPyConnection) -> None:
    first = run(con, "r1", {"a": 1, "b": 1, "c": 2})
    second = run(con, "r2", {"a": 1, "b": 1, "c": 1})
    assert set(second.values()) == {first["a"]}
    assert events(con, "r2") == {("merged_into", first["c"], first["a"])}


def test_split_keeps_the_key_on_the_larger_part(con: duckdb.DuckDBPyConnection) -> None:
    first = run(con, "r1", {"a": 1, "b": 1, "c": 1})
    second = run(con, "r2", {"a": 1, "b": 1, "c": 2})
    assert second["a"] == second["b"] == first["a"]
    assert second["c"] != first["a"]
    assert events(con, "r2") == {("split_from", second["c"], first["a"])}


def test_keys_are_never_reused(con: duckdb.DuckDBPyConnection) -> None:
    first = run(con, "r1", {"a": 1, "b": 2})
    run(con, "r2", {"a": 1})  # b's person is gone
    assert ("retired", first["b"], None) in events(con, "r2")
    third = run(con, "r3", {"a": 1, "x": 5})
    assert third["x"] not in first.values()


def test_a_reshuffle_keeps_as_many_keys_as_it_can(con: duckdb.DuckDBPyConnection) -> None:
    first = run(con, "r1", {"a": 1, "b": 1, "c": 2, "d": 2, "e": 3})
    # b moves to c/d's person, e joins a's
    second = run(con, "r2", {"a": 1, "e": 1, "b": 2, "c": 2, "d": 2})
    assert second["a"] == first["a"]
    assert second["c"] == first["c"]
    assert ("merged_into", first["e"], first["a"]) in events(con, "r2")
