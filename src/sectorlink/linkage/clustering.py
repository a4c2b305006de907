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

from sectorlink.linkage.comparisons import NATIONAL_IDS
from sectorlink.linkage.contradictions import (
    BRIDGEABLE,
    IDENTITY_BRIDGEABLE,
    contradiction_sql,
    pair_projection,
)
from sectorlink.linkage.sqlutil import scalar

# Extra match weight over the base threshold at each rung of the ladder: small steps, so
# a cluster is split at the lowest threshold that separates its contradiction and keeps
# every stronger link.
LADDER = tuple(2.0 * step for step in range(1, 16))
# Clusters larger than this are split without checking every pair (a cluster this big is
# a blocking or model failure, and checking it would cost n^2).
MAX_CHECKED_CLUSTER = 1_000
# A link this much stronger than the threshold "links strongly": two records with
# clearly different first names (and no identifier in common) may share a cluster only
# when linked this strongly, directly or each to one third record; 10 bits is a
# likelihood ratio of about 1,000 beyond the threshold's.
BRIDGE_WEIGHT = 10.0
# Label propagation rounds (pointer jumping halves chains each round).
MAX_CC_ROUNDS = 64
# Columns that, equal on two records, name one person: a national identifier in the clear
# or as a keyed token (the bloom engine's records), and a source's own person id (within
# that source only: two partners' numbering schemes may collide).
IDENTITY_COLUMNS = (*NATIONAL_IDS, *(f"tok_{c}" for c in NATIONAL_IDS))
SOURCE_IDENTITY_COLUMNS = ("local_person_id", "tok_local_person_id")

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
    # multi-record clusters of the first pass, and the share holding no contradiction
    # (cluster coherence before any split)
    multi_record_clusters: int = 0
    coherence: float = 1.0
    # first-pass incoherent clusters per contradiction kind (a cluster may count twice)
    incoherent_by_kind: dict[str, int] = field(default_factory=dict)
    # parts of split clusters joined again because nothing kept them apart (`merge_back`)
    merged_back: int = 0


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


def identity_columns(con: duckdb.DuckDBPyConnection, std: str) -> tuple[list[str], list[str]]:
    """The :data:`IDENTITY_COLUMNS` and :data:`SOURCE_IDENTITY_COLUMNS` that ``std`` holds."""
    have = {str(r[0]) for r in con.execute(f"DESCRIBE {std}").fetchall()}
    return (
        [c for c in IDENTITY_COLUMNS if c in have],
        [c for c in SOURCE_IDENTITY_COLUMNS if c in have and "source" in have],
    )


def _identity_bridged_sql(strong: str, ids: tuple[list[str], list[str]], kinds: str) -> str:
    """SELECT of the flagged pairs ``f`` (A, C) of ``kinds`` that a strong link from A
    (or C) to a record B of the cluster sharing an identifier with C (or A) excuses: A and
    C are one person whatever their first names say (the father's record never carries
    his son's NHS number). Plain joins, not a correlated EXISTS per pair, so the check
    stays a hash join at a million records."""
    national, own = ids
    same = [f"coalesce(b.{c} = c.{c}, false)" for c in national]
    same += [f"coalesce(b.source = c.source AND b.{c} = c.{c}, false)" for c in own]
    if not same:
        return "SELECT cluster_id, sl_ida, sl_idb, kind FROM flagged WHERE false"
    shared = " OR ".join(same)

    def via(a: str, c: str) -> str:
        return f"""SELECT f.cluster_id, f.sl_ida, f.sl_idb, f.kind FROM flagged f
                   JOIN {strong} s ON s.a = f.{a}
                   JOIN members b ON b.unique_id = s.b AND b.cluster_id = f.cluster_id
                   JOIN members c ON c.unique_id = f.{c} AND c.cluster_id = f.cluster_id
                   WHERE f.kind IN ({kinds}) AND b.unique_id <> c.unique_id AND ({shared})"""

    return f"{via('sl_ida', 'sl_idb')} UNION {via('sl_idb', 'sl_ida')}"


def _contradicting_pairs_sql(
    clusters: str,
    std: str,
    scope: str,
    rules: ContradictionRules,
    strong: str | None,
    ids: tuple[list[str], list[str]] = ([], []),
) -> str:
    """WITH clauses ending in ``sizes`` (cluster_id, n) and ``contradicting`` (cluster_id,
    sl_ida, sl_idb, kind): the pairs of records in one cluster of ``clusters`` (within
    ``scope``) that contradict, less the :data:`BRIDGEABLE` ones a strong link excuses and
    the :data:`IDENTITY_BRIDGEABLE` ones a strong link and a shared identifier (``ids``,
    from :func:`identity_columns`) excuse."""
    rule, projection = rules
    bridgeable = ", ".join(f"'{k}'" for k in sorted(BRIDGEABLE))
    by_identity = ", ".join(f"'{k}'" for k in sorted(IDENTITY_BRIDGEABLE))
    if strong:
        bridged = f""",
        bridged AS (
            SELECT f.cluster_id, f.sl_ida, f.sl_idb, f.kind FROM flagged f
            JOIN {strong} s ON s.a = f.sl_ida AND s.b = f.sl_idb
            WHERE f.kind IN ({bridgeable})
            UNION
            SELECT f.cluster_id, f.sl_ida, f.sl_idb, f.kind FROM flagged f
            JOIN {strong} s1 ON s1.a = f.sl_ida
            JOIN {strong} s2 ON s2.a = s1.b AND s2.b = f.sl_idb
            WHERE f.kind IN ({bridgeable})
            UNION
            {_identity_bridged_sql(strong, ids, by_identity)}
        ),
        contradicting AS (
            SELECT f.* FROM flagged f
            ANTI JOIN bridged x
              ON x.cluster_id = f.cluster_id AND x.sl_ida = f.sl_ida
             AND x.sl_idb = f.sl_idb AND x.kind = f.kind
        )"""
    else:
        bridged = ", contradicting AS (SELECT * FROM flagged)"
    return f"""
        WITH scoped AS (
            SELECT * FROM {clusters}
            WHERE cluster_id IN (SELECT cluster_id FROM {clusters} {scope})
        ),
        sizes AS (SELECT cluster_id, count(*) AS n FROM scoped GROUP BY cluster_id),
        members AS MATERIALIZED (
            SELECT c.cluster_id, s.* FROM scoped c
            JOIN sizes z USING (cluster_id) JOIN {std} s USING (unique_id)
            WHERE z.n BETWEEN 2 AND {MAX_CHECKED_CLUSTER}
        ),
        pairs AS (
            SELECT a.cluster_id, a.unique_id AS sl_ida, b.unique_id AS sl_idb,
                   {projection("a", "b")}
            FROM members a JOIN members b
              ON a.cluster_id = b.cluster_id AND a.unique_id < b.unique_id
        ),
        flagged AS MATERIALIZED (
            SELECT cluster_id, sl_ida, sl_idb, kind FROM (
                SELECT cluster_id, sl_ida, sl_idb, ({rule}) AS kind FROM pairs
            ) WHERE kind IS NOT NULL
        ){bridged}
    """


def incoherent_clusters(
    con: duckdb.DuckDBPyConnection,
    clusters: str,
    std: str,
    fields: Collection[str],
    only: str | None = None,
    rules: ContradictionRules | None = None,
    strong: str | None = None,
    by_kind: dict[str, int] | None = None,
) -> list[int]:
    """Cluster ids holding a contradicting pair (or too big to check); with ``only``
    (a table of unique_id), just the clusters of those records. ``strong`` (a, b: both
    directions) holds the strong links that excuse a :data:`BRIDGEABLE` contradiction;
    ``by_kind``, when given, receives the number of clusters per kind."""
    rules = rules or (contradiction_sql(fields), pair_projection)
    scope = f"WHERE unique_id IN (SELECT unique_id FROM {only})" if only else ""
    ids = identity_columns(con, std) if strong else ([], [])
    rows = con.execute(
        _contradicting_pairs_sql(clusters, std, scope, rules, strong, ids)
        + f"""
        SELECT DISTINCT cluster_id, kind FROM contradicting
        UNION ALL
        SELECT cluster_id, 'too big to check' FROM sizes WHERE n > {MAX_CHECKED_CLUSTER}
        ORDER BY 1
        """
    ).fetchall()
    if by_kind is not None:
        for _, kind in rows:
            by_kind[str(kind)] = by_kind.get(str(kind), 0) + 1
    return sorted({int(r[0]) for r in rows})


def merge_back(
    con: duckdb.DuckDBPyConnection,
    out: str,
    first: str,
    std: str,
    rules: ContradictionRules,
    strong: str,
) -> int:
    """Join again the parts of split clusters that no contradiction keeps apart.

    Splitting a cluster on stronger links drops every weak link in it, not only those
    of the record that made it incoherent: a person's age-only records fall away with
    the wrong link. So the parts of each first-pass cluster (``first``: unique_id,
    cluster_id) are merged again along their links, strongest first, whenever no record
    of one part contradicts a record of the other (constrained agglomeration). Only the
    clusters that were split are read, so this is small. Returns the merges made."""
    flagged = con.execute(
        _contradicting_pairs_sql(first, std, "", rules, strong, identity_columns(con, std))
        + "SELECT sl_ida, sl_idb FROM contradicting"
    ).fetchall()
    links = con.execute(
        f"""SELECT e.unique_id_l, e.unique_id_r, e.match_weight
            FROM sl_links e
            JOIN {first} a ON a.unique_id = e.unique_id_l
            JOIN {first} b ON b.unique_id = e.unique_id_r AND b.cluster_id = a.cluster_id
            JOIN {out} ca ON ca.unique_id = e.unique_id_l
            JOIN {out} cb ON cb.unique_id = e.unique_id_r
            WHERE ca.cluster_id <> cb.cluster_id
            ORDER BY e.match_weight DESC, e.unique_id_l, e.unique_id_r"""
    ).fetchall()
    if not links:
        return 0
    current = dict(
        con.execute(
            f"SELECT o.unique_id, o.cluster_id FROM {out} o JOIN {first} f USING (unique_id)"
        ).fetchall()
    )
    conflicts: dict[int, set[int]] = {}
    for a, b in flagged:
        conflicts.setdefault(int(a), set()).add(int(b))
        conflicts.setdefault(int(b), set()).add(int(a))
    group = {int(r): int(c) for r, c in current.items()}
    members: dict[int, set[int]] = {}
    for record, cluster in group.items():
        members.setdefault(cluster, set()).add(record)
    merges = 0
    for left, right, _ in links:
        ga, gb = group[int(left)], group[int(right)]
        if ga == gb:
            continue
        small, big = sorted((ga, gb), key=lambda g: len(members[g]))
        if any(conflicts.get(r, set()) & members[big] for r in members[small]):
            continue
        keep = min(ga, gb)
        gone = gb if keep == ga else ga
        for record in members[gone]:
            group[record] = keep
        members[keep] |= members.pop(gone)
        merges += 1
    if merges:
        changed = [(r, c) for r, c in group.items() if current[r] != c]
        con.execute("CREATE OR REPLACE TEMP TABLE sl_merged (unique_id BIGINT, cluster_id BIGINT)")
        con.executemany("INSERT INTO sl_merged VALUES (?, ?)", changed)
        con.execute(
            f"""UPDATE {out} SET cluster_id = m.cluster_id FROM sl_merged m
                WHERE {out}.unique_id = m.unique_id"""
        )
    return merges


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
    report.multi_record_clusters = int(
        scalar(
            con,
            f"SELECT count(*) FROM (SELECT cluster_id FROM {out} GROUP BY 1 HAVING count(*) > 1)",
        )
        or 0
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_strong AS
            SELECT unique_id_l AS a, unique_id_r AS b FROM sl_links
            WHERE match_weight >= {threshold_weight + BRIDGE_WEIGHT}
            UNION ALL
            SELECT unique_id_r, unique_id_l FROM sl_links
            WHERE match_weight >= {threshold_weight + BRIDGE_WEIGHT}"""
    )

    def find(only: str | None = None, by_kind: dict[str, int] | None = None) -> list[int]:
        return incoherent_clusters(
            con, out, std, fields, only=only, rules=rules, strong="sl_strong", by_kind=by_kind
        )

    bad = find(by_kind=report.incoherent_by_kind)
    report.incoherent_first_pass = len(bad)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_first_pass AS
            SELECT unique_id, cluster_id FROM {out}
            WHERE cluster_id IN (SELECT unnest(?::BIGINT[]))""",
        [bad],
    )
    if report.multi_record_clusters:
        report.coherence = round(1 - len(bad) / report.multi_record_clusters, 6)
    for extra in LADDER:
        if not bad:
            break
        weight = threshold_weight + extra
        _recluster(con, out, bad, f"match_weight >= {weight}")
        bad_after = find("sl_sub_nodes")
        report.splits[f"weight >= {weight:g}"] = len(bad)
        bad = bad_after
    if bad:
        report.splits["best link only"] = len(bad)
        _recluster(con, out, bad, "is_best")
        bad = find("sl_sub_nodes")
    if bad:
        report.left_incoherent = len(bad)
        report.splits["records alone"] = len(bad)
        con.execute(f"UPDATE {out} SET cluster_id = unique_id WHERE cluster_id IN ({_ids(bad)})")
    if report.incoherent_first_pass:
        report.merged_back = merge_back(
            con,
            out,
            "sl_first_pass",
            std,
            rules or (contradiction_sql(fields), pair_projection),
            "sl_strong",
        )
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
