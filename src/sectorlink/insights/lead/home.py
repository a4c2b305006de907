"""The home model: the chance that a home carries a lead hazard, for the inspection list.

Two parts, added in log-odds:

1. **The building prior**: a penalised logistic regression on what the housing records say
   of the building (year built as a linear spline with knots at the training homes' year
   quantiles, a flag when the year is unknown, condition, renting, unknown tenure,
   log(1 + violations found before)) and on the children already tested there (any
   raised result at the address; children tested with none raised). It learns from the
   lead hazard assessments before the scoring date (label: a hazard found; features as
   known before each assessment). Its penalty is not fixed: it is chosen by a temporal
   cross-validation inside the training period (each of the last calendar years of
   assessments held out in turn, trained on the years before it; the penalty with the
   best held-out log-likelihood wins), so a small programme gets a stiffer model than a
   large one.
2. **The home's own assessments**, as evidence on top of the prior (Bayes' rule): each
   earlier assessment that found a hazard multiplies the odds by
   sensitivity / false-positive rate, each that found none by
   (1 - sensitivity) / (1 - false-positive rate) (`AssessmentAccuracy`). They are not model
   inputs: a home's own finding is what the model learns from, and repeated assessments
   of one home are too few to learn their weight.

A few hundred assessments are enough for six or seven coefficients, where gradient-boosted
trees on every feature over-fitted them (docs/insights/lead.md, "Why a logistic home
model"). Contributions are exact: each input's coefficient times its distance from the
training mean, so a home's explanation sums, with the bias, to its log-odds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from sectorlink.insights.lead.features import FEATURES

PENALTIES: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
"""Inverse penalties (scikit-learn's C, on standardised inputs) the cross-validation
chooses from. scikit-learn sums the loss over the rows, so the penalty per assessment is
1 / (C x rows): the same C is stiffer for a smaller programme."""
CV_YEARS = 3
"""How many of the last calendar years of assessments are held out in turn."""
YEAR_KNOTS = (0.2, 0.4, 0.6, 0.8)
"""Quantiles of the training homes' year built where the year's slope may change."""
MIN_SUPPORT = 20
"""A yes/no input set (or unset) in fewer training assessments than this is left out (its
coefficient 0): its weight would be noise applied to every home it is set for. (The
rule of thumb of ten or twenty events per coefficient.) Children tested clear at the
address is the usual case: assessments follow raised results, so few are of such homes."""


class HomeModelError(ValueError):
    """The home model cannot be trained or read as given."""


@dataclass(frozen=True)
class AssessmentAccuracy:
    """How often a lead hazard assessment finds a hazard that is there (`sensitivity`) and
    reports one that is not (`false_positive`). The defaults are round figures for a
    paint and dust inspection (XRF with dust wipes, as HUD's guidelines describe it):
    most hazards are found, a few per cent of clean homes are called wrong. The ranking
    depends on them only through how far an assessed home moves from its prior."""

    sensitivity: float = 0.9
    false_positive: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.false_positive < self.sensitivity < 1:
            raise HomeModelError(
                "assessment accuracy: need 0 < false_positive < sensitivity < 1, not "
                f"sensitivity {self.sensitivity}, false_positive {self.false_positive}"
            )

    @property
    def found(self) -> float:
        """Log-odds added by one assessment that found a hazard."""
        return math.log(self.sensitivity / self.false_positive)

    @property
    def clear(self) -> float:
        """Log-odds added by one assessment that found none."""
        return math.log((1 - self.sensitivity) / (1 - self.false_positive))


def _design(X: pd.DataFrame, knots: tuple[float, ...]) -> pd.DataFrame:
    """The logistic regression's columns, from the point features."""
    year = X["year_built"].astype("float64")
    known = year.notna()
    filled = year.fillna(float(np.median(knots)) if knots else 1950.0)
    columns: dict[str, Any] = {"year": filled.where(known, 0.0)}
    for i, knot in enumerate(knots):
        columns[f"year_after_{i}"] = np.maximum(filled - knot, 0.0).where(known, 0.0)
    columns["year_unknown"] = (~known).astype("float64")
    condition = X["condition"].astype("float64")
    columns["condition"] = condition.fillna(0.0)
    columns["condition_unknown"] = condition.isna().astype("float64")
    columns["rented"] = X["rented"].astype("float64").fillna(0.0)
    columns["tenure_unknown"] = X["tenure"].isna().astype("float64")
    columns["violations"] = np.log1p(X["violations_before"].astype("float64").fillna(0.0))
    raised = X["address_raised_before"].astype("float64").fillna(0.0)
    tests = X["address_tests_before"].astype("float64").fillna(0.0)
    columns["address_raised"] = (raised > 0).astype("float64")
    columns["address_tested_clear"] = ((tests > 0) & (raised == 0)).astype("float64")
    return pd.DataFrame(columns, index=X.index)


# Which point feature each design column explains (for the reasons a home is given).
_EXPLAINS = {
    "year": "year_built",
    "year_unknown": "year_built",
    "condition": "condition",
    "condition_unknown": "condition",
    "rented": "rented",
    "tenure_unknown": "tenure",
    "violations": "violations_before",
    "address_raised": "address_raised_before",
    "address_tested_clear": "address_tests_before",
}


def _explains(column: str) -> str:
    return "year_built" if column.startswith("year_after_") else _EXPLAINS[column]


def _fit(
    design: pd.DataFrame, y: np.ndarray[Any, Any], C: float
) -> tuple[np.ndarray[Any, Any], float, np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    mean = design.mean().to_numpy()
    scale = design.std(ddof=0).to_numpy()
    scale = np.where(scale > 0, scale, 1.0)
    z = (design.to_numpy() - mean) / scale
    fitted = LogisticRegression(C=C, max_iter=5000).fit(z, y)
    coef = fitted.coef_[0] / scale  # back on the raw columns' scale
    intercept = float(fitted.intercept_[0] - (coef * mean).sum())
    return coef, intercept, mean, scale


def choose_penalty(
    design: pd.DataFrame, y: np.ndarray[Any, Any], years: np.ndarray[Any, Any]
) -> tuple[float, pd.DataFrame]:
    """The inverse penalty C chosen by temporal cross-validation, and the table of every
    C's held-out score per year.

    Each of the last `CV_YEARS` calendar years of assessments is held out in turn, the
    model trained on the years before it (a fold needs both outcomes on each side). Every
    C is scored by its held-out log-likelihood per assessment, pooled over the folds; the
    stiffest C within one standard error of the best wins (the one-standard-error rule of
    Hastie, Tibshirani and Friedman: with few assessments the scores are noisy, and the
    simpler model is as good as the data can tell). With no usable fold, C = 1
    (scikit-learn's default) and an empty table."""
    rows = []
    pooled: dict[float, list[np.ndarray[Any, Any]]] = {C: [] for C in PENALTIES}
    for held in sorted(set(years.tolist()))[-CV_YEARS:]:
        before, during = years < held, years == held
        if len(np.unique(y[before])) < 2 or len(np.unique(y[during])) < 2:
            continue
        for C in PENALTIES:
            coef, intercept, _, _ = _fit(design[before], y[before], C)
            logit = design[during].to_numpy() @ coef + intercept
            each = y[during] * logit - np.logaddexp(0.0, logit)
            pooled[C].append(each)
            rows.append({"year": int(held), "C": C, "log_likelihood": float(each.mean())})
    table = pd.DataFrame(rows, columns=["year", "C", "log_likelihood"])
    if table.empty:
        return 1.0, table
    scores = {C: np.concatenate(parts) for C, parts in pooled.items()}
    best = max(scores, key=lambda C: float(scores[C].mean()))
    error = float(scores[best].std(ddof=1) / np.sqrt(len(scores[best])))
    good_enough = [C for C in PENALTIES if scores[C].mean() >= scores[best].mean() - error]
    return float(min(good_enough)), table


class HomeHazardModel:
    """See the module docstring. `fit(X, y, dates)`, `log_odds(X)`, `predict_proba(X)`,
    `contributions(X)`; `to_dict` / `from_dict` for the saved artefact."""

    def __init__(self, accuracy: AssessmentAccuracy | None = None) -> None:
        self.accuracy = accuracy or AssessmentAccuracy()

    def fit(self, X: pd.DataFrame, y: Any, dates: Any) -> HomeHazardModel:
        labels = np.asarray(y, dtype="float64")
        if len(np.unique(labels)) < 2:
            raise HomeModelError("the home model needs assessments with and without a hazard")
        years = pd.to_datetime(pd.Series(np.asarray(dates))).dt.year.to_numpy()
        known = X["year_built"].dropna().astype("float64")
        knots = (
            tuple(float(k) for k in np.unique(np.quantile(known, YEAR_KNOTS))) if len(known) else ()
        )
        full = _design(X, knots)
        self.knots_ = knots
        self.columns_ = tuple(full.columns)
        binary = full.columns[full.isin([0.0, 1.0]).all()]
        set_count = full[binary].sum()
        thin = set_count.index[np.minimum(set_count, len(full) - set_count) < MIN_SUPPORT]
        self.left_out_ = tuple(str(c) for c in thin)
        design = full.drop(columns=list(thin))
        self.C_, self.cv_ = choose_penalty(design, labels, years)
        coef, self.intercept_, _, _ = _fit(design, labels, self.C_)
        kept = pd.Series(coef, index=design.columns)
        self.coef_ = kept.reindex(full.columns, fill_value=0.0).to_numpy()
        self.mean_ = full.mean().to_numpy()
        return self

    def _evidence(self, X: pd.DataFrame) -> np.ndarray[Any, Any]:
        found = X["hazards_found_before"].astype("float64").fillna(0.0).to_numpy()
        assessed = X["lead_assessments_before"].astype("float64").fillna(0.0).to_numpy()
        evidence = found * self.accuracy.found + (assessed - found) * self.accuracy.clear
        return np.asarray(evidence, dtype="float64")

    def prior_log_odds(self, X: pd.DataFrame) -> np.ndarray[Any, Any]:
        """The building prior alone (no own assessment)."""
        return np.asarray(_design(X, self.knots_).to_numpy() @ self.coef_ + self.intercept_)

    def log_odds(self, X: pd.DataFrame) -> np.ndarray[Any, Any]:
        return np.asarray(self.prior_log_odds(X) + self._evidence(X), dtype="float64")

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        p = 1 / (1 + np.exp(-self.log_odds(X)))
        return np.column_stack([1 - p, p]).astype("float64")

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per point feature (features.FEATURES, zero where unused) its log-odds
        contribution, and `bias`: they sum to `log_odds`."""
        design = _design(X, self.knots_).to_numpy()
        parts = (design - self.mean_) * self.coef_
        out = pd.DataFrame(0.0, index=X.index, columns=[*FEATURES, "bias"])
        for i, column in enumerate(self.columns_):
            out[_explains(column)] += parts[:, i]
        found = X["hazards_found_before"].astype("float64").fillna(0.0).to_numpy()
        assessed = X["lead_assessments_before"].astype("float64").fillna(0.0).to_numpy()
        out["hazards_found_before"] += found * self.accuracy.found
        out["lead_assessments_before"] += (assessed - found) * self.accuracy.clear
        out["bias"] = self.intercept_ + float((self.mean_ * self.coef_).sum())
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "logistic prior + assessment evidence",
            "knots": list(self.knots_),
            "columns": list(self.columns_),
            "coef": [float(c) for c in self.coef_],
            "intercept": self.intercept_,
            "mean": [float(m) for m in self.mean_],
            "C": self.C_,
            "left_out": list(self.left_out_),
            "cv": self.cv_.to_dict(orient="records"),
            "sensitivity": self.accuracy.sensitivity,
            "false_positive": self.accuracy.false_positive,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HomeHazardModel:
        try:
            model = cls(
                AssessmentAccuracy(float(data["sensitivity"]), float(data["false_positive"]))
            )
            model.knots_ = tuple(float(k) for k in data["knots"])
            model.columns_ = tuple(str(c) for c in data["columns"])
            model.coef_ = np.asarray(data["coef"], dtype="float64")
            model.intercept_ = float(data["intercept"])
            model.mean_ = np.asarray(data["mean"], dtype="float64")
            model.C_ = float(data["C"])
            model.left_out_ = tuple(str(c) for c in data.get("left_out") or ())
            model.cv_ = pd.DataFrame(data.get("cv") or [], columns=["year", "C", "log_likelihood"])
        except (KeyError, TypeError, ValueError) as error:
            raise HomeModelError(f"incomplete home model ({error})") from None
        expected = tuple(_design(_empty_points(), model.knots_).columns)
        if (
            model.columns_ != expected
            or len(model.coef_) != len(expected)
            or len(model.mean_) != len(expected)
        ):
            raise HomeModelError(
                "the home model's columns are not the ones this sectorlink computes"
            )
        return model


def _empty_points() -> pd.DataFrame:
    return pd.DataFrame({f: pd.Series(dtype="float64") for f in FEATURES})
