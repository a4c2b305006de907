"""Stable person keys across runs, with every merge and split recorded.

A new cluster keeps the key of the previous person it shares most records with, when
that person in turn shares most of its records with this cluster (mutual best; repeated
on what is left, so a three-way reshuffle still keeps keys). Other clusters get new
keys, never reused. Events written to ``person_key_history``:

- ``created``: a new key for records that had none;
- ``split_from``: a new key for records that were part of ``related_key``;
- ``merged_into``: the key's records now belong to ``related_key``; the key is retired;
- ``retired``: none of the key's records are in the warehouse any more.
"""

from __future__ import annotations

import duckdb

from sectorlink.linkage.sqlutil import scalar
from sectorlink.linkage.store import PERSON_INDEX, PERSON_KEY_HISTORY, staging

KEY_PREFIX = "P"
KEY_DIGITS = 9
MAX_PASSES = 20


def _key_number(column: str) -> str:
    return f"try_cast(substr({column}, {len(KEY_PREFIX) + 1}) AS BIGINT)"


def assign_keys(con: duckdb.DuckDBPyConnection, clusters: str, run_id: str) -> dict[str, int]:
    """Write the staged person index and key history for ``clusters``(source, record_id,
    cluster_id), keeping the keys of the published index. Returns event counts."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_overlap AS
            SELECT n.cluster_id, p.person_key, count(*) AS shared
            FROM {clusters} n JOIN {PERSON_INDEX} p USING (source, record_id)
            GROUP BY ALL"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE sl_assign (cluster_id BIGINT, person_key VARCHAR)")
    for _ in range(MAX_PASSES):
        added = con.execute(
            """INSERT INTO sl_assign
            WITH avail AS (
                SELECT * FROM sl_overlap
                WHERE cluster_id NOT IN (SELECT cluster_id FROM sl_assign)
                  AND person_key NOT IN (SELECT person_key FROM sl_assign)
            ),
            best_key AS (
                SELECT cluster_id, first(person_key ORDER BY shared DESC, person_key) AS person_key
                FROM avail GROUP BY cluster_id
            ),
            best_cluster AS (
                SELECT person_key, first(cluster_id ORDER BY shared DESC, cluster_id) AS cluster_id
                FROM avail GROUP BY person_key
            )
            SELECT cluster_id, person_key
            FROM best_key JOIN best_cluster USING (cluster_id, person_key)"""
        ).fetchall()
        if not added or not added[0][0]:
            break

    last = scalar(
        con,
        f"""SELECT coalesce(max(n), 0) FROM (
                SELECT {_key_number("person_key")} AS n FROM {PERSON_INDEX}
                UNION ALL SELECT {_key_number("person_key")} FROM {PERSON_KEY_HISTORY})""",
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_keys AS
            WITH sizes AS (SELECT cluster_id, count(*) AS n FROM {clusters} GROUP BY cluster_id),
            fresh AS (
                SELECT cluster_id, '{KEY_PREFIX}' || lpad(CAST({int(last)} + row_number()
                       OVER (ORDER BY cluster_id) AS VARCHAR), {KEY_DIGITS}, '0') AS person_key
                FROM sizes WHERE cluster_id NOT IN (SELECT cluster_id FROM sl_assign)
            )
            SELECT s.cluster_id, s.n, coalesce(a.person_key, f.person_key) AS person_key,
                   a.person_key IS NULL AS is_new
            FROM sizes s
            LEFT JOIN sl_assign a USING (cluster_id)
            LEFT JOIN fresh f USING (cluster_id)"""
    )
    con.execute(
        f"""INSERT INTO {staging(PERSON_INDEX)}
            SELECT c.source, c.record_id, k.person_key, k.n, '{run_id}'
            FROM {clusters} c JOIN sl_keys k USING (cluster_id)"""
    )
    _history(con, run_id)
    rows = con.execute(
        f"SELECT event, count(*) FROM {staging(PERSON_KEY_HISTORY)} GROUP BY event"
    ).fetchall()
    return {str(e): int(n) for e, n in rows}


def _history(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    con.execute(
        f"""INSERT INTO {staging(PERSON_KEY_HISTORY)}
        WITH new_index AS (SELECT * FROM {staging(PERSON_INDEX)}),
        new_keys AS (SELECT * FROM sl_keys WHERE is_new),
        -- where each new key's records were before
        origin AS (
            SELECT k.person_key, first(o.person_key ORDER BY o.shared DESC, o.person_key) AS old_key
            FROM new_keys k JOIN sl_overlap o USING (cluster_id) GROUP BY k.person_key
        ),
        old_keys AS (SELECT person_key, count(*) AS n FROM {PERSON_INDEX} GROUP BY person_key),
        gone AS (SELECT * FROM old_keys WHERE person_key NOT IN (SELECT person_key FROM sl_assign)),
        -- where the records of a key that lost its cluster went
        successor AS (
            SELECT g.person_key, first(n.person_key ORDER BY cnt DESC, n.person_key) AS new_key
            FROM gone g
            JOIN (SELECT p.person_key AS old, ni.person_key, count(*) AS cnt
                  FROM {PERSON_INDEX} p JOIN new_index ni USING (source, record_id)
                  GROUP BY ALL) n ON n.old = g.person_key
            GROUP BY g.person_key
        )
        SELECT '{run_id}', CASE WHEN o.old_key IS NULL THEN 'created' ELSE 'split_from' END,
               k.person_key, o.old_key, k.n, now()
        FROM new_keys k LEFT JOIN origin o USING (person_key)
        UNION ALL
        SELECT '{run_id}', CASE WHEN s.new_key IS NULL THEN 'retired' ELSE 'merged_into' END,
               g.person_key, s.new_key, g.n, now()
        FROM gone g LEFT JOIN successor s USING (person_key)
        """
    )
