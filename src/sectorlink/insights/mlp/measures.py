"""The National Center for Medical-Legal Partnership's standard measures, per
neighbourhood and quarter: patients screened, with a need, referred, receiving legal help
(reached intake), with the need resolved, and the financial benefit won."""

from __future__ import annotations

import duckdb
import pandas as pd

from sectorlink.insights.mlp.cases import CASE_TABLE

# measure -> condition on a case (each counts screenings)
MEASURES = {
    "screened": "true",
    "with_need": "need",
    "referred": "referred",
    "legal_help": "legal_intake",
    "resolved": "outcome = 'need_addressed'",
}


def measure_totals(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Every measure over all cases (before any disclosure control): the counts, the
    financial benefit won (`benefit_won`, a sum) and the cases it was won in."""
    counts = ", ".join(f"count(*) FILTER (WHERE {c}) AS {m}" for m, c in MEASURES.items())
    row = con.execute(
        f"""SELECT {counts}, coalesce(sum(financial_benefit), 0) AS benefit_won,
                   count(financial_benefit) AS cases_with_benefit FROM {CASE_TABLE}"""
    ).df()
    return {k: float(v) for k, v in row.iloc[0].items()}


def measures_by(con: duckdb.DuckDBPyConnection, dimension: str) -> pd.DataFrame:
    """Every count measure per `neighbourhood` or `quarter`, in long form
    (`dimension, measure, screenings`), ready for the gate with
    `labels=[dimension, 'measure']`."""
    if dimension not in ("neighbourhood", "quarter"):
        raise ValueError(f"MLP measures are by neighbourhood or quarter, not {dimension!r}")
    counts = ", ".join(f"count(*) FILTER (WHERE {c}) AS {m}" for m, c in MEASURES.items())
    wide = con.execute(
        f"SELECT {dimension}, {counts} FROM {CASE_TABLE} GROUP BY ALL ORDER BY {dimension}"
    ).df()
    return _long(wide, dimension)


def _long(wide: pd.DataFrame, dimension: str) -> pd.DataFrame:
    long = wide.melt(id_vars=[dimension], var_name="measure", value_name="screenings")
    order = {m: i for i, m in enumerate(MEASURES)}
    long["_order"] = long["measure"].map(order)
    long = long.sort_values([dimension, "_order"], ignore_index=True).drop(columns="_order")
    return long.astype({"screenings": "int64"})


def measure_by_area_quarter(con: duckdb.DuckDBPyConnection, measure: str) -> pd.DataFrame:
    """One measure per neighbourhood and quarter, crossed, in long form
    (`neighbourhood, quarter, screenings`; every quarter with a screening for every
    neighbourhood, zeros filled), ready for the gate with
    `labels=['neighbourhood', 'quarter']`."""
    if measure not in MEASURES:
        raise ValueError(f"no MLP measure {measure!r}; the measures are {list(MEASURES)}")
    return (
        con.execute(
            f"""WITH q AS (SELECT DISTINCT quarter FROM {CASE_TABLE}),
                 n AS (SELECT DISTINCT neighbourhood FROM {CASE_TABLE})
        SELECT n.neighbourhood, q.quarter,
               count(c.screening_id) FILTER (WHERE {MEASURES[measure]}) AS screenings
        FROM n CROSS JOIN q
        LEFT JOIN {CASE_TABLE} c ON c.neighbourhood = n.neighbourhood AND c.quarter = q.quarter
        GROUP BY ALL ORDER BY ALL"""
        )
        .df()
        .astype({"screenings": "int64"})
    )


def benefit_by(con: duckdb.DuckDBPyConnection, dimension: str) -> pd.DataFrame:
    """Financial benefit won per `neighbourhood` or `quarter` (a sum of money: published as
    a statistic, hidden where the cases behind it are few; whole units of the currency):
    `dimension,
    cases_with_benefit, benefit_won, median_benefit`."""
    if dimension not in ("neighbourhood", "quarter"):
        raise ValueError(f"MLP benefit is by neighbourhood or quarter, not {dimension!r}")
    return con.execute(
        f"""SELECT {dimension}, count(financial_benefit) AS cases_with_benefit,
                   CAST(round(coalesce(sum(financial_benefit), 0)) AS BIGINT) AS benefit_won,
                   CAST(round(median(financial_benefit)) AS BIGINT) AS median_benefit
        FROM {CASE_TABLE} GROUP BY ALL ORDER BY {dimension}"""
    ).df()
