"""The models and the artefact: scikit-learn conventions, exact explanations, a saved
model that loads, and the refusal to score across a change of reference value."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sectorlink.insights.lead.evaluate import auc, bootstrap, top_share
from sectorlink.insights.lead.features import FEATURES
from sectorlink.insights.lead.model import (
    LeadModelArtefact,
    LeadModelError,
    LeadRiskModel,
    LogisticBaseline,
    ReferenceValueMismatch,
    year_built_rule,
)
from sectorlink.insights.lead.reference import DEFAULT_REFERENCE_VALUES


def synthetic(n: int = 600, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f: rng.normal(size=n) for f in FEATURES})
    X["year_built"] = rng.integers(1880, 2020, n).astype(float)
    X["built_before_1978"] = (X["year_built"] < 1978).astype(float)
    X["tenure"] = rng.integers(0, 3, n).astype(float)
    X.loc[rng.random(n) < 0.1, "year_built"] = np.nan
    logit = -2 + 2.0 * (X["year_built"].fillna(1950) < 1940) + 1.5 * X["condition"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def artefact(model: LeadRiskModel, value: float = 3.5) -> LeadModelArtefact:
    return LeadModelArtefact(
        model=model,
        reference_value=value,
        reference_values=DEFAULT_REFERENCE_VALUES,
        trained_from=dt.date(2020, 1, 1),
        trained_to=dt.date(2023, 12, 31),
        training_tests=600,
        training_elevated=100,
        confirm_capillary=True,
    )


def test_estimators_follow_scikit_learn_conventions() -> None:
    X, y = synthetic()
    model = LeadRiskModel(n_estimators=40, num_leaves=5)
    assert model.get_params()["n_estimators"] == 40
    assert not hasattr(model, "booster_")  # __init__ only stores parameters
    assert model.fit(X, y) is model
    assert list(model.feature_names_in_) == list(FEATURES)
    p = model.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(axis=1), 1)
    assert auc(y, p[:, 1]) > 0.7
    logistic = LogisticBaseline()
    assert logistic.fit(X, y) is logistic
    assert auc(y, logistic.predict_proba(X)[:, 1]) > 0.6
    with pytest.raises(LeadModelError, match="both"):
        LeadRiskModel().fit(X, np.zeros(len(X)))
    with pytest.raises(LeadModelError, match="condition"):
        model.predict_proba(X.drop(columns=["condition"]))


def test_explanations_add_up_to_the_score() -> None:
    X, y = synthetic()
    model = LeadRiskModel(n_estimators=40).fit(X, y)
    contributions = model.contributions(X)
    p = model.predict_proba(X)[:, 1]
    assert np.allclose(contributions.sum(axis=1), np.log(p / (1 - p)), atol=1e-6)


def test_the_rule_scores_unknown_years_between_old_and_new() -> None:
    X = pd.DataFrame({"built_before_1978": [1.0, 0.0, np.nan]})
    assert list(year_built_rule(X)) == [1.0, 0.0, 0.5]


def test_precision_at_top_breaks_ties_in_proportion() -> None:
    # a yes/no score: 4 of 10 flagged, 2 of them elevated; the top 20% (2) get half
    score = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=float)
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    precision, recall = top_share(y, score, 0.2)
    assert precision == pytest.approx(0.5) and recall == pytest.approx(1 / 3)
    interval = bootstrap(auc, y, score, np.arange(10), replicates=50)
    assert interval.low <= interval.value <= interval.high


def test_artefact_saves_loads_and_scores_the_same(tmp_path: Path) -> None:
    X, y = synthetic()
    saved = artefact(LeadRiskModel(n_estimators=30).fit(X, y))
    path = saved.save(tmp_path / "lead.json")
    loaded = LeadModelArtefact.load(path)
    assert np.allclose(loaded.model.predict_proba(X), saved.model.predict_proba(X))
    assert loaded.reference_value == 3.5
    assert (loaded.trained_from, loaded.trained_to) == (saved.trained_from, saved.trained_to)
    # the file carries no training value: each feature's range is blanked
    infos = next(
        line
        for line in json.loads(path.read_text())["booster"].splitlines()
        if line.startswith("feature_infos=")
    )
    assert set(infos.split("=", 1)[1].split()) == {"none"}
    assert np.allclose(loaded.model.contributions(X), saved.model.contributions(X))
    (tmp_path / "bad.json").write_text("not json")
    with pytest.raises(LeadModelError, match="not a lead-risk model file"):
        LeadModelArtefact.load(tmp_path / "bad.json")
    data = json.loads(path.read_text())
    data["version"] = 99
    (tmp_path / "old.json").write_text(json.dumps(data))
    with pytest.raises(LeadModelError, match="version 99"):
        LeadModelArtefact.load(tmp_path / "old.json")
    with pytest.raises(LeadModelError, match="cannot be read"):
        LeadModelArtefact.load(tmp_path / "absent.json")


def test_a_model_from_another_reference_value_is_refused_unless_asked(tmp_path: Path) -> None:
    X, y = synthetic()
    old = artefact(LeadRiskModel(n_estimators=20).fit(X, y), value=5.0)
    loaded = LeadModelArtefact.load(old.save(tmp_path / "model-5.json"))
    with pytest.raises(ReferenceValueMismatch) as refused:
        loaded.check_reference(dt.date(2024, 3, 1))
    message = str(refused.value)
    assert "at least 5 µg/dL" in message and "3.5 µg/dL" in message
    assert "allow-other-reference" in message
    assert loaded.check_reference(dt.date(2024, 3, 1), allow_other=True) == 3.5
    assert loaded.check_reference(dt.date(2020, 3, 1)) == 5.0
