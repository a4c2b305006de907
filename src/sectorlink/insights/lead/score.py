"""Scoring one home or one child with a saved model: from the warehouse (what the hub
knows about them before the date) or from facts given directly (a new address).

Reading the warehouse is reading person-level data: `lead_context` asks `authorise` for
the lead-risk purpose first (audited), exactly as a run does. Every score is refused when
the reference value in force at the scoring date is not the one the model learned
(`ReferenceValueMismatch`), unless `allow_other_reference`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from sectorlink.governance import get_profile
from sectorlink.governance.doors import acting_user
from sectorlink.insights.context import InsightContext
from sectorlink.insights.lead.explain import describe
from sectorlink.insights.lead.features import FEATURES
from sectorlink.insights.lead.model import LeadModelArtefact
from sectorlink.insights.lead.outcomes import clean_results
from sectorlink.insights.lead.pipeline import (
    STANDARD_CHILD_MONTHS,
    _features_for,
    home_points,
    scored,
    scored_homes,
)
from sectorlink.insights.registry import get_analysis
from sectorlink.insights.run import NothingToRead, authorised_context
from sectorlink.model.sql import quote_literal
from sectorlink.registry.db import Registry

CONDITIONS = {"good": 0.0, "fair": 1.0, "poor": 2.0, "dilapidated": 3.0, "very poor": 3.0}
TENURES = {"owner_occupied": 0.0, "private_rented": 1.0, "social_rented": 2.0}
CHILD_FACTS = frozenset(f for f in FEATURES if f.startswith("child_")) | {"age_months"}


class LeadScoreError(ValueError):
    """What to score cannot be found, or a fact given is not one the model knows."""


def lead_context(
    warehouse: Path,
    registry: Registry,
    organisation: str,
    *,
    actor: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> InsightContext:
    """The lead-risk analysis' Grant-bound context, after one audited access check."""
    analysis = get_analysis("lead-risk")
    if not Path(warehouse).is_file():
        raise LeadScoreError(f"warehouse {warehouse} does not exist")
    try:
        return authorised_context(
            analysis,
            warehouse=Path(warehouse),
            registry=registry,
            organisation=organisation,
            actor=actor or acting_user(),
            profile=get_profile("suppress-1-7-round-5"),
            detail={"use": "lead score", **dict(detail or {})},
        )
    except NothingToRead:
        raise LeadScoreError(f"{warehouse} holds no blood lead tests or properties") from None


def _answer(artefact: LeadModelArtefact, row: pd.Series, kind: str, on: dt.date) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "kind": kind,
        "as_of": on.isoformat(),
        "score": float(row["score"]),
        "reasons": str(row["reasons"]),
        "features": {f: None if pd.isna(row[f]) else float(row[f]) for f in FEATURES},
        "described": [describe(f, float(row[f])) for f in FEATURES if not pd.isna(row[f])],
        "model": {
            "reference_value_ug_dl": artefact.reference_value,
            "trained_from": artefact.trained_from.isoformat(),
            "trained_to": artefact.trained_to.isoformat(),
            "trained_at": artefact.trained_at,
        },
    }
    for extra in ("child_risk", "hazard_risk", "property_id"):
        if extra in row.index:
            value = row[extra]
            answer[extra] = (
                None
                if pd.isna(value)
                else (float(value) if isinstance(value, float) else str(value))
            )
    return answer


def score_property(
    con: duckdb.DuckDBPyConnection,
    artefact: LeadModelArtefact,
    property_id: str,
    *,
    on: dt.date,
    allow_other_reference: bool = False,
) -> dict[str, Any]:
    """A home in the context's `property` table, as known before `on`."""
    artefact.check_reference(on, allow_other=allow_other_reference)
    clean_results(con)
    points = home_points(con, on, where=f"property_id = {quote_literal(property_id)}")
    if points.empty:
        raise LeadScoreError(f"no property {property_id!r} is known to the lead programme")
    frame = _features_for(con, points.head(1), artefact.reference_values)
    return _answer(artefact, scored_homes(artefact, frame).iloc[0], "home", on)


def score_child(
    con: duckdb.DuckDBPyConnection,
    artefact: LeadModelArtefact,
    source: str,
    record_id: str,
    *,
    on: dt.date,
    allow_other_reference: bool = False,
) -> dict[str, Any]:
    """A child named by a partner's own record id, at their latest home before `on`."""
    artefact.check_reference(on, allow_other=allow_other_reference)
    clean_results(con)
    rows = con.execute(
        "SELECT person_key FROM person_index WHERE source = ? AND record_id = ?",
        [source, record_id],
    ).fetchall()
    found = rows[0] if rows else None
    if found is None:
        raise LeadScoreError(f"no record {record_id!r} of {source!r} is in the person index")
    day = on.isoformat()
    points = con.execute(
        f"""SELECT 'child' AS point_id, coalesce(arg_max(source, sample_date), ?) AS source,
                   ? AS person_key, arg_max(property_id, sample_date) AS property_id,
                   arg_max(area, sample_date) AS area, DATE '{day}' AS as_of,
                   CAST(NULL AS DOUBLE) AS age_months
            FROM lead_result WHERE person_key = ? AND sample_date < DATE '{day}'""",
        [source, found[0], found[0]],
    ).df()
    frame = _features_for(con, points, artefact.reference_values)
    answer = _answer(artefact, scored(artefact, frame).iloc[0], "child", on)
    answer["record"] = {"source": source, "record_id": record_id}
    return answer


def facts_frame(facts: Mapping[str, Any]) -> pd.DataFrame:
    """One row of FEATURES from facts given by name (condition and tenure as codes or
    words); a fact not given is unknown. LeadScoreError names a fact the model lacks."""
    unknown = sorted(set(facts) - set(FEATURES))
    if unknown:
        raise LeadScoreError(
            f"unknown fact(s) {', '.join(unknown)}; the model knows: {', '.join(FEATURES)}"
        )
    row: dict[str, float] = {f: math.nan for f in FEATURES}
    for name, value in facts.items():
        if value is None or value == "":
            continue
        if name == "condition" and isinstance(value, str):
            if value.strip().lower() not in CONDITIONS:
                raise LeadScoreError(f"condition {value!r}: one of {', '.join(CONDITIONS)}")
            row[name] = CONDITIONS[value.strip().lower()]
        elif name == "tenure" and isinstance(value, str):
            if value.strip().lower() not in TENURES:
                raise LeadScoreError(f"tenure {value!r}: one of {', '.join(TENURES)}")
            row[name] = TENURES[value.strip().lower()]
        else:
            try:
                row[name] = float(value)
            except (TypeError, ValueError):
                raise LeadScoreError(f"{name}: {value!r} is not a number") from None
    if not math.isnan(row["year_built"]) and math.isnan(row["built_before_1978"]):
        row["built_before_1978"] = 1.0 if row["year_built"] < 1978 else 0.0
    if not math.isnan(row["tenure"]) and math.isnan(row["rented"]):
        row["rented"] = 0.0 if row["tenure"] == 0 else 1.0
    for count in (
        "inspections_before",
        "violations_before",
        "lead_assessments_before",
        "hazards_found_before",
        "child_tests_before",
        "child_venous_before",
        "child_raised_before",
        "address_tests_before",
        "address_raised_before",
        "area_tests_before",
    ):
        if math.isnan(row[count]):
            row[count] = 0.0
    return pd.DataFrame([row])


def score_facts(
    artefact: LeadModelArtefact,
    facts: Mapping[str, Any],
    *,
    on: dt.date,
    allow_other_reference: bool = False,
) -> dict[str, Any]:
    """A new address (or child) described by facts: a child when any child fact or the
    age is given, else a home (as for a two-year-old with no test yet)."""
    artefact.check_reference(on, allow_other=allow_other_reference)
    frame = facts_frame(facts)
    if CHILD_FACTS & {k for k, v in facts.items() if v not in (None, "")}:
        return _answer(artefact, scored(artefact, frame).iloc[0], "child", on)
    frame["age_months"] = STANDARD_CHILD_MONTHS
    return _answer(artefact, scored_homes(artefact, frame).iloc[0], "home", on)
