"""The household level of the given-name comparison: its weight, set from the trained model.

Two records with the same family name and address but clearly different first names are
two members of one household far more often than one person written twice. Under
Fellegi-Sunter's independence the shared family name and address each add their full
weight, so a pair of siblings without birth dates scores like a match, and EM, run on
blocks full of households, learns that different first names are common among matches.

So the level is never trained: once the model is trained, its weight is set so that the
family name and address the pair shares count for nothing once the first names clearly
differ: weight = (given name: all other) - (family name: exact) - (location: the top
level). What is left to link such a pair is what a household does not share: a birth
date, a national number, an email.
"""

from __future__ import annotations

import math
from typing import Any

from sectorlink.linkage.comparisons import HOUSEHOLD_LABEL


def _weight(level: dict[str, Any]) -> float | None:
    m, u = level.get("m_probability"), level.get("u_probability")
    if not isinstance(m, (int, float)) or not isinstance(u, (int, float)) or m <= 0 or u <= 0:
        return None
    return math.log2(float(m) / float(u))


def _levels(model: dict[str, Any], name: str) -> list[dict[str, Any]]:
    for comparison in model["comparisons"]:
        if comparison.get("output_column_name") == name:
            levels: list[dict[str, Any]] = comparison["comparison_levels"]
            return [lvl for lvl in levels if not lvl.get("is_null_level")]
    return []


def set_household_weight(model: dict[str, Any]) -> float | None:
    """Set the household level's m in ``model`` (Splink settings, in place); returns the
    weight applied, or None when the model has no household level."""
    given = _levels(model, "given_name")
    household = [lvl for lvl in given if lvl.get("label_for_charts") == HOUSEHOLD_LABEL]
    family, location = _levels(model, "family_name"), _levels(model, "location")
    if not household or not family or not location:
        return None
    other = _weight(given[-1])
    shared = [_weight(family[0]), _weight(location[0])]
    if other is None or any(w is None for w in shared):
        return None
    weight = min(other, other - sum(max(0.0, w or 0.0) for w in shared))
    level = household[0]
    level["m_probability"] = float(level["u_probability"]) * 2.0**weight
    return weight
