"""The models: gradient boosting (LightGBM) beside a logistic regression and the rule
'built before 1978', and the saved artefact that records what a model learned.

The estimators follow scikit-learn's conventions: `__init__` only stores parameters,
`fit(X, y)` returns the estimator, learned attributes end in `_`, `predict_proba(X)` gives
the two class columns. `X` is a frame with the columns `features.FEATURES`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sectorlink.insights.lead.features import CATEGORICAL, FEATURES, MONOTONE
from sectorlink.insights.lead.home import HomeHazardModel, HomeModelError
from sectorlink.insights.lead.reference import ReferenceValues

ARTEFACT_VERSION = 2
"""2: the home model is `home.HomeHazardModel` (a logistic prior with assessment evidence)."""


class LeadModelError(ValueError):
    """A model file cannot be read, or does not fit the features it is given."""


class ReferenceValueMismatch(LeadModelError):
    """A model learned 'elevated' under one reference value and is asked to score a date
    when another is in force."""


def _frame(X: pd.DataFrame, features: tuple[str, ...]) -> pd.DataFrame:
    missing = [c for c in features if c not in X.columns]
    if missing:
        raise LeadModelError(f"the features {', '.join(missing)} are missing")
    return X[list(features)].astype("float64")


class LeadRiskModel:
    """Gradient-boosted trees (LightGBM) predicting an elevated blood lead test.

    Monotone constraints (features.MONOTONE) hold the directions the evidence agrees on,
    which keeps a model trained on a few hundred elevated tests from learning noise.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 150,
        learning_rate: float = 0.06,
        num_leaves: int = 7,
        min_child_samples: int = 20,
        reg_lambda: float = 5.0,
        subsample: float = 0.8,
        monotone: bool = True,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.subsample = subsample
        self.monotone = monotone
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "reg_lambda": self.reg_lambda,
            "subsample": self.subsample,
            "monotone": self.monotone,
            "random_state": self.random_state,
        }

    def _lgb_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "lambda_l2": self.reg_lambda,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "monotone_constraints": [MONOTONE.get(f, 0) if self.monotone else 0 for f in FEATURES],
            "seed": self.random_state,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": 1,
            "verbosity": -1,
        }

    def fit(self, X: pd.DataFrame, y: Any) -> LeadRiskModel:
        labels = np.asarray(y, dtype="float64")
        if len(np.unique(labels)) < 2:
            raise LeadModelError("training needs both elevated and not elevated tests")
        data = lgb.Dataset(
            _frame(X, FEATURES),
            label=labels,
            categorical_feature=list(CATEGORICAL),
            free_raw_data=False,
        )
        self.booster_ = lgb.train(self._lgb_params(), data, num_boost_round=self.n_estimators)
        self.feature_names_in_ = np.array(FEATURES, dtype=object)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        p = np.asarray(self.booster_.predict(_frame(X, FEATURES)), dtype="float64")
        return np.column_stack([1 - p, p])

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Each feature's contribution to each score, in log-odds (LightGBM
        pred_contrib: they and `bias` sum to the score's log-odds)."""
        raw = np.asarray(self.booster_.predict(_frame(X, FEATURES), pred_contrib=True))
        return pd.DataFrame(raw, columns=[*FEATURES, "bias"], index=X.index)

    @classmethod
    def from_booster(cls, booster: lgb.Booster, params: dict[str, Any]) -> LeadRiskModel:
        model = cls(**params)
        model.booster_ = booster
        model.feature_names_in_ = np.array(FEATURES, dtype=object)
        model.classes_ = np.array([0, 1])
        return model


class LogisticBaseline:
    """Logistic regression on the same features (median-imputed, with missing flags)."""

    def __init__(self, *, C: float = 1.0) -> None:
        self.C = C

    def fit(self, X: pd.DataFrame, y: Any) -> LogisticBaseline:
        self.pipeline_ = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=self.C, max_iter=2000),
        )
        self.pipeline_.fit(_frame(X, FEATURES), np.asarray(y, dtype="int64"))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.asarray(self.pipeline_.predict_proba(_frame(X, FEATURES)), dtype="float64")


def without_ranges(model: str) -> str:
    """A LightGBM model string with its `feature_infos` line blanked: LightGBM writes each
    feature's smallest and largest training value there (one child's highest blood lead,
    say), which scoring never reads, and the artefact travels in the release."""
    lines = model.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("feature_infos="):
            lines[i] = "feature_infos=" + " ".join("none" for _ in line.split("=", 1)[1].split())
    return "\n".join(lines) + "\n"


def year_built_rule(X: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The rule 'built before 1978' as a score: 1 before, 0 from 1978, 0.5 when unknown."""
    return np.asarray(X["built_before_1978"].fillna(0.5), dtype="float64")


@dataclass
class LeadModelArtefact:
    """A trained model with what it learned from: saved with the run, loadable.

    Attributes:
        model: the child model (an elevated screening test).
        home_model: the home model (`home.HomeHazardModel`: a lead hazard in the home),
            None if the data held too few assessments to train one.
        reference_value: the reference value (µg/dL) the child model's labels used.
        reference_values: the versioned setting it was trained with.
        trained_from, trained_to: the sample dates of its training tests.
    """

    model: LeadRiskModel
    reference_value: float
    reference_values: ReferenceValues
    trained_from: dt.date
    trained_to: dt.date
    training_tests: int
    training_elevated: int
    confirm_capillary: bool
    trained_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    metrics: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = FEATURES
    home_model: HomeHazardModel | None = None
    home_assessments: int = 0
    home_hazards: int = 0

    def check_reference(self, on: dt.date, *, allow_other: bool = False) -> float:
        """The value in force on `on`; ReferenceValueMismatch when it is not the one the
        model learned (unless `allow_other`)."""
        in_force = self.reference_values.on(on)
        if in_force != self.reference_value and not allow_other:
            raise ReferenceValueMismatch(
                f"the model learned 'elevated' as at least {self.reference_value:g} µg/dL "
                f"(trained on tests from {self.trained_from} to {self.trained_to}); on {on} "
                f"the reference value in force is {in_force:g} µg/dL, so its scores answer "
                "another question. Retrain it (sectorlink insights run lead-risk), or ask "
                "for the scores anyway (--allow-other-reference / allow_other=True): they "
                f"then estimate the risk of reaching {self.reference_value:g} µg/dL"
            )
        return in_force

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": "sectorlink lead-risk model",
                "version": ARTEFACT_VERSION,
                "reference_value": self.reference_value,
                "reference_values": self.reference_values.as_list(),
                "trained_from": self.trained_from.isoformat(),
                "trained_to": self.trained_to.isoformat(),
                "training_tests": self.training_tests,
                "training_elevated": self.training_elevated,
                "confirm_capillary": self.confirm_capillary,
                "trained_at": self.trained_at,
                "features": list(self.features),
                "params": self.model.get_params(),
                "metrics": self.metrics,
                "booster": without_ranges(self.model.booster_.model_to_string()),
                "home_model": self.home_model.to_dict() if self.home_model else None,
                "home_assessments": self.home_assessments,
                "home_hazards": self.home_hazards,
            }
        )

    @classmethod
    def from_json(cls, text: str, *, where: str = "the model") -> LeadModelArtefact:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise LeadModelError(f"{where}: not a lead-risk model file ({error})") from None
        if not isinstance(data, dict) or data.get("kind") != "sectorlink lead-risk model":
            raise LeadModelError(f"{where}: not a lead-risk model file")
        if data.get("version") != ARTEFACT_VERSION:
            raise LeadModelError(
                f"{where}: model file version {data.get('version')!r}; this sectorlink reads "
                f"version {ARTEFACT_VERSION}: retrain it"
            )
        if tuple(data.get("features") or ()) != FEATURES:
            raise LeadModelError(
                f"{where}: trained on other features than this sectorlink computes: retrain it"
            )
        try:
            booster = lgb.Booster(model_str=data["booster"])
            home = HomeHazardModel.from_dict(data["home_model"]) if data.get("home_model") else None
            return cls(
                model=LeadRiskModel.from_booster(booster, data["params"]),
                reference_value=float(data["reference_value"]),
                reference_values=ReferenceValues.from_list(data["reference_values"]),
                trained_from=dt.date.fromisoformat(data["trained_from"]),
                trained_to=dt.date.fromisoformat(data["trained_to"]),
                training_tests=int(data["training_tests"]),
                training_elevated=int(data["training_elevated"]),
                confirm_capillary=bool(data["confirm_capillary"]),
                trained_at=str(data["trained_at"]),
                metrics=dict(data.get("metrics") or {}),
                home_model=home,
                home_assessments=int(data.get("home_assessments") or 0),
                home_hazards=int(data.get("home_hazards") or 0),
            )
        except HomeModelError as error:
            raise LeadModelError(f"{where}: {error}") from None
        except (KeyError, TypeError, ValueError, lgb.basic.LightGBMError) as error:
            raise LeadModelError(f"{where}: incomplete model file ({error})") from None

    def save(self, path: Path) -> Path:
        """Write the artefact as JSON (written whole: a temporary file renamed)."""
        path = Path(path)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(self.to_json(), encoding="utf-8")
        partial.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> LeadModelArtefact:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise LeadModelError(f"{path}: cannot be read ({error.strerror})") from None
        return cls.from_json(text, where=str(path))
