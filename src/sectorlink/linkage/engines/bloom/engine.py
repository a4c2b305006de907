"""The ``bloom`` engine: the hub links the partners' encodings, never an identifier.

Block on keyed tokens, compare Bloom filters with the compiled Dice kernel, score the
comparison levels with a Fellegi-Sunter model trained on the data (u by random sampling,
m and the prior by EM, checked and retrained when it fails; :mod:`.scoring`), add the
household signature's weight (:mod:`.rules`), and hand the scored pairs with the
contradiction rules on keyed tokens to the run, which clusters and keys them as it does
for every engine (:func:`sectorlink.linkage.run.link`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa

from sectorlink.linkage.comparisons import CONTRADICTION_WEIGHT
from sectorlink.linkage.engine import PAIRS, Scored
from sectorlink.linkage.engines.bloom.blocking import candidate_pairs, random_pairs
from sectorlink.linkage.engines.bloom.comparisons import Comparison, usable
from sectorlink.linkage.engines.bloom.records import (
    RECORDS,
    EncodedRecords,
    comparison_levels,
    record_columns,
    tf_adjustment,
)
from sectorlink.linkage.engines.bloom.rules import (
    birth_gap,
    contradiction_rules,
    household_signature,
    household_weight,
)
from sectorlink.linkage.engines.bloom.scoring import ANCHOR_TOKENS, train
from sectorlink.linkage.errors import LinkageError
from sectorlink.linkage.learned import MIN_ANCHORED, NOISE_RATE, LearnedContradiction
from sectorlink.linkage.result import PAIR_FLOOR, probability_to_weight
from sectorlink.linkage.sqlutil import scalar, table_exists
from sectorlink.linkage.training import TrainingReport
from sectorlink.pprl.load import ENCODED_TABLE

if TYPE_CHECKING:
    from sectorlink.linkage.result import LinkResult, Timer

# u sampling: like the plain engine, about 50 pairs per record within bounds.
U_PAIRS_PER_RECORD = 50
U_MIN_PAIRS = 300_000
U_MAX_PAIRS = 2_000_000


class BloomEngine:
    """``bloom``: a :class:`~sectorlink.linkage.engine.LinkageEngine` over encodings."""

    name = "bloom"

    def score(self, con: duckdb.DuckDBPyConnection, timer: Timer, *, seed: int) -> Scored:
        if not table_exists(con, ENCODED_TABLE) or not scalar(
            con, f"SELECT count(*) FROM {ENCODED_TABLE}"
        ):
            raise LinkageError(
                "the warehouse holds no encoded records: load partners' encodings first "
                "(sectorlink load-encoded FILE...)"
            )
        messages: list[str] = []
        with timer("load"):
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {RECORDS} AS
                    SELECT row_number() OVER (ORDER BY source, record_id) - 1 AS unique_id,
                           {record_columns(con)}
                    FROM {ENCODED_TABLE}"""
            )
            records = EncodedRecords(con)
            sources = {
                str(k): int(v)
                for k, v in con.execute(
                    f"SELECT source, count(*) FROM {RECORDS} GROUP BY source ORDER BY source"
                ).fetchall()
            }
        comparisons = usable(set(records.filters), records.tokens)
        if not comparisons:
            raise LinkageError("the encodings hold no identifier the hub can compare")
        if len(sources) == 1:
            messages.append(f"one source only ({next(iter(sources))}): deduplicating it")
        with timer("block"):
            left, right, blocking = candidate_pairs(con, RECORDS, records.tokens, records.n)
            for rule, n in blocking.oversized_blocks.items():
                messages.append(
                    f"{n:,} block(s) of more than the maximum size left out of rule {rule}"
                )
            for choice in blocking.choices:
                if choice["note"]:
                    messages.append(f"blocking rule {choice['rule']}: {choice['note']}")
        with timer("train"):
            n_random = int(min(max(records.n * U_PAIRS_PER_RECORD, U_MIN_PAIRS), U_MAX_PAIRS))
            rl, rr = random_pairs(records.n, n_random, seed)
            random_gamma = comparison_levels(records, comparisons, rl, rr)
            gamma = comparison_levels(records, comparisons, left, right)
            same_date = (
                records.same("birth_date", left, right) if "birth_date" in records.tokens else None
            )
            # pairs sharing a national number: another start when EM's model fails its checks
            anchored = np.zeros(left.size, dtype=bool)
            for token in ANCHOR_TOKENS:
                if token in records.tokens:
                    anchored |= records.same(token, left, right) == 1
            model = train(
                gamma,
                random_gamma,
                comparisons,
                total_pairs=records.n * (records.n - 1) / 2,
                same_birth_date=same_date,
                anchored=anchored,
            )
        training = TrainingReport(
            mode="trained" if model.iterations else "defaults",
            prior=model.prior,
            u_pairs=n_random,
            em_rules=[f"the {left.size:,} candidate pairs of {len(blocking.rules)} blocking rules"],
            messages=model.messages,
            reason="" if model.iterations else "; ".join(model.messages),
            fixed=model.fixed,
        )
        messages.extend(model.messages)
        household = household_weight(model)
        signature = (
            household_signature(model, gamma, records, left, right)
            if household is not None
            else None
        )
        # how often one person's records show the household signature, measured on pairs
        # sharing an identifier (as the plain engine measures its household level)
        anchors = anchored.copy()
        if "local_person_id" in records.tokens:
            anchors |= records.same("local_person_id", left, right) == 1
        gap = birth_gap(records, left, right)
        learned: list[LearnedContradiction] = []
        common = False
        if signature is not None and anchors.sum() >= MIN_ANCHORED:
            rate = float((signature & anchors).sum() / anchors.sum())
            common = rate >= NOISE_RATE
            messages.append(
                f"household signature: {rate:.2%} of {int(anchors.sum()):,} pairs sharing an "
                "identifier show it"
                + (
                    f" (at least {NOISE_RATE:.0%}): not weighted, and clusters are not split "
                    "on clearly different given names"
                    if common
                    else ""
                )
            )
        if common:
            household = None
        training.household_weight = household
        if household is not None:
            messages.append(
                "household level (different given names, same family name and postcode): "
                f"weight {household:.2f}, so the shared family name and postcode count for "
                "nothing"
            )
        with timer("predict"):
            weight = model.match_weight(gamma)
            weight += tf_adjustment(records, model, gamma, left, right)
            if household is not None and signature is not None:
                weight[signature] += household
            del signature
            if gap is not None:
                gap_rule = gap_contradiction(gap, anchors, weight, gamma, comparisons)
                learned.append(gap_rule)
                messages.append(gap_rule.message())
                if gap_rule.strict:
                    # as the plain engine's contradiction level: a shared identifier
                    # overrides it (better evidence than a mistyped year)
                    weight[gap & ~anchors] += CONTRADICTION_WEIGHT
            del gap
            del gamma, random_gamma
            keep = weight >= probability_to_weight(PAIR_FLOOR)
            kept_weight = weight[keep]
            del weight
            pairs = pa.table(
                {
                    "unique_id_l": left[keep],
                    "unique_id_r": right[keep],
                    "match_weight": kept_weight,
                    "match_probability": 1.0 / (1.0 + np.exp2(-kept_weight)),
                }
            )
            con.register("sl_pairs_arrow", pairs)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {PAIRS} AS SELECT * FROM sl_pairs_arrow")
            con.unregister("sl_pairs_arrow")

        def write_outputs(
            con: duckdb.DuckDBPyConnection,
            out_dir: Path,
            result: LinkResult,
            truth: Path | str | None,
        ) -> dict[str, Path]:
            from sectorlink.linkage.engines.bloom.report import write_outputs as write

            return write(con, out_dir, result=result, model=model, truth=truth)

        return Scored(
            records=RECORDS,
            n_records=records.n,
            sources=sources,
            training=training,
            model=model.as_json(),
            blocking=asdict(blocking),
            version="n/a (bloom engine)",
            rules=contradiction_rules(
                records.tokens,
                set(records.filters),
                given_name=not common,
                gap=any(c.kind == "birth_gap" and c.strict for c in learned),
            ),
            check=True,
            messages=messages,
            contradictions=learned,
            write_outputs=write_outputs,
        )

    def cleanup(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"DROP TABLE IF EXISTS {RECORDS}")

    def close(self) -> None:
        """Nothing to release: the arrays go with the engine."""


def gap_contradiction(
    gap: np.ndarray,
    anchors: np.ndarray,
    weight: np.ndarray,
    gamma: np.ndarray,
    comparisons: list[Comparison],
) -> LearnedContradiction:
    """Whether the birth gap (:func:`.rules.birth_gap`) is a strong contradiction on this
    data, learned as the plain engine learns it (:mod:`sectorlink.linkage.learned`):
    the share of matches showing it, measured on pairs sharing an identifier (one person
    whatever the dates say) when there are enough of them, otherwise on the likely
    matches (by the model, before the gap) that share no postcode or address, which a
    household cannot explain. Below :data:`~sectorlink.linkage.learned.NOISE_RATE` it is
    strong; above (data whose errors replace whole dates) it is left to the model."""
    if anchors.sum() >= MIN_ANCHORED:
        basis, pairs = "anchored pairs", float(anchors.sum())
        rate = float((gap & anchors).sum() / anchors.sum())
    else:
        probability = 1.0 / (1.0 + np.exp2(-np.clip(weight, -60.0, 60.0)))
        apart = np.ones(gap.size, dtype=bool)
        for k, c in enumerate(comparisons):
            if c.name in ("postcode", "address"):
                apart &= gamma[:, k] <= 0
        basis, pairs = "likely matches sharing no place", float(probability[apart].sum())
        rate = float((probability * (gap & apart)).sum() / max(pairs, 1e-9))
    strict = rate < NOISE_RATE
    return LearnedContradiction(
        kind="birth_gap",
        rate=rate,
        u=float(gap.mean()) if gap.size else 0.0,
        weight=CONTRADICTION_WEIGHT if strict else 0.0,
        strict=strict,
        basis=basis,
        basis_pairs=pairs,
    )
