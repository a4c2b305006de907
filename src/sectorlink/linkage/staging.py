"""The last steps every linkage engine shares: keys, staged pairs and the run row.

The plain engine (Splink in the clear) and the bloom engine (encodings) differ in how
they score pairs; from clusters onwards they write the same tables the same way, so the
person index, its history and the report read alike whichever engine made them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import duckdb

from sectorlink.linkage.clustering import ContradictionRules
from sectorlink.linkage.keys import assign_keys
from sectorlink.linkage.sqlutil import scalar
from sectorlink.linkage.store import LINKAGE_PAIRS, LINKAGE_RUN, PERSON_INDEX, staging

if TYPE_CHECKING:
    from sectorlink.linkage.result import LinkResult

# Temporary tables the engines leave for these steps.
PAIRS = "sl_pairs"
CLUSTERS = "sl_clusters"


def key_clusters(con: duckdb.DuckDBPyConnection, records: str, run_id: str) -> dict[str, int]:
    """Stage the person index for ``sl_clusters`` over ``records`` (unique_id, source,
    record_id), keeping the published keys; returns the key events."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_cluster_records AS
            SELECT s.source, s.record_id, c.cluster_id
            FROM {CLUSTERS} c JOIN {records} s USING (unique_id)"""
    )
    return assign_keys(con, "sl_cluster_records", run_id)


def stage_pairs(
    con: duckdb.DuckDBPyConnection, run_id: str, records: str, rules: ContradictionRules
) -> None:
    """Kept pairs (``sl_pairs``) with their sources, whether they ended in one cluster,
    and the contradiction between them (if any) for the report's error examples."""
    rule, projection = rules
    con.execute(
        f"""INSERT INTO {staging(LINKAGE_PAIRS)}
            SELECT '{run_id}', source_l, record_id_l, source_r, record_id_r,
                   match_weight, match_probability, linked, ({rule})
            FROM (
                SELECT a.source AS source_l, a.record_id AS record_id_l,
                       b.source AS source_r, b.record_id AS record_id_r,
                       p.match_weight, p.match_probability,
                       ca.cluster_id = cb.cluster_id AS linked,
                       {projection("a", "b")}
                FROM {PAIRS} p
                JOIN {records} a ON a.unique_id = p.unique_id_l
                JOIN {records} b ON b.unique_id = p.unique_id_r
                JOIN {CLUSTERS} ca ON ca.unique_id = p.unique_id_l
                JOIN {CLUSTERS} cb ON cb.unique_id = p.unique_id_r
            )"""
    )


def staged_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(persons, linked pairs) of the staged run."""
    persons = scalar(con, f"SELECT count(DISTINCT person_key) FROM {staging(PERSON_INDEX)}")
    links = scalar(con, f"SELECT count(*) FROM {staging(LINKAGE_PAIRS)} WHERE linked")
    return int(persons or 0), int(links or 0)


def stage_run(
    con: duckdb.DuckDBPyConnection,
    result: LinkResult,
    started: dt.datetime,
    *,
    blocking: Any,
    model: dict[str, Any],
    version: str,
) -> None:
    """The run's row in ``linkage_run``: counts, training, blocking, model, timings."""
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute(
        f"INSERT INTO {staging(LINKAGE_RUN)} VALUES ({', '.join('?' * 18)})",
        [
            result.run_id,
            started,
            finished,
            result.engine,
            result.records,
            len(result.sources),
            result.pairs_kept,
            result.links,
            result.persons,
            result.threshold_probability,
            result.training.mode,
            result.training.prior,
            json.dumps(result.messages),
            json.dumps(blocking),
            json.dumps(asdict(result.clustering)),
            json.dumps(result.timings),
            json.dumps(model, default=str),
            version,
        ],
    )
