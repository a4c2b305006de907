"""Checks a trained model must pass before it scores a single pair.

EM finds *a* two-class split of the candidate pairs, not necessarily matches against
non-matches: on blocks full of households it can settle on "same household" against
"different household", and the model then says true matches have different first names.
Every comparison with an ordering must therefore have m no lower for agreement (its first
level, the closest agreement) than for disagreement (its last level, "all other"). A
comparison that fails gets the documented default m of each of its levels (see
:mod:`sectorlink.linkage.comparisons`), and the run says so.

The source's own person identifier is not checked: each partner numbers its own clients,
so across partners one person's records almost never share it, and m for "different" is
rightly the larger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sectorlink.linkage.model import ModelPlan

# Comparisons without an ordering between agreement and disagreement among matches.
UNORDERED = frozenset({"local_person_id"})


@dataclass(frozen=True)
class CheckFailure:
    comparison: str
    agree_label: str
    agree_m: float
    disagree_label: str
    disagree_m: float

    def message(self) -> str:
        return (
            f"model check: {self.comparison} had m {self.agree_m:.3g} for "
            f"'{self.agree_label}' below m {self.disagree_m:.3g} for '{self.disagree_label}' "
            "(EM split households, not matches); its levels were set to the documented "
            "default m"
        )


def _m(level: dict[str, Any]) -> float | None:
    m = level.get("m_probability")
    return float(m) if isinstance(m, (int, float)) else None


def check_model(model: dict[str, Any]) -> list[CheckFailure]:
    """The ordered comparisons of ``model`` (Splink settings) whose m for agreement is
    below m for disagreement."""
    failures: list[CheckFailure] = []
    for comparison in model["comparisons"]:
        name = str(comparison.get("output_column_name"))
        if name in UNORDERED:
            continue
        levels = [
            lvl
            for lvl in comparison["comparison_levels"]
            if not lvl.get("is_null_level") and not lvl.get("fix_m_probability")
        ]
        if len(levels) < 2:
            continue
        top, last = levels[0], levels[-1]
        top_m, last_m = _m(top), _m(last)
        if top_m is None or last_m is None or top_m >= last_m:
            continue
        failures.append(
            CheckFailure(
                name,
                str(top.get("label_for_charts")),
                top_m,
                str(last.get("label_for_charts")),
                last_m,
            )
        )
    return failures


def fix_failures(
    model: dict[str, Any], plan: ModelPlan, failures: list[CheckFailure]
) -> dict[str, Any]:
    """``model`` with each failing comparison's trainable levels at their default m."""
    failing = {f.comparison for f in failures}
    for comparison, planned in zip(model["comparisons"], plan.comparisons, strict=True):
        if comparison.get("output_column_name") not in failing:
            continue
        for level, plan_level in zip(comparison["comparison_levels"], planned.levels, strict=True):
            if level.get("is_null_level") or level.get("fix_m_probability"):
                continue
            if plan_level.m is not None:
                level["m_probability"] = plan_level.m
    return model
