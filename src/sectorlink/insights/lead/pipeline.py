"""Training and evaluating the lead-risk model, and scoring children and homes.

`train_and_evaluate(con, settings)` is the whole method over a context's tables (it is
what the `lead-risk` analysis runs, and what a notebook calls):

1. results cleaned (units, impossible values, future dates: `outcomes.clean_results`);
2. screening episodes with the outcome under the reference value in force;
3. temporal validation: a model trained on the tests before `test_from`, labelled under
   the reference value in force at the end of its training period, scored on the tests
   from `test_from` on beside a logistic regression and the rule 'built before 1978';
4. the model to use: trained on every test, under the reference value in force at the
   scoring date, saved as an artefact that records both;
5. scores with explanations for every child known to the programme (at their latest home)
   and for every home (as for a two-year-old with no test yet living there now).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from sectorlink.insights.context import NothingToPublish
from sectorlink.insights.lead.evaluate import (
    Interval,
    auc,
    calibration_table,
    expected_calibration_error,
    score_report,
)
from sectorlink.insights.lead.explain import reasons
from sectorlink.insights.lead.features import FEATURES, load_points, point_features
from sectorlink.insights.lead.home import AssessmentAccuracy, HomeHazardModel
from sectorlink.insights.lead.model import (
    LeadModelArtefact,
    LeadRiskModel,
    LogisticBaseline,
    year_built_rule,
)
from sectorlink.insights.lead.outcomes import ResultCounts, clean_results, screening_episodes
from sectorlink.insights.lead.reference import DEFAULT_REFERENCE_VALUES, ReferenceValues

STANDARD_CHILD_MONTHS = 24.0
"""A home is scored as for a child of this age (blood lead peaks around two) with no
test yet: the risk to the next young child living there."""
CHILD_MAX_MONTHS = 72
"""Children are listed while under six at the scoring date."""


class TooFewElevated(NothingToPublish):
    """Too few elevated tests to train or to evaluate: the run is refused (nothing is
    published, the withheld release is audited); the message gives the counts."""


@dataclass(frozen=True)
class LeadSettings:
    reference_values: ReferenceValues = DEFAULT_REFERENCE_VALUES
    confirm_capillary: bool = True
    confirm_days: int = 90
    test_from: dt.date | None = None
    top_share: float = 0.05
    min_elevated: int = 10
    bootstrap: int = 200
    score_date: dt.date | None = None
    today: dt.date | None = None
    seed: int = 0
    assessment_accuracy: AssessmentAccuracy = field(default_factory=AssessmentAccuracy)


@dataclass
class LeadRiskResult:
    counts: ResultCounts
    settings: LeadSettings
    score_date: dt.date
    test_from: dt.date
    train: dict[str, Any]
    test: dict[str, Any]
    metrics: dict[str, dict[str, Interval]]
    calibration: pd.DataFrame
    calibration_error: float
    artefact: LeadModelArtefact
    validation_reference: float
    child_scores: pd.DataFrame
    property_scores: pd.DataFrame
    test_scores: pd.DataFrame
    issues: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _constant(value: float) -> ReferenceValues:
    return ReferenceValues(((dt.date(1900, 1, 1), value),))


def _labelled(
    con: duckdb.DuckDBPyConnection, settings: LeadSettings, value: float, table: str
) -> pd.DataFrame:
    screening_episodes(
        con,
        _constant(value),
        confirm_capillary=settings.confirm_capillary,
        confirm_days=settings.confirm_days,
        table=table,
    )
    return con.execute(
        f"""SELECT source || '/' || event_id AS point_id, source, person_key, property_id,
                   area, sample_date AS as_of, CAST(NULL AS DOUBLE) AS age_months,
                   elevated::INTEGER AS elevated, sample_type
            FROM {table} ORDER BY point_id"""
    ).df()


def _features_for(
    con: duckdb.DuckDBPyConnection, points: pd.DataFrame, reference: ReferenceValues
) -> pd.DataFrame:
    load_points(con, points)
    features = point_features(con, reference)
    base = points.drop(columns=[c for c in FEATURES if c in points.columns])
    return base.merge(features, on="point_id", how="left", validate="one_to_one")


def _check_counts(train: pd.DataFrame, test: pd.DataFrame, settings: LeadSettings) -> None:
    elevated_train = int(train["elevated"].sum())
    elevated_test = int(test["elevated"].sum())
    if elevated_train < settings.min_elevated or elevated_test < 1 or len(test) < 2:
        raise TooFewElevated(
            f"too few elevated tests to train and evaluate a model: {elevated_train} of "
            f"{len(train)} screening tests before {settings.test_from} (at least "
            f"{settings.min_elevated} needed: parameter min_elevated) and {elevated_test} "
            f"of {len(test)} from then on (at least 1 needed)"
        )


def _default_test_from(episodes: pd.DataFrame) -> dt.date:
    # Train on the earlier years and hold out the last two calendar years of tests.
    last = pd.Timestamp(episodes["as_of"].max()).year
    return dt.date(last - 1, 1, 1)


def train_and_evaluate(con: duckdb.DuckDBPyConnection, settings: LeadSettings) -> LeadRiskResult:
    """The whole method (see the module docstring) over `con`'s context tables."""
    counts = clean_results(con, today=settings.today)
    if settings.score_date is not None:
        # Nothing from the scoring date on exists for this run (the period's end).
        con.execute(f"DELETE FROM lead_result WHERE sample_date >= DATE '{settings.score_date}'")
    reference = settings.reference_values
    screening_episodes(
        con,
        reference,
        confirm_capillary=settings.confirm_capillary,
        confirm_days=settings.confirm_days,
    )
    span = con.execute("SELECT min(sample_date), max(sample_date) FROM lead_episode").fetchall()[0]
    if span[0] is None:
        raise TooFewElevated("no usable blood lead test to learn from (0 screening tests)")
    last = span[1]
    score_date = settings.score_date or (last + dt.timedelta(days=1))
    probe = pd.DataFrame({"as_of": [last]})
    test_from = settings.test_from or _default_test_from(probe)
    settings = _replace(settings, test_from=test_from)

    # Validation: labels under the value in force at the end of the training period.
    val_reference = reference.on(test_from - dt.timedelta(days=1))
    labelled = _labelled(con, settings, val_reference, "lead_label_validation")
    frame = _features_for(con, labelled, reference)
    is_train = frame["as_of"] < pd.Timestamp(test_from)
    train, test = frame[is_train], frame[~is_train]
    _check_counts(train, test, settings)
    gbm = LeadRiskModel(random_state=settings.seed).fit(train, train["elevated"])
    logistic = LogisticBaseline().fit(train, train["elevated"])
    scores = {
        "lightgbm": gbm.predict_proba(test)[:, 1],
        "logistic": logistic.predict_proba(test)[:, 1],
        "built_before_1978": year_built_rule(test),
    }
    y = test["elevated"].to_numpy()
    groups = test["person_key"].to_numpy()
    metrics = {
        name: score_report(y, s, groups, share=settings.top_share, replicates=settings.bootstrap)
        for name, s in scores.items()
    }
    test_scores = test[["point_id", "person_key", "property_id", "area", "as_of", "elevated"]]
    test_scores = test_scores.assign(**{f"score_{k}": v for k, v in scores.items()})
    test_scores = test_scores.merge(test[["point_id", "tenure"]], on="point_id", how="left")

    # The model to use: every test, labelled under the value in force at the scoring date.
    final_reference = reference.on(score_date)
    everything = _features_for(
        con, _labelled(con, settings, final_reference, "lead_label_final"), reference
    )
    if int(everything["elevated"].sum()) < settings.min_elevated:
        raise TooFewElevated(
            f"too few elevated tests to train the model to use: "
            f"{int(everything['elevated'].sum())} of {len(everything)} screening tests "
            f"reach {final_reference:g} µg/dL (at least {settings.min_elevated} needed)"
        )
    final = LeadRiskModel(random_state=settings.seed).fit(everything, everything["elevated"])
    home_model, assessments, hazards = train_home_model(con, settings, score_date)
    artefact = LeadModelArtefact(
        model=final,
        reference_value=final_reference,
        reference_values=reference,
        trained_from=pd.Timestamp(everything["as_of"].min()).date(),
        trained_to=pd.Timestamp(everything["as_of"].max()).date(),
        training_tests=len(everything),
        training_elevated=int(everything["elevated"].sum()),
        confirm_capillary=settings.confirm_capillary,
        metrics={
            name: {k: [v.value, v.low, v.high] for k, v in report.items()}
            for name, report in metrics.items()
        },
        home_model=home_model,
        home_assessments=assessments,
        home_hazards=hazards,
    )
    result = LeadRiskResult(
        counts=counts,
        settings=settings,
        score_date=score_date,
        test_from=test_from,
        train={
            "tests": len(train),
            "elevated": int(train["elevated"].sum()),
            "from": pd.Timestamp(train["as_of"].min()).date(),
            "to": pd.Timestamp(train["as_of"].max()).date(),
        },
        test={
            "tests": len(test),
            "elevated": int(test["elevated"].sum()),
            "from": pd.Timestamp(test["as_of"].min()).date(),
            "to": pd.Timestamp(test["as_of"].max()).date(),
        },
        metrics=metrics,
        calibration=calibration_table(y, scores["lightgbm"]),
        calibration_error=expected_calibration_error(y, scores["lightgbm"]),
        artefact=artefact,
        validation_reference=val_reference,
        child_scores=score_children(con, artefact, score_date),
        property_scores=score_properties(con, artefact, score_date),
        test_scores=test_scores,
        issues=con.execute("SELECT * FROM lead_issue").df(),
    )
    if home_model is None:
        result.notes.append(
            f"too few lead hazard assessments to train the home model ({hazards} hazards "
            f"found in {assessments} assessments): homes are ranked by the child model alone"
        )
    if counts.without_property:
        result.notes.append(
            f"{counts.without_property} test result(s) name no home (no property id): "
            "scored without the home's features and left out of the inspection list"
        )
    return result


def _replace(settings: LeadSettings, **changes: Any) -> LeadSettings:
    from dataclasses import replace

    return replace(settings, **changes)


def scored(artefact: LeadModelArtefact, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (points with FEATURES) with the child model's `score` and `reasons`."""
    if frame.empty:
        return frame.assign(score=pd.Series(dtype="float64"), reasons=pd.Series(dtype=object))
    features = frame[list(FEATURES)].reset_index(drop=True)
    contributions = artefact.model.contributions(features)
    out = frame.reset_index(drop=True).copy()
    out["score"] = artefact.model.predict_proba(features)[:, 1]
    out["reasons"] = reasons(features, contributions)
    return out


def scored_homes(artefact: LeadModelArtefact, frame: pd.DataFrame) -> pd.DataFrame:
    """Homes with `child_risk` (the child model, for a two-year-old with no test yet),
    `hazard_risk` (the home model, `home.HomeHazardModel`: the chance the home carries a
    lead hazard, its own earlier assessments included) and `score`, the ranking index:
    the hazard risk, or the child risk where the data held too few assessments to train
    a home model. `reasons` explain the score (the model it comes from)."""
    features = frame[list(FEATURES)].reset_index(drop=True)
    out = frame.reset_index(drop=True).copy()
    out["child_risk"] = artefact.model.predict_proba(features)[:, 1]
    if artefact.home_model is not None:
        explained = artefact.home_model.contributions(features)
        out["hazard_risk"] = artefact.home_model.predict_proba(features)[:, 1]
        out["score"] = out["hazard_risk"]
    else:
        explained = artefact.model.contributions(features)
        out["hazard_risk"] = np.nan
        out["score"] = out["child_risk"]
    out["reasons"] = reasons(features, explained) if len(out) else []
    return out


def score_children(
    con: duckdb.DuckDBPyConnection, artefact: LeadModelArtefact, on: dt.date
) -> pd.DataFrame:
    """Every child tested before `on` and under six then, at their latest home."""
    points = con.execute(
        f"""SELECT 'child/' || r.person_key AS point_id, arg_max(r.source, r.sample_date)
                   AS source, r.person_key, arg_max(r.property_id, r.sample_date)
                   AS property_id, arg_max(r.area, r.sample_date) AS area,
                   DATE '{on.isoformat()}' AS as_of, CAST(NULL AS DOUBLE) AS age_months
            FROM lead_result r LEFT JOIN person p USING (person_key)
            WHERE r.person_key IS NOT NULL AND r.sample_date < DATE '{on.isoformat()}'
              AND (p.birth_month IS NULL OR
                   date_diff('month', p.birth_month, DATE '{on.isoformat()}')
                   < {CHILD_MAX_MONTHS})
            GROUP BY r.person_key ORDER BY r.person_key"""
    ).df()
    frame = _features_for(con, points, artefact.reference_values)
    return scored(artefact, frame).sort_values("score", ascending=False, ignore_index=True)


def home_points(con: duckdb.DuckDBPyConnection, on: dt.date, where: str = "TRUE") -> pd.DataFrame:
    return con.execute(
        f"""SELECT 'home/' || source || '/' || property_id AS point_id, source,
                   CAST(NULL AS VARCHAR) AS person_key, property_id, small_area AS area,
                   DATE '{on.isoformat()}' AS as_of, {STANDARD_CHILD_MONTHS} AS age_months
            FROM property WHERE {where} ORDER BY source, property_id"""
    ).df()


def score_properties(
    con: duckdb.DuckDBPyConnection, artefact: LeadModelArtefact, on: dt.date
) -> pd.DataFrame:
    """Every home in `property` on `on`, ranked (see `scored_homes`)."""
    frame = _features_for(con, home_points(con, on), artefact.reference_values)
    out = scored_homes(artefact, frame).sort_values(
        ["score", "property_id"], ascending=[False, True], ignore_index=True
    )
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def train_home_model(
    con: duckdb.DuckDBPyConnection, settings: LeadSettings, before: dt.date
) -> tuple[HomeHazardModel | None, int, int]:
    """The home model (`home.HomeHazardModel`): trained on lead hazard assessments before
    `before`, each with the features known before its own date (so not its own finding);
    None when fewer than `min_elevated` found a hazard, or found none."""
    points = con.execute(
        f"""SELECT 'assessment/' || source || '/' || inspection_id AS point_id, source,
                   CAST(NULL AS VARCHAR) AS person_key, property_id,
                   CAST(NULL AS VARCHAR) AS area, inspection_date::DATE AS as_of,
                   {STANDARD_CHILD_MONTHS} AS age_months,
                   lead_hazard_found::INTEGER AS found
            FROM property_inspection
            WHERE lead_hazard_found IS NOT NULL
              AND inspection_date::DATE < DATE '{before.isoformat()}'
            ORDER BY point_id"""
    ).df()
    found = int(points["found"].sum())
    if found < settings.min_elevated or len(points) - found < settings.min_elevated:
        return None, len(points), found
    frame = _features_for(con, points, settings.reference_values)
    model = HomeHazardModel(settings.assessment_accuracy).fit(frame, frame["found"], frame["as_of"])
    return model, len(points), found


def property_auc(scores: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """AUC of the home scores against a truth frame with `property_id, lead_hazard`
    (and `hazard_probability`: the ceiling), on the homes both hold."""
    wanted = [c for c in ("property_id", "lead_hazard", "hazard_probability") if c in truth]
    known = truth[wanted].rename(columns={"hazard_probability": "truth_probability"})
    joined = scores.merge(known, on="property_id", how="inner")
    y = joined["lead_hazard"].astype(int).to_numpy()
    out = {
        "homes": float(len(joined)),
        "model": auc(y, joined["score"].to_numpy()),
        "child_model": auc(y, joined["child_risk"].to_numpy()),
        "home_model": auc(y, joined["hazard_risk"].fillna(0).to_numpy()),
        "built_before_1978": auc(y, year_built_rule(joined)),
    }
    if "truth_probability" in joined.columns:
        out["ceiling"] = auc(y, joined["truth_probability"].to_numpy())
    return out
