"""A plain Splink set-up, the yardstick the benchmarks measure sectorlink against.

What a competent analyst writes in an afternoon from Splink's documentation: names and
dates lower-cased, Splink's default comparisons for the fields present, a few obvious
blocking rules, the standard training recipe, connected components at 0.9.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from sectorlink.linkage.sqlutil import scalar

THRESHOLD = 0.9


@dataclass
class BaselineResult:
    clusters: pa.Table  # source, record_id, cluster_id
    seconds: float
    pairs_scored: int


def _input_sql(source: str) -> str:
    return f"""
        SELECT row_number() OVER (ORDER BY source, record_id) AS unique_id, source, record_id,
               lower(coalesce(given_name, split_part(full_name, ' ', 1))) AS given_name,
               lower(coalesce(family_name,
                     CASE WHEN contains(full_name, ' ')
                          THEN regexp_extract(full_name, '(\\S+)$') END))
                   AS family_name,
               lower(CAST(birth_date AS VARCHAR)) AS birth_date,
               lower(postcode) AS postcode, lower(address) AS address, sex,
               nhs_number, ni_number, ssn, phone, lower(email) AS email
        FROM {source}
    """


def _present(con: duckdb.DuckDBPyConnection, cols: list[str]) -> set[str]:
    counts = ", ".join(f"count({c})" for c in cols)
    row = con.execute(f"SELECT {counts} FROM baseline_input").fetchall()[0]
    return {c for c, n in zip(cols, row, strict=True) if n}


def run_baseline(
    warehouse: duckdb.DuckDBPyConnection, source: str = "person_record", seed: int = 42
) -> BaselineResult:
    """Link ``source`` (a table or parenthesised query with person_record columns) the
    plain way; time includes preparing the input, training, predicting and clustering."""
    start = time.perf_counter()
    data = warehouse.sql(_input_sql(source)).to_arrow_table()
    con = duckdb.connect()
    con.register("baseline_arrow", data)
    con.execute("CREATE TABLE baseline_input AS SELECT * FROM baseline_arrow")
    present = _present(
        con,
        [
            "given_name",
            "family_name",
            "birth_date",
            "postcode",
            "address",
            "sex",
            "nhs_number",
            "ni_number",
            "ssn",
            "phone",
            "email",
        ],
    )
    comparisons: list[Any] = []
    if "given_name" in present:
        comparisons.append(cl.NameComparison("given_name"))
    if "family_name" in present:
        comparisons.append(cl.NameComparison("family_name"))
    if "birth_date" in present:
        comparisons.append(cl.DateOfBirthComparison("birth_date", input_is_string=True))
    if "postcode" in present:
        comparisons.append(cl.PostcodeComparison("postcode"))
    if "address" in present:
        comparisons.append(cl.JaroWinklerAtThresholds("address"))
    comparisons += [
        cl.ExactMatch(c) for c in ("sex", "nhs_number", "ni_number", "ssn", "phone") if c in present
    ]
    if "email" in present:
        comparisons.append(cl.EmailComparison("email"))

    rules: list[Any] = [
        block_on(*cols)
        for cols in (("given_name", "family_name"), ("birth_date",), ("family_name", "postcode"))
        if set(cols) <= present
    ]
    rules += [block_on(c) for c in ("nhs_number", "email") if c in present]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=False,
        additional_columns_to_retain=["source", "record_id"],
    )
    linker = Linker(DuckDBAPI(con).register("baseline_input"), settings, log_level=logging.ERROR)
    deterministic: list[Any] = [
        block_on(*c) for c in (("given_name", "family_name", "birth_date"),) if set(c) <= present
    ]
    if deterministic:
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
    for cols in (("birth_date",), ("given_name", "family_name")):
        if set(cols) <= present:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols))
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    pairs = int(scalar(con, f"SELECT count(*) FROM {predictions.physical_name}") or 0)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=THRESHOLD
    )
    clusters = con.sql(
        "SELECT source, record_id, CAST(cluster_id AS VARCHAR) AS cluster_id "
        f"FROM {clustered.physical_name}"
    ).to_arrow_table()
    return BaselineResult(clusters, time.perf_counter() - start, pairs)
