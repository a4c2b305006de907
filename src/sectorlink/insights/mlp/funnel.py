"""The MLP funnel: screened -> need found -> referred -> legal intake -> need addressed,
counted by a dimension (domain, neighbourhood, month), with the conversion from each step
to the next and the median days between them."""

from __future__ import annotations

import itertools

import duckdb
import pandas as pd

from sectorlink.insights.mlp.cases import CASE_TABLE, DOMAINS

STEPS = ("screened", "need_found", "referred", "legal_intake", "need_addressed")

# The days between a step and the one before it (None for the first steps: a need is
# found at the screening itself).
_DAYS = {
    "referred": "referral_date - screen_date",
    "legal_intake": "intake_date - referral_date",
    "need_addressed": "outcome_date - intake_date",
}

DIMENSIONS = ("all", "domain", "neighbourhood", "month")


def _step_conditions(domain: str | None) -> dict[str, str]:
    """Each step's condition on a case; per domain, the need is that domain's flag and
    the later steps are a referral for that domain."""
    if domain is None:
        need, referral = "need", "referred"
    else:
        need, referral = "flag", "(referred AND domain = d_domain)"
    return {
        "screened": "true",
        "need_found": need,
        "referred": referral,
        "legal_intake": f"{referral} AND legal_intake",
        "need_addressed": f"{referral} AND legal_intake AND outcome = 'need_addressed'",
    }


def _source(dimension: str) -> tuple[str, str, str | None]:
    """(FROM clause, group expression, per-domain marker) for a dimension."""
    if dimension == "all":
        return CASE_TABLE, "'all'", None
    if dimension in ("neighbourhood", "month", "quarter"):
        return CASE_TABLE, dimension, None
    if dimension == "domain":
        values = ", ".join(f"('{d}')" for d in DOMAINS)
        flag = " ".join(f"WHEN '{d}' THEN {d}" for d in DOMAINS)
        return (
            f"(SELECT c.*, d.domain AS d_domain, CASE d.domain {flag} END AS flag "
            f"FROM {CASE_TABLE} c CROSS JOIN (VALUES {values}) d(domain)) d",
            "d_domain",
            "domain",
        )
    raise ValueError(f"no funnel dimension {dimension!r}; the dimensions are {DIMENSIONS}")


def _funnel_sql(dimension: str) -> str:
    source, group, per_domain = _source(dimension)
    steps = _step_conditions(per_domain)
    counts = ",\n".join(f"count(*) FILTER (WHERE {cond}) AS {step}" for step, cond in steps.items())
    days = ",\n".join(
        f"median({expr}) FILTER (WHERE {steps[step]}) AS days_to_{step}"
        for step, expr in _DAYS.items()
    )
    return f"SELECT {group} AS grp, {counts}, {days} FROM {source} GROUP BY ALL ORDER BY grp"


def _raw(con: duckdb.DuckDBPyConnection, dimension: str) -> pd.DataFrame:
    return con.execute(_funnel_sql(dimension)).df()


def funnel_counts(con: duckdb.DuckDBPyConnection, dimension: str) -> pd.DataFrame:
    """The number of screenings reaching each step, one row per group of `dimension`
    (`all`, `domain`, `neighbourhood`, `month`): columns `dimension` value, then STEPS.

    Per domain, `screened` is every screening (each asks every domain), `need_found` those
    positive for it and the later steps those referred for it."""
    raw = _raw(con, dimension)
    frame = raw[["grp", *STEPS]].rename(columns={"grp": dimension})
    return frame.astype({s: "int64" for s in STEPS})


def funnel_long(con: duckdb.DuckDBPyConnection, dimension: str) -> pd.DataFrame:
    """`funnel_counts` in long form (`dimension, step, screenings`), for the gate with
    `labels=[dimension, 'step']`: one count column, so the gate's work stays small (the
    steps are nested, not parts of a whole, so they are not summed into totals)."""
    wide = funnel_counts(con, dimension)
    long = wide.melt(id_vars=[dimension], var_name="step", value_name="screenings")
    long["_order"] = long["step"].map({s: i for i, s in enumerate(STEPS)})
    long = long.sort_values([dimension, "_order"], ignore_index=True).drop(columns="_order")
    return long.astype({"screenings": "int64"})


def funnel_statistics(con: duckdb.DuckDBPyConnection, dimension: str) -> pd.DataFrame:
    """Conversion from each step to the next, and the median days it took, in long form:
    `dimension, step, reached` (screenings reaching the step: the support, so a rate or
    a median resting on a few people is hidden), `conversion` (reached over the
    screenings at the step before, to 3 places), `median_days` (from the step before; none
    for a need found at the screening itself). The counts themselves are published by
    the gate in `funnel_long`; the step before's count is left out here, so a rate and
    an unrounded denominator cannot be multiplied back into a small count."""
    raw = _raw(con, dimension)
    rows = []
    for record in raw.to_dict("records"):
        for before, step in itertools.pairwise(STEPS):
            entered, reached = int(record[before]), int(record[step])
            days = record.get(f"days_to_{step}")
            rows.append(
                {
                    dimension: record["grp"],
                    "step": f"{before} -> {step}",
                    "reached": reached,
                    "conversion": round(reached / entered, 3) if entered else None,
                    "median_days": None if days is None or pd.isna(days) else float(days),
                }
            )
    return pd.DataFrame(rows)
