"""Mess rates: validation, overrides from the CLI form."""

from __future__ import annotations

import pytest

from sectorlink.synth import MessConfig, parse_rate_overrides


def test_defaults_are_valid_and_documented():
    config = MessConfig()
    assert set(MessConfig.descriptions()) == set(MessConfig.names())
    assert all(0 <= getattr(config, name) <= 1 for name in MessConfig.names())


@pytest.mark.parametrize("value", [-0.01, 1.5, float("nan"), float("inf")])
def test_rate_outside_unit_interval_names_the_rate(value):
    with pytest.raises(ValueError, match="'typo'"):
        MessConfig(typo=value)


def test_non_numeric_rate_is_refused():
    with pytest.raises(ValueError, match="'nickname'"):
        MessConfig(nickname="often")  # type: ignore[arg-type]


def test_exclusive_birth_date_rates_must_sum_to_at_most_one():
    with pytest.raises(ValueError, match="missing_dob"):
        MessConfig(missing_dob=0.6, year_only_dob=0.5)


def test_with_rates_accepts_dashes_and_rejects_unknown_names():
    assert MessConfig().with_rates({"missing-dob": "0.2"}).missing_dob == 0.2
    with pytest.raises(ValueError, match="unknown mess rate 'typos'"):
        MessConfig().with_rates({"typos": 0.1})
    with pytest.raises(ValueError, match="must be a number"):
        MessConfig().with_rates({"typo": "lots"})


def test_parse_rate_overrides():
    assert parse_rate_overrides(["typo=0.1", " nickname = 0.2 "]) == {
        "typo": "0.1",
        "nickname": "0.2",
    }
    for bad in ("typo", "=0.1", "typo="):
        with pytest.raises(ValueError, match="NAME=VALUE"):
            parse_rate_overrides([bad])


def test_none_turns_everything_off():
    assert all(getattr(MessConfig.none(), name) == 0 for name in MessConfig.names())
