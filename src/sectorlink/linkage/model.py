"""The linkage model for the fields present: comparisons, blocking and training rules,
as a Splink settings dictionary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from sectorlink.linkage.blocking import BlockingChoice, choose_blocking_rules, training_rules
from sectorlink.linkage.comparisons import Comparison, build_comparisons
from sectorlink.linkage.fields import FieldProfile
from sectorlink.linkage.sql_dialect import Dialect
from sectorlink.model.catalogue import columns_with_role

# Columns Splink needs in its input table: the standardised fields plus the arrays that
# some levels read (the linkage input's `model` role, model.hub_tables).
MODEL_COLUMNS = columns_with_role("model")


@dataclass
class ModelPlan:
    fields: set[str]
    comparisons: list[Comparison]
    blocking: list[BlockingChoice]
    training_rules: list[tuple[str, str]]

    @property
    def blocking_sql(self) -> list[str]:
        return [b.sql for b in self.blocking if b.used]


def plan_model(
    con: duckdb.DuckDBPyConnection,
    table: str,
    profile: FieldProfile,
    dialect: Dialect,
    *,
    strict_contradictions: bool = True,
) -> ModelPlan:
    """Choose comparisons, blocking and training rules from the fields that hold values."""
    fields = profile.present
    return ModelPlan(
        fields=fields,
        comparisons=build_comparisons(dialect, fields, strict_contradictions=strict_contradictions),
        blocking=choose_blocking_rules(con, table, fields, profile.records),
        training_rules=training_rules(fields),
    )


def settings_dict(
    plan: ModelPlan, prior: float = 1e-4, *, defaults: bool = False
) -> dict[str, Any]:
    """A Splink settings dictionary for the plan (dedupe over all sources at once, which
    is link and dedupe in one: every pair within and across partners is a candidate).
    ``defaults``: the untrained model of documented default m and u probabilities."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "comparisons": [c.as_dict(defaults) for c in plan.comparisons],
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": sql} for sql in plan.blocking_sql
        ],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [],
        "em_convergence": 0.001,
        "max_iterations": 25,
    }
