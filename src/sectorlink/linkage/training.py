"""Train the Splink model: u by random sampling, m and the prior by EM, then check it.

EM runs with every m and u it produces clamped to :data:`EM_PROBABILITY_FLOOR`, so a
level that (almost) never occurs among a large data set's matches cannot underflow
float64 and stop training (Splink refuses values below 1e-300). The trained model is
checked (:mod:`sectorlink.linkage.model_check`) and the household level's weight set
from it (:mod:`sectorlink.linkage.household`).

With too few records, or when EM cannot run, the m probabilities stay at the documented
defaults carried by each comparison level (see :mod:`sectorlink.linkage.comparisons`)
and the prior falls back to one match per record. That model is used only when the
caller asks for it (``allow_default_model``); otherwise the run stops (see ``link``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import splink.internals.expectation_maximisation as splink_em
from splink import Linker

from sectorlink.linkage.household import set_household_weight
from sectorlink.linkage.model import ModelPlan, settings_dict
from sectorlink.linkage.model_check import check_model, fix_failures

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
# No m or u EM produces goes below this: far below any level's real rate, and far above
# the 1e-300 under which Splink refuses a value (a 166k-record run produced 2.3e-316).
EM_PROBABILITY_FLOOR = 1e-12


@dataclass
class TrainingReport:
    mode: Literal["trained", "defaults"]
    prior: float
    u_pairs: int
    em_rules: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    # why the model was not trained (mode "defaults"), for the error or the notes
    reason: str = ""
    # comparisons whose trained m failed the checks and were set to their defaults
    fixed: list[str] = field(default_factory=list)
    # the household level's weight (see `household`), when the model has one
    household_weight: float | None = None

    def summary(self) -> str:
        """One line saying which model scored the pairs (the report's first line)."""
        if self.mode == "defaults":
            return (
                f"model: the documented default m and u probabilities, not trained "
                f"({self.reason}), as asked (allow_default_model)"
            )
        rules = "; ".join(self.em_rules) or "none"
        checked = (
            f"; failed the checks, set to defaults: {', '.join(self.fixed)}"
            if self.fixed
            else "; passed the checks"
        )
        return (
            f"model: trained on this data (u from {self.u_pairs:,} random pairs, m and the "
            f"prior by EM on: {rules}){checked}"
        )


@contextmanager
def clamped_em(floor: float = EM_PROBABILITY_FLOOR) -> Iterator[None]:
    """Within the block, Splink's EM clamps each new m and u to at least ``floor``."""
    # Splink's maximisation step turns each level's new m and u into a lookup with this
    # function before setting them (where the 1e-300 check fires): clamp them there.
    name = "m_u_records_to_lookup_dict"
    original = getattr(splink_em, name)

    def clamped(m_u_records: list[dict[str, Any]]) -> dict[str, dict[int, Any]]:
        for record in m_u_records:
            for key in ("m_probability", "u_probability"):
                value = record.get(key)
                if isinstance(value, (int, float)) and not math.isnan(value):
                    record[key] = max(float(value), floor)
        result: dict[str, dict[int, Any]] = original(m_u_records)
        return result

    setattr(splink_em, name, clamped)
    try:
        yield
    finally:
        setattr(splink_em, name, original)


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

    failed: list[str] = []
    with clamped_em():
        for description, rule in plan.training_rules:
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule,
                    estimate_without_term_frequencies=True,
                    populate_probability_two_random_records_match_from_trained_values=True,
                    max_pairs=EM_MAX_PAIRS,
                )
            except Exception as exc:  # Splink raises plain exceptions (an empty block)
                logger.warning("EM on %s failed: %s", description, exc)
                failed.append(f"{description} ({exc.__class__.__name__}: {exc})")
                continue
            report.em_rules.append(description)
    if not report.em_rules:
        return _use_defaults(plan, report, "EM could not run: " + "; ".join(failed))
    for reason in failed:
        report.messages.append(f"EM session skipped: {reason}")

    model = linker.misc.save_model_to_json()
    prior = float(model["probability_two_random_records_match"])
    if math.isnan(prior) or not PRIOR_FLOOR < prior < 0.5:
        report.messages.append(
            f"EM's prior {prior:.3g} was implausible; one match per record assumed"
        )
        prior = report.prior
    model["probability_two_random_records_match"] = prior
    report.prior = prior
    failures = check_model(model)
    if failures:
        model = fix_failures(model, plan, failures)
        report.fixed = [f.comparison for f in failures]
        report.messages.extend(f.message() for f in failures)
    _household(model, report)
    return model, report


def _household(model: dict[str, Any], report: TrainingReport) -> None:
    report.household_weight = set_household_weight(model)
    if report.household_weight is not None:
        report.messages.append(
            "household level (clearly different first names, same family name and "
            f"address): weight {report.household_weight:.2f}, set so the shared family "
            "name and address count for nothing"
        )


def _use_defaults(
    plan: ModelPlan, report: TrainingReport, reason: str
) -> tuple[dict[str, Any], TrainingReport]:
    report.mode = "defaults"
    report.reason = reason
    report.messages.append(
        f"model not trained: {reason}; using the documented default m and u probabilities"
    )
    model = settings_dict(plan, report.prior, defaults=True)
    _household(model, report)
    return model, report
