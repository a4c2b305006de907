"""Train the Splink model: u by random sampling, m and the prior by EM, with a fallback.

With too few records, or when EM cannot run, the m probabilities stay at the documented
defaults carried by each comparison level (see :mod:`sectorlink.linkage.comparisons`)
and the prior falls back to one match per record; the report says so.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from splink import Linker

from sectorlink.linkage.model import ModelPlan, settings_dict

logger = logging.getLogger(__name__)

# Below this many records EM has too few matching pairs to learn from.
MIN_RECORDS_FOR_EM = 400
# u sampling: about 50 pairs per record, at least 300k (stable u on small data) and at
# most 2 million (the time it takes is then a few seconds, whatever the data size).
U_PAIRS_PER_RECORD = 50
U_MIN_PAIRS = 300_000
U_MAX_PAIRS = 2_000_000
# EM runs on at most this many blocked pairs per training rule.
EM_MAX_PAIRS = 1_000_000
# Prior bounds: a trained prior outside them is a sign EM went wrong.
PRIOR_FLOOR = 1e-9


@dataclass
class TrainingReport:
    mode: Literal["trained", "defaults"]
    prior: float
    u_pairs: int
    em_rules: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def default_prior(records: int) -> float:
    """About one other record of the same person per record (n/2 matching pairs out of
    n(n-1)/2), capped at 0.1 so a handful of records does not make every pair likely."""
    return min(0.1, 1.0 / max(records - 1, 1))


def train(
    linker: Linker, plan: ModelPlan, records: int, *, seed: int = 42, u_chunks: int = 10
) -> tuple[dict[str, Any], TrainingReport]:
    """Estimate u, then m and the prior; fall back to defaults when EM cannot be trusted.

    Returns the trained model as Splink's settings dictionary (what Splink saves as
    JSON) and what happened, for the run record and the report.
    """
    report = TrainingReport(mode="trained", prior=default_prior(records), u_pairs=0)
    if records < MIN_RECORDS_FOR_EM or not plan.training_rules:
        reason = (
            f"only {records} records (training needs at least {MIN_RECORDS_FOR_EM})"
            if records < MIN_RECORDS_FOR_EM
            else "no field can anchor an EM training rule"
        )
        return _use_defaults(plan, report, reason)

    total_pairs = records * (records - 1) // 2
    wanted = min(U_MAX_PAIRS, max(U_MIN_PAIRS, U_PAIRS_PER_RECORD * records))
    report.u_pairs = int(min(wanted, total_pairs))
    linker.training.estimate_u_using_random_sampling(
        max_pairs=report.u_pairs, seed=seed, num_chunks=u_chunks
    )

    try:
        for description, rule in plan.training_rules:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule,
                estimate_without_term_frequencies=True,
                populate_probability_two_random_records_match_from_trained_values=True,
                max_pairs=EM_MAX_PAIRS,
            )
            report.em_rules.append(description)
    except Exception as exc:  # Splink raises plain exceptions when a block is empty
        logger.warning("EM training failed: %s", exc)
        return _use_defaults(plan, report, f"EM could not run ({exc.__class__.__name__}: {exc})")

    model = linker.misc.save_model_to_json()
    prior = float(model["probability_two_random_records_match"])
    if math.isnan(prior) or not PRIOR_FLOOR < prior < 0.5:
        report.messages.append(
            f"EM's prior {prior:.3g} was implausible; one match per record assumed"
        )
        prior = report.prior
    model["probability_two_random_records_match"] = prior
    report.prior = prior
    return model, report


def _use_defaults(
    plan: ModelPlan, report: TrainingReport, reason: str
) -> tuple[dict[str, Any], TrainingReport]:
    report.mode = "defaults"
    report.messages.append(
        f"model not trained: {reason}; using the documented default m and u probabilities"
    )
    return settings_dict(plan, report.prior, defaults=True), report
