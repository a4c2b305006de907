"""Clusters without chains: connected components, then incoherent clusters split.

Connected components at one threshold joins two different people as soon as a chain of
links runs between them (a father and son both linked to an undated record with their
shared name and address). After the first pass every cluster is checked for a pair of
records that strongly contradict each other (:mod:`contradictions`); those clusters
alone are re-clustered on stronger links only, up a ladder of match weights. A cluster
still incoherent at the top keeps only each record's single best link, and failing that
its records stand alone. All steps are SQL over the edge table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import duckdb

from sectorlink.linkage.contradictions import contradiction_sql, pair_projection
from sectorlink.linkage.sqlutil import scalar

# Extra match weight over the base threshold at each rung of the ladder: small steps, so
# a cluster is split at the lowest threshold that separates its contradiction and keeps
# every stronger link.
LADDER = tuple(2.0 * step for step in range(1, 16))
# Clusters larger than this are split without checking every pair (a cluster this big is
# a blocking or model failure, and checking it would cost n^2).
MAX_CHECKED_CLUSTER = 1_000
# Label propagation rounds (pointer jumping halves chains each round).
MAX_CC_ROUNDS = 64

# A contradiction rule: SQL over ``col_l``/``col_r`` columns giving the kind of
# contradiction or NULL, and the SELECT list that exposes those columns for two aliases.
ContradictionRules = tuple[str, Callable[[str, str], str]]


@dataclass
class ClusterReport:
    threshold_weight: float
    clusters_checked: int = 0
    incoherent_first_pass: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    left_incoherent: int = 0


def connected_components(con: duckdb.DuckDBPyConnection, nodes: str, edges: str, out: str) -> None:
    """``out``(unique_id, cluster_id): cluster_id is the smallest unique_id in the component.

    ``nodes`` has unique_id; ``edges`` has unique_id_l, unique_id_r (all of them links).
    Label propagation in SQL: every record takes the smallest label among itself and
    its neighbours, then the label of its label (pointer jumping), until nothing moves;
    the number of rounds grows with the longest chain, not with the data.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_cc_edges AS
            SELECT unique_id_l AS a, unique_id_r AS b FROM {edges}
            UNION ALL SELECT unique_id_r, unique_id_l FROM {edges}"""
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE sl_cc AS SELECT unique_id, unique_id AS label FROM {nodes}"
    )
    for _ in range(MAX_CC_ROUNDS):
        con.execute(
            """CREATE OR REPLACE TEMP TABLE sl_cc_next AS
            WITH hop AS (
                SELECT c.unique_id, least(c.label, coalesce(min(n.label), c.label)) AS label
                FROM sl_cc c
                LEFT JOIN sl_cc_edges e ON e.a = c.unique_id
                LEFT JOIN sl_cc n ON n.unique_id = e.b
                GROUP BY c.unique_id, c.label
            )
            SELECT h.unique_id, least(h.label, coalesce(j.label, h.label)) AS label
            FROM hop h LEFT JOIN hop j ON j.unique_id = h.label"""
        )
        changed = scalar(
            con,
            """SELECT count(*) FROM sl_cc_next n JOIN sl_cc c USING (unique_id)
               WHERE n.label <> c.label""",
        )
        con.execute("CREATE OR REPLACE TEMP TABLE sl_cc AS SELECT * FROM sl_cc_next")
        if not changed:
            break
    else:  # pragma: no cover - a chain longer than 2^MAX_CC_ROUNDS records
        raise RuntimeError("connected components did not converge")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT unique_id, label AS cluster_id FROM sl_cc"
    )


def incoherent_clusters(
    con: duckdb.DuckDBPyConnection,
    clusters: str,
    std: str,
    fields: Collection[str],
    only: str | None = None,
    rules: ContradictionRules | None = None,
) -> list[int]:
    """Cluster ids holding a contradicting pair (or too big to check); with ``only``
    (a table of unique_id), just the clusters of those records."""
    rule, projection = rules or (contradiction_sql(fields), pair_projection)
    scope = f"WHERE unique_id IN (SELECT unique_id FROM {only})" if only else ""
    rows = con.execute(
        f"""
        WITH scoped AS (
            SELECT * FROM {clusters}
            WHERE cluster_id IN (SELECT cluster_id FROM {clusters} {scope})
        ),
        sizes AS (SELECT cluster_id, count(*) AS n FROM scoped GROUP BY cluster_id),
        members AS (
            SELECT c.cluster_id, s.* FROM scoped c
            JOIN sizes z USING (cluster_id) JOIN {std} s USING (unique_id)
            WHERE z.n BETWEEN 2 AND {MAX_CHECKED_CLUSTER}
        ),
        pairs AS (
            SELECT a.cluster_id, {projection("a", "b")}
            FROM members a JOIN members b
              ON a.cluster_id = b.cluster_id AND a.unique_id < b.unique_id
        )
        SELECT DISTINCT cluster_id FROM pairs WHERE ({rule}) IS NOT NULL
        UNION
        SELECT cluster_id FROM sizes WHERE n > {MAX_CHECKED_CLUSTER}
        ORDER BY 1
        """
    ).fetchall()
    return [int(r[0]) for r in rows]


def coherent_clusters(
    con: duckdb.DuckDBPyConnection,
    *,
    std: str,
    edges: str,
    fields: Collection[str],
    threshold_weight: float,
    out: str,
    check: bool = True,
    rules: ContradictionRules | None = None,
) -> ClusterReport:
    """Cluster ``std``'s records through ``edges`` (unique_id_l, unique_id_r, match_weight)
    into ``out``(unique_id, cluster_id), splitting incoherent clusters.

    ``rules`` replaces the plain-text contradiction rules (an engine whose records hold
    other columns, such as encodings, brings its own)."""
    report = ClusterReport(threshold_weight)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_links AS
            SELECT unique_id_l, unique_id_r, match_weight FROM {edges}
            WHERE match_weight >= {threshold_weight}"""
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE sl_nodes AS SELECT unique_id FROM {std}")
    connected_components(con, "sl_nodes", "sl_links", out)
    if not check:
        return report
    report.clusters_checked = int(scalar(con, f"SELECT count(DISTINCT cluster_id) FROM {out}") or 0)
    bad = incoherent_clusters(con, out, std, fields, rules=rules)
    report.incoherent_first_pass = len(bad)
    for extra in LADDER:
        if not bad:
            break
        weight = threshold_weight + extra
        _recluster(con, out, bad, f"match_weight >= {weight}")
        bad_after = incoherent_clusters(con, out, std, fields, only="sl_sub_nodes", rules=rules)
        report.splits[f"weight >= {weight:g}"] = len(bad)
        bad = bad_after
    if bad:
        report.splits["best link only"] = len(bad)
        _recluster(con, out, bad, "is_best")
        bad = incoherent_clusters(con, out, std, fields, only="sl_sub_nodes", rules=rules)
    if bad:
        report.left_incoherent = len(bad)
        report.splits["records alone"] = len(bad)
        con.execute(f"UPDATE {out} SET cluster_id = unique_id WHERE cluster_id IN ({_ids(bad)})")
    return report


def _ids(values: list[int]) -> str:
    return ", ".join(str(v) for v in values)


def _recluster(con: duckdb.DuckDBPyConnection, out: str, bad: list[int], condition: str) -> None:
    """Re-run components inside the ``bad`` clusters on the links meeting ``condition``."""
    con.execute("CREATE OR REPLACE TEMP TABLE sl_bad (cluster_id BIGINT)")
    con.executemany("INSERT INTO sl_bad VALUES (?)", [[b] for b in bad])
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_sub_nodes AS
            SELECT unique_id, cluster_id FROM {out}
            WHERE cluster_id IN (SELECT cluster_id FROM sl_bad)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_sub_links AS
            WITH inside AS (
                SELECT e.*, a.cluster_id FROM sl_links e
                JOIN sl_sub_nodes a ON a.unique_id = e.unique_id_l
                JOIN sl_sub_nodes b ON b.unique_id = e.unique_id_r AND b.cluster_id = a.cluster_id
            ),
            best AS (
                SELECT node, max(match_weight) AS best FROM (
                    SELECT unique_id_l AS node, match_weight FROM inside
                    UNION ALL SELECT unique_id_r, match_weight FROM inside
                ) GROUP BY node
            ),
            ranked AS (
                -- each record's strongest link (ties kept), seen from either end
                SELECT i.*, (i.match_weight >= bl.best OR i.match_weight >= br.best) AS is_best
                FROM inside i
                JOIN best bl ON bl.node = i.unique_id_l
                JOIN best br ON br.node = i.unique_id_r
            )
            SELECT unique_id_l, unique_id_r FROM ranked WHERE {condition}"""
    )
    connected_components(con, "sl_sub_nodes", "sl_sub_links", "sl_sub_clusters")
    con.execute(
        f"""UPDATE {out} SET cluster_id = s.cluster_id FROM sl_sub_clusters s
            WHERE {out}.unique_id = s.unique_id"""
    )
