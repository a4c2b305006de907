"""The home model: a penalty chosen by temporal cross-validation, thin inputs left out,
a home's own assessments weighed by Bayes' rule, exact explanations, a file that loads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sectorlink.insights.lead.evaluate import auc
from sectorlink.insights.lead.features import FEATURES
from sectorlink.insights.lead.home import (
    MIN_SUPPORT,
    PENALTIES,
    AssessmentAccuracy,
    HomeHazardModel,
    HomeModelError,
)


def homes(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """Assessed homes whose hazard follows the building's age and condition."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(0.0, index=range(n), columns=list(FEATURES))
    X["year_built"] = rng.integers(1860, 2020, n).astype(float)
    X.loc[rng.random(n) < 0.05, "year_built"] = np.nan
    X["condition"] = rng.integers(0, 4, n).astype(float)
    X["tenure"] = rng.integers(0, 3, n).astype(float)
    X["rented"] = (X["tenure"] > 0).astype(float)
    X["violations_before"] = rng.poisson(1.0, n).astype(float)
    old = X["year_built"].fillna(1950) < 1945
    logit = -2.5 + 2.0 * old + 0.6 * X["condition"] + 0.4 * np.log1p(X["violations_before"])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    dates = pd.Series(pd.to_datetime("2014-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), "D"))
    return X, y, dates


@pytest.mark.slow  # 50 logistic fits
def test_the_penalty_is_chosen_on_later_years_and_is_stiffer_for_less_data() -> None:
    X, y, dates = homes(3000)
    large = HomeHazardModel().fit(X, y, dates)
    small = HomeHazardModel().fit(X.head(120), y[:120], dates.head(120))
    assert set(large.cv_["year"]) == set(sorted(dates.dt.year.unique())[-3:])
    assert set(large.cv_["C"]) == set(PENALTIES) and large.C_ in PENALTIES
    # the penalty per assessment (scikit-learn sums the loss over rows): 1 / (C x rows)
    assert 1 / (small.C_ * 120) > 1 / (large.C_ * 3000)
    fresh, y_fresh, _ = homes(2000, seed=2)
    assert auc(y_fresh, large.predict_proba(fresh)[:, 1]) > 0.75


def test_an_input_too_few_assessments_show_is_left_out() -> None:
    X, y, dates = homes(800)
    X["address_tests_before"] = 0.0
    X.loc[: MIN_SUPPORT - 2, "address_tests_before"] = 1.0  # children tested clear, rarely
    y = y.copy()
    y[: MIN_SUPPORT - 1] = 1  # ... and those homes all hazardous: noise to learn from
    model = HomeHazardModel().fit(X, y, dates)
    assert "address_tested_clear" in model.left_out_
    assert model.coef_[list(model.columns_).index("address_tested_clear")] == 0
    assert "condition" not in model.left_out_


def test_own_assessments_move_a_home_by_the_likelihood_ratio() -> None:
    X, y, dates = homes(600)
    accuracy = AssessmentAccuracy(sensitivity=0.8, false_positive=0.1)
    model = HomeHazardModel(accuracy).fit(X, y, dates)
    home = X.head(1).copy()
    found, clear = home.copy(), home.copy()
    found[["lead_assessments_before", "hazards_found_before"]] = 1.0
    clear["lead_assessments_before"] = 1.0
    base = model.log_odds(home)[0]
    assert model.log_odds(found)[0] - base == pytest.approx(np.log(0.8 / 0.1))
    assert model.log_odds(clear)[0] - base == pytest.approx(np.log(0.2 / 0.9))
    with pytest.raises(HomeModelError, match="false_positive < sensitivity"):
        AssessmentAccuracy(sensitivity=0.1, false_positive=0.2)


def test_explanations_add_up_and_the_model_round_trips() -> None:
    X, y, dates = homes(600)
    X.loc[:9, ["lead_assessments_before", "hazards_found_before"]] = 1.0
    model = HomeHazardModel().fit(X, y, dates)
    parts = model.contributions(X)
    assert list(parts.columns) == [*FEATURES, "bias"]
    assert np.allclose(parts.sum(axis=1), model.log_odds(X))
    assert (parts.loc[:9, "hazards_found_before"] > 0).all()
    again = HomeHazardModel.from_dict(model.to_dict())
    assert np.allclose(again.log_odds(X), model.log_odds(X))
    broken = model.to_dict()
    broken["columns"] = broken["columns"][:-1]
    with pytest.raises(HomeModelError, match="columns"):
        HomeHazardModel.from_dict(broken)
    with pytest.raises(HomeModelError, match="with and without"):
        HomeHazardModel().fit(X, np.zeros(len(X)), dates)
