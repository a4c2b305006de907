"""Connected components in SQL, and the splitting of clusters that contradict themselves."""

from __future__ import annotations

import datetime as dt

import duckdb
from linkage_helpers import insert_records, person

from sectorlink.linkage.clustering import coherent_clusters, connected_components
from sectorlink.linkage.fields import LINKAGE_FIELDS
from sectorlink.linkage.run import linkage_input_sql
from sectorlink.model import model_ddl


def clusters_of(con: duckdb.DuckDBPyConnection, table: str) -> list[set[int]]:
    rows = con.execute(
        f"SELECT list(unique_id ORDER BY unique_id) FROM {table} GROUP BY cluster_id ORDER BY 1"
    ).fetchall()
    return [set(r[0]) for r in rows]


def test_connected_components_follow_long_chains() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE nodes AS SELECT range AS unique_id FROM range(1, 41)")
    # a chain 1-2-...-30 written in a scrambled order, a pair 31-32, singletons 33..40
    con.execute(
        """CREATE TABLE edges AS
           SELECT i AS unique_id_l, i + 1 AS unique_id_r FROM range(1, 30) t(i)
           UNION ALL SELECT 32, 31 ORDER BY hash(unique_id_l)"""
    )
    connected_components(con, "nodes", "edges", "out")
    groups = clusters_of(con, "out")
    assert set(range(1, 31)) in groups
    assert {31, 32} in groups
    assert len(groups) == 2 + 8
    assert con.execute("SELECT cluster_id FROM out WHERE unique_id = 17").fetchall() == [(1,)]


def _std(rows: list[dict[str, object]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for statement in model_ddl():
        con.execute(statement)
    insert_records(con, rows)
    con.execute(f"CREATE TABLE std AS {linkage_input_sql(con)}")
    return con


def test_a_chain_through_an_undated_record_is_split_on_the_birth_gap() -> None:
    father = person("gp", "1", "john", "smith", dt.date(1955, 3, 1), postcode="NG1 5AB")
    father_again = person("ae", "2", "john", "smith", dt.date(1955, 3, 1), postcode="NG1 5AB")
    undated = person("police", "3", "john", "smith", None, postcode="NG1 5AB")
    son = person("ae", "4", "john", "smith", dt.date(1988, 7, 9), postcode="NG1 5AB")
    con = _std([father, father_again, undated, son])
    ids = dict(con.execute("SELECT record_id, unique_id FROM std").fetchall())
    con.execute("CREATE TABLE edges (unique_id_l BIGINT, unique_id_r BIGINT, match_weight DOUBLE)")
    con.executemany(
        "INSERT INTO edges VALUES (?, ?, ?)",
        [
            [ids["1"], ids["2"], 30.0],  # father's two records: strong
            [ids["2"], ids["3"], 12.0],  # the undated record links to both
            [ids["3"], ids["4"], 11.0],
        ],
    )
    report = coherent_clusters(
        con,
        std="std",
        edges="edges",
        fields=set(LINKAGE_FIELDS),
        threshold_weight=3.17,
        out="out",
    )
    groups = clusters_of(con, "out")
    assert report.incoherent_first_pass == 1
    assert {ids["1"], ids["2"]} <= next(g for g in groups if ids["1"] in g)
    assert ids["4"] not in next(g for g in groups if ids["1"] in g)
    # the weakest link went first: the undated record stays with the father
    assert {ids["1"], ids["2"], ids["3"]} in groups


def test_coherent_clusters_are_left_alone() -> None:
    rows = [person("gp", str(i), "ann", "lee", dt.date(1970, 1, 1)) for i in range(4)]
    con = _std(rows)
    con.execute(
        """CREATE TABLE edges AS SELECT a.unique_id AS unique_id_l, b.unique_id AS unique_id_r,
           20.0 AS match_weight FROM std a JOIN std b ON a.unique_id < b.unique_id"""
    )
    report = coherent_clusters(
        con,
        std="std",
        edges="edges",
        fields=set(LINKAGE_FIELDS),
        threshold_weight=3.17,
        out="out",
    )
    assert report.incoherent_first_pass == 0
    assert len(clusters_of(con, "out")) == 1


def test_links_below_the_threshold_do_not_join() -> None:
    con = _std([person("gp", str(i), "ann", "lee") for i in range(3)])
    con.execute(
        "CREATE TABLE edges AS SELECT 1::BIGINT AS unique_id_l, 2::BIGINT AS unique_id_r, "
        "1.0 AS match_weight"
    )
    coherent_clusters(
        con, std="std", edges="edges", fields=set(LINKAGE_FIELDS), threshold_weight=3.17, out="out"
    )
    assert len(clusters_of(con, "out")) == 3


def _cluster(con: duckdb.DuckDBPyConnection, edges: list[list[object]]):
    con.execute(
        "CREATE OR REPLACE TABLE edges (unique_id_l BIGINT, unique_id_r BIGINT, "
        "match_weight DOUBLE)"
    )
    con.executemany("INSERT INTO edges VALUES (?, ?, ?)", edges)
    return coherent_clusters(
        con, std="std", edges="edges", fields=set(LINKAGE_FIELDS), threshold_weight=3.17, out="out"
    )


def test_clearly_different_first_names_chained_by_weak_links_are_split() -> None:
    # a household without birth dates: Oliver and Harriet Smith, joined through "O Smith"
    rows = [
        person("gp", "1", "oliver", "smith", None, postcode="NG1 5AB"),
        person("ae", "2", "o", "smith", None, postcode="NG1 5AB"),
        person("police", "3", "harriet", "smith", None, postcode="NG1 5AB"),
    ]
    con = _std(rows)
    ids = dict(con.execute("SELECT record_id, unique_id FROM std").fetchall())
    report = _cluster(con, [[ids["1"], ids["2"], 6.0], [ids["2"], ids["3"], 5.0]])
    assert report.incoherent_by_kind == {"given_name": 1}
    assert report.coherence == 0.0
    groups = clusters_of(con, "out")
    assert not any({ids["1"], ids["3"]} <= g for g in groups)
    # the same records, each linked strongly to the third: one person under two names
    report = _cluster(con, [[ids["1"], ids["2"], 30.0], [ids["2"], ids["3"], 30.0]])
    assert report.incoherent_first_pass == 0
    assert clusters_of(con, "out") == [{ids["1"], ids["2"], ids["3"]}]


def test_records_dropped_by_a_split_are_merged_back_when_nothing_keeps_them_apart() -> None:
    nhs_a, nhs_b = "9434765919", "4010232137"
    rows = [
        person("gp", "1", "ann", "lee", dt.date(1970, 1, 1), nhs_number=nhs_a),
        person("ae", "2", "ann", "lee", dt.date(1970, 1, 1)),
        person("amb", "3", "ann", "lee", None),  # an age-only record, weakly linked
        person("police", "4", "ann", "lee", dt.date(1970, 1, 1), nhs_number=nhs_b),
    ]
    con = _std(rows)
    ids = dict(con.execute("SELECT record_id, unique_id FROM std").fetchall())
    report = _cluster(
        con,
        [
            [ids["1"], ids["2"], 30.0],
            [ids["1"], ids["3"], 4.0],  # dropped by the first rung of the split
            [ids["2"], ids["4"], 6.0],  # the wrong link: two NHS numbers
        ],
    )
    assert report.incoherent_by_kind == {"nhs_number": 1}
    assert report.merged_back == 1
    groups = clusters_of(con, "out")
    assert {ids["1"], ids["2"], ids["3"]} in groups
    assert {ids["4"]} in groups


def test_a_middle_name_used_as_the_first_is_no_twin_when_an_identifier_ties_it() -> None:
    # Anthony Luke Wood: A&E knows him by NHS number, once under his middle name; the
    # ambulance record (no NHS number) matches the Anthony records exactly. Against the
    # 'Luke' record it looks like a twin (same birth date, clearly different first
    # names), but that record shares the NHS number of a record the ambulance record is
    # strongly linked to: one person, so the ambulance record stays in his cluster.
    born, nhs = dt.date(1946, 7, 28), "9434765919"
    rows = [
        person("ae", "1", "anthony", "wood", born, postcode="NG1 5AB", nhs_number=nhs),
        person("ae", "2", "luke", "wood", born, postcode="NG1 5AB", nhs_number=nhs),
        person("amb", "3", "anthony", "wood", born, postcode="NG1 5AB"),
    ]
    con = _std(rows)
    ids = dict(con.execute("SELECT record_id, unique_id FROM std").fetchall())
    edges = [[ids["1"], ids["2"], 40.0], [ids["1"], ids["3"], 24.0], [ids["2"], ids["3"], 4.0]]
    report = _cluster(con, edges)
    assert report.incoherent_first_pass == 0
    assert clusters_of(con, "out") == [{ids["1"], ids["2"], ids["3"]}]


def test_twins_stay_apart_when_no_identifier_ties_them() -> None:
    # Real twins at one address: each has their own NHS number, and an undated record of
    # one links weakly to both; the shared-identifier bridge must not join them.
    born = dt.date(2001, 5, 4)
    rows = [
        person("ae", "1", "anthony", "wood", born, postcode="NG1 5AB", nhs_number="9434765919"),
        person("ae", "2", "luke", "wood", born, postcode="NG1 5AB", nhs_number="4010232137"),
        person("amb", "3", "anthony", "wood", born, postcode="NG1 5AB"),
    ]
    con = _std(rows)
    ids = dict(con.execute("SELECT record_id, unique_id FROM std").fetchall())
    _cluster(con, [[ids["1"], ids["3"], 24.0], [ids["2"], ids["3"], 5.0]])
    groups = clusters_of(con, "out")
    assert {ids["1"], ids["3"]} in groups and {ids["2"]} in groups
