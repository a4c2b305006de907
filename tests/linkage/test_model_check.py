"""A trained model is checked before use; EM is clamped; the household level's weight."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import splink.internals.expectation_maximisation as splink_em

from sectorlink.linkage.comparisons import HOUSEHOLD_LABEL, build_comparisons
from sectorlink.linkage.engines.bloom import scoring
from sectorlink.linkage.engines.bloom.comparisons import COMPARISONS
from sectorlink.linkage.engines.bloom.scoring import check, train
from sectorlink.linkage.fields import LINKAGE_FIELDS
from sectorlink.linkage.household import set_household_weight
from sectorlink.linkage.model import ModelPlan, settings_dict
from sectorlink.linkage.model_check import check_model, fix_failures
from sectorlink.linkage.sql_dialect import Dialect
from sectorlink.linkage.training import EM_PROBABILITY_FLOOR, clamped_em


def _plan() -> ModelPlan:
    fields = set(LINKAGE_FIELDS)
    return ModelPlan(fields, build_comparisons(Dialect("duckdb"), fields), [], [])


def _trained(plan: ModelPlan) -> dict[str, Any]:
    """The plan's defaults as if trained: every level with an m and a u."""
    return settings_dict(plan, 1e-4, defaults=True)


def _levels(model: dict[str, Any], name: str) -> list[dict[str, Any]]:
    comparison = next(c for c in model["comparisons"] if c["output_column_name"] == name)
    return [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]


def test_an_ordered_model_passes() -> None:
    assert check_model(_trained(_plan())) == []


def test_a_model_that_says_matches_differ_on_first_names_fails_and_is_fixed() -> None:
    plan = _plan()
    model = _trained(plan)
    given = _levels(model, "given_name")
    given[0]["m_probability"] = 0.01  # exact
    given[-1]["m_probability"] = 0.96  # all other: EM split households, not people
    failures = check_model(model)
    assert [f.comparison for f in failures] == ["given_name"]
    assert "0.01" in failures[0].message() and "0.96" in failures[0].message()
    fixed = fix_failures(model, plan, failures)
    assert check_model(fixed) == []
    assert _levels(fixed, "given_name")[0]["m_probability"] == 0.82


def test_the_sources_own_identifier_is_not_an_ordered_comparison() -> None:
    model = _trained(_plan())
    local = _levels(model, "local_person_id")
    local[0]["m_probability"], local[-1]["m_probability"] = 0.01, 0.9
    assert check_model(model) == []


def test_fixed_contradiction_levels_are_not_checked() -> None:
    # an NHS number's "different" level is a strong contradiction with fixed m
    model = _trained(_plan())
    assert all(lvl.get("fix_m_probability") for lvl in _levels(model, "nhs_number")[1:])
    assert not [f for f in check_model(model) if f.comparison == "nhs_number"]


def test_household_weight_cancels_the_shared_family_name_and_address() -> None:
    model = _trained(_plan())
    weight = set_household_weight(model)
    assert weight is not None

    def w(level: dict[str, Any]) -> float:
        return math.log2(level["m_probability"] / level["u_probability"])

    other = w(_levels(model, "given_name")[-1])
    family = w(_levels(model, "family_name")[0])
    place = w(_levels(model, "location")[0])
    assert math.isclose(weight, other - family - place)
    household = next(
        lvl for lvl in _levels(model, "given_name") if lvl["label_for_charts"] == HOUSEHOLD_LABEL
    )
    assert math.isclose(w(household), weight)
    # with the household level, a shared family name and address add nothing
    assert math.isclose(w(household) + family + place, other)


def test_em_values_are_clamped_while_training_and_only_then() -> None:
    records = [
        {
            "output_column_name": "x",
            "comparison_vector_value": 1,
            "m_probability": 2.33e-316,
            "u_probability": 0.5,
        }
    ]
    with clamped_em():
        lookup = splink_em.m_u_records_to_lookup_dict(records)
    assert lookup["x"][1]["m_probability"] == EM_PROBABILITY_FLOOR
    assert lookup["x"][1]["u_probability"] == 0.5
    unclamped = [{**records[0], "m_probability": 1e-320}]
    assert splink_em.m_u_records_to_lookup_dict(unclamped)["x"][1]["m_probability"] == 1e-320


def test_bloom_model_check_and_retraining_from_anchored_pairs() -> None:
    comparisons = [c for c in COMPARISONS if c.name in ("given_name", "nhs_number")]
    rng = np.random.default_rng(0)
    # candidate pairs: households (same NHS missing, given names different) dominate, and
    # a few true matches that share an NHS number and a first name
    households = np.column_stack([np.zeros(5000, np.int8), np.full(5000, -1, np.int8)])
    matches = np.column_stack([np.full(600, 5, np.int8), np.ones(600, np.int8)])
    gamma = np.vstack([households, matches])
    random_gamma = np.column_stack(
        [
            rng.choice([0, 1, 5], 20000, p=[0.97, 0.02, 0.01]).astype(np.int8),
            np.zeros(20000, np.int8),
        ]
    )
    anchored = np.zeros(len(gamma), bool)
    anchored[5000:] = True
    model = train(gamma, random_gamma, comparisons, total_pairs=1e8, anchored=anchored)
    assert check(comparisons, model.m) == []
    given = model.m[0]
    assert given[-1] > given[0]


def test_a_failing_bloom_model_is_retrained_from_anchored_pairs(monkeypatch) -> None:
    comparisons = [c for c in COMPARISONS if c.name in ("given_name", "nhs_number")]
    gamma = np.column_stack([np.full(600, 5, np.int8), np.ones(600, np.int8)])
    random_gamma = np.zeros((2000, 2), np.int8)
    anchored = np.ones(600, bool)
    real = scoring._train
    starts: list[object] = []

    def collapsed_first(*args: Any, **kwargs: Any) -> scoring.FellegiSunter:
        model = real(*args, **kwargs)
        starts.append(kwargs.get("start"))
        if len(starts) == 1:  # EM converged on households: first names "differ"
            model.m[0] = np.array([0.96, 0.01, 0.01, 0.01, 0.005, 0.005])
        return model

    monkeypatch.setattr(scoring, "_train", collapsed_first)
    model = train(gamma, random_gamma, comparisons, total_pairs=1e6, anchored=anchored)
    assert len(starts) == 2 and starts[1] is not None  # the second start: anchored pairs
    assert check(comparisons, model.m) == []
    assert model.messages[0].startswith("model check: m for agreement below")
    assert "retrained from another start" in model.messages[1]
    assert model.fixed == []
