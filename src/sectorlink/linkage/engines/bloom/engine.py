"""``link_encoded()``: the hub links encodings into the same person index as the plain engine.

Block on keyed tokens, compare Bloom filters with the compiled Dice kernel, score the
comparison levels with a Fellegi-Sunter model trained on the data (u by random sampling,
m and the prior by EM), then cluster with the plain engine's coherent clustering and
give stable person keys with its key assignment. The hub never sees an identifier: the
contradiction rules of the clustering read keyed tokens only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from sectorlink.linkage.clustering import coherent_clusters
from sectorlink.linkage.engines import WAREHOUSE_MEMORY
from sectorlink.linkage.errors import LinkageError
from sectorlink.linkage.run import (
    DEFAULT_THRESHOLD,
    PAIR_FLOOR,
    LinkResult,
    _Timer,
    probability_to_weight,
    require_trained,
)
from sectorlink.linkage.sqlutil import scalar, table_exists
from sectorlink.linkage.staging import key_clusters, stage_pairs, stage_run, staged_counts
from sectorlink.linkage.store import (
    create_staging,
    drop_staging,
    ensure_tables,
    publish,
)
from sectorlink.linkage.training import TrainingReport
from sectorlink.pprl import dice
from sectorlink.pprl.blocking import candidate_pairs, random_pairs
from sectorlink.pprl.comparisons import Comparison, levels, usable
from sectorlink.pprl.load import ENCODED_TABLE
from sectorlink.pprl.scoring import ANCHOR_TOKENS, FellegiSunter, train
from sectorlink.warehouse.store import connect

ENGINE = "bloom"
RECORDS = "sl_enc"
# u sampling: like the plain engine, about 50 pairs per record within bounds.
U_PAIRS_PER_RECORD = 50
U_MIN_PAIRS = 300_000
U_MAX_PAIRS = 2_000_000
# Pairs scored per batch (bounds the memory of Dice and level arrays).
BATCH = 2_000_000


# Checks across name fields (their tokens share one key): a given name found as the
# other record's middle or family name, and given and family names swapped.
CROSS_TOKENS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "given_cross": (("given_canonical", "given_name"), ("middle_first", "family_name")),
    "name_swap": (("given_canonical", "given_name"), ("family_name",)),
}


class EncodedRecords:
    """The encoded records, with filters as packed words and tokens as integer codes."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        columns = [r[0] for r in con.execute(f"DESCRIBE {ENCODED_TABLE}").fetchall()]
        present = con.execute(
            "SELECT "
            + ", ".join(f'count("{c}")' for c in columns if c.startswith(("bf_", "tok_")))
            + f" FROM {ENCODED_TABLE}"
        ).fetchall()[0]
        names = [c for c in columns if c.startswith(("bf_", "tok_"))]
        have = {name for name, n in zip(names, present, strict=True) if n}
        self.n = int(scalar(con, f"SELECT count(*) FROM {RECORDS}") or 0)
        self.filters: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in sorted(c for c in have if c.startswith("bf_")):
            array = (
                # the order of unique_id (see _link), read from the loaded table so the
                # temporary copy of the records need not hold every filter
                con.sql(f"SELECT {name} FROM {ENCODED_TABLE} ORDER BY source, record_id")
                .to_arrow_table()
                .column(0)
                .combine_chunks()
            )
            width = _byte_width(con, name)
            words, _ = dice.as_words(array.cast(pa.binary(width)))
            self.filters[name[3:]] = (words, dice.popcounts(words))
        self.tokens = {c[4:] for c in have if c.startswith("tok_")}
        self.codes = _token_codes(con, self.tokens)

    def dice(self, field: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        words, pops = self.filters[field]
        return np.asarray(dice.dice_pairs(words, words, left, right, pops, pops), dtype=np.float32)

    def frequency(self, token: str) -> np.ndarray:
        """Per record, the share of records (holding the token) with the same value."""
        codes = self.codes[token]
        known = codes >= 0
        _, inverse, counts = np.unique(codes[known], return_inverse=True, return_counts=True)
        out = np.ones(codes.size, dtype=np.float64)
        out[known] = counts[inverse.reshape(-1)] / max(int(known.sum()), 1)
        return out

    def has(self, token: str) -> bool:
        """Whether ``same`` can answer for ``token`` (a keyed token or a cross-name check)."""
        if token in CROSS_TOKENS:
            givens, others = CROSS_TOKENS[token]
            return givens[0] in self.tokens and any(o in self.tokens for o in others)
        return token in self.tokens

    def _equal(self, a: str, b: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Token ``a`` of the left record equals token ``b`` of the right (same key group)."""
        x, y = self.codes.get(a), self.codes.get(b)
        if x is None or y is None:
            return np.zeros(left.size, dtype=bool)
        return np.asarray((x[left] == y[right]) & (x[left] >= 0))

    def same(self, token: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """1 equal, 0 different, -1 either missing; the swapped birth date matches either way,
        and the cross-name checks look for a name in another name field of the other record."""
        if token in CROSS_TOKENS:
            givens, others = CROSS_TOKENS[token]
            hit = np.zeros(left.size, dtype=bool)
            for given in givens:
                for other in others:
                    hit |= self._equal(given, other, left, right)
                    hit |= self._equal(other, given, left, right)
            cross: np.ndarray = hit.astype(np.int8)
            codes = self.codes[givens[0]]
            cross[(codes[left] < 0) | (codes[right] < 0)] = -1
            return cross
        if token == "birth_date_swapped":
            date, swapped = self.codes["birth_date"], self.codes["birth_date_swapped"]
            one = (swapped[left] == date[right]) & (swapped[left] >= 0)
            other = (date[left] == swapped[right]) & (swapped[right] >= 0)
            out: np.ndarray = (one | other).astype(np.int8)
            out[(date[left] < 0) | (date[right] < 0)] = -1
            return out
        codes = self.codes[token]
        a, b = codes[left], codes[right]
        same: np.ndarray = (a == b).astype(np.int8)
        same[(a < 0) | (b < 0)] = -1
        return same


def _record_columns(con: duckdb.DuckDBPyConnection) -> str:
    """Columns of the working copy of the records: keys, tokens, and the filters the
    clustering's contradiction rules read (the others are read once, into arrays)."""
    names = [r[0] for r in con.execute(f"DESCRIBE {ENCODED_TABLE}").fetchall()]
    keep = [
        n
        for n in names
        if n in ("source", "record_id", *CONTRADICTION_FILTERS) or n.startswith("tok_")
    ]
    return ", ".join(f'"{n}"' for n in keep)


def _byte_width(con: duckdb.DuckDBPyConnection, column: str) -> int:
    return int(scalar(con, f"SELECT max(octet_length({column})) FROM {ENCODED_TABLE}") or 8)


def _token_codes(con: duckdb.DuckDBPyConnection, tokens: set[str]) -> dict[str, np.ndarray]:
    """Each token column as an integer (-1 for missing), in unique_id order.

    A keyed token is already a uniform random hex string: its first 60 bits serve as its
    code (a collision among a few million records has odds below one in 10^5), and
    tokens sharing a key, such as a date and a swapped date, stay comparable.
    """
    if not tokens:
        return {}
    names = sorted(tokens)
    select = ", ".join(
        f"coalesce(('0x' || substr(tok_{t}, 1, 15))::BIGINT, -1) AS {t}" for t in names
    )
    got = con.execute(f"SELECT {select} FROM {RECORDS} ORDER BY unique_id").fetchnumpy()
    return {t: np.ascontiguousarray(got[t], dtype=np.int64) for t in names}


def comparison_levels(
    records: EncodedRecords,
    comparisons: list[Comparison],
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """(pairs, comparisons) int8 levels, computed in batches."""
    out = np.empty((left.size, len(comparisons)), dtype=np.int8)
    for start in range(0, left.size, BATCH):
        lb, rb = left[start : start + BATCH], right[start : start + BATCH]
        dices = {f: records.dice(f, lb, rb) for f in {f for c in comparisons for f in c.filters}}
        sames = {
            t: records.same(t, lb, rb)
            for t in {t for c in comparisons for t in c.tokens}
            if records.has(t)
        }
        for k, c in enumerate(comparisons):
            out[start : start + BATCH, k] = levels(c, dices, sames)
    return out


# Given names this dissimilar (Dice of their filters) are "clearly different" for the
# twins rule: names sharing a first letter or a nickname stay above it.
TWINS_GIVEN_DICE = 0.3
SAME_LOCAL_ID_DICE = 0.75
# Filters the contradiction rules read in SQL.
CONTRADICTION_FILTERS = ("bf_given_name", "bf_local_person_id")
# A shared identifier means one person, whatever the names say.
IDENTIFIER_TOKENS = ("nhs_number", "ni_number", "ssn", "local_person_id")


def _dice_sql(column: str) -> str:
    a, b = f"{column}_l::BIT", f"{column}_r::BIT"
    return f"(2.0 * bit_count({a} & {b}) / nullif(bit_count({a}) + bit_count({b}), 0))"


def tf_adjustment(
    records: EncodedRecords,
    model: FellegiSunter,
    gamma: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """Term-frequency adjustment of exact agreement, as Splink does it: at the top level
    the level's average u is replaced by the frequency of the value the two records
    share (the larger of the two sides' frequencies, for robustness)."""
    adjust = np.zeros(left.size)
    for k, c in enumerate(model.comparisons):
        if c.tf_token is None or c.tf_token not in records.tokens:
            continue
        top = c.levels - 1
        at_top = gamma[:, k] == top
        if not at_top.any():
            continue
        freq = records.frequency(c.tf_token)
        shared = np.maximum(freq[left[at_top]], freq[right[at_top]])
        adjust[at_top] = np.log2(model.u[k][top] / np.clip(shared, 1e-9, 1.0))
    return adjust


def _top_weight(model: FellegiSunter, name: str) -> float | None:
    for k, c in enumerate(model.comparisons):
        if c.name == name:
            return float(np.log2(model.m[k][-1] / model.u[k][-1]))
    return None


def household_weight(model: FellegiSunter) -> float | None:
    """The weight of the household signature (given names at level 'different', family
    name and postcode agreeing exactly): it cancels what the shared family name and
    postcode add, as the plain engine's household level does
    (:mod:`sectorlink.linkage.household`). None without those comparisons."""
    family, postcode = _top_weight(model, "family_name"), _top_weight(model, "postcode")
    if family is None or postcode is None or not model.iterations:
        return None
    if "given_name" not in {c.name for c in model.comparisons}:
        return None
    return -(max(0.0, family) + max(0.0, postcode))


def household_adjustment(model: FellegiSunter, gamma: np.ndarray, weight: float) -> np.ndarray:
    """``weight`` for the pairs showing the household signature, 0 for the others."""
    index = {c.name: k for k, c in enumerate(model.comparisons)}
    given, family, postcode = (index[n] for n in ("given_name", "family_name", "postcode"))
    top_family = model.comparisons[family].levels - 1
    top_postcode = model.comparisons[postcode].levels - 1
    signature = (
        (gamma[:, given] == 0)
        & (gamma[:, family] == top_family)
        & (gamma[:, postcode] == top_postcode)
    )
    return np.where(signature, weight, 0.0)


def _contradiction_rules(tokens: set[str], filters: set[str]) -> tuple[str, Any]:
    """Contradictions on keyed tokens and filters: two different NHS numbers; the same
    birth date with clearly different given names and no shared identifier (twins)."""
    columns = [
        f"tok_{t}"
        for t in (
            *IDENTIFIER_TOKENS,
            "birth_date",
            "given_canonical",
            "given_soundex",
            "given_name",
            "given_initial",
            "family_name",
            "middle_first",
        )
        if t in tokens
    ]
    columns += [c for c in CONTRADICTION_FILTERS if c[3:] in filters]
    cases: list[str] = []
    if "nhs_number" in tokens:
        cases.append("WHEN tok_nhs_number_l <> tok_nhs_number_r THEN 'nhs_number'")
    if {"birth_date", "given_canonical", "given_soundex"} <= tokens and "given_name" in filters:
        same = [f"coalesce(tok_{t}_l = tok_{t}_r, false)" for t in IDENTIFIER_TOKENS if t in tokens]
        if "local_person_id" in filters:
            # a source's own identifier with a keystroke or two wrong still says one person
            same.append(
                f"coalesce({_dice_sql('bf_local_person_id')} >= {SAME_LOCAL_ID_DICE}, false)"
            )
        same_nhs = "(" + " OR ".join(same) + ")" if same else "false"
        # a given name found in the other record's middle or family name explains the
        # difference (a middle name used as the first, or swapped names): not twins
        crossed = [
            f"coalesce(tok_{g}_l = tok_{o}_r OR tok_{o}_l = tok_{g}_r, false)"
            for g in ("given_canonical", "given_name")
            for o in ("middle_first", "family_name")
            if g in tokens and o in tokens
        ]
        if "given_initial" in tokens:
            # names sharing their first letter are never "clearly different" (an initial,
            # an abbreviation, a typo after the first letter)
            crossed.append("coalesce(tok_given_initial_l = tok_given_initial_r, false)")
        explained = " OR ".join(crossed) or "false"
        cases.append(
            f"""WHEN tok_birth_date_l = tok_birth_date_r
                AND tok_given_canonical_l <> tok_given_canonical_r
                AND tok_given_soundex_l <> tok_given_soundex_r
                AND {_dice_sql("bf_given_name")} < {TWINS_GIVEN_DICE}
                AND NOT ({explained})
                AND NOT {same_nhs} THEN 'twins'"""
        )
        # the same test without the birth date: clearly different first names and no
        # shared identifier keep two records out of one cluster unless strong links
        # bridge them (see `linkage.clustering.BRIDGE_WEIGHT`)
        cases.append(
            f"""WHEN tok_given_canonical_l <> tok_given_canonical_r
                AND tok_given_soundex_l <> tok_given_soundex_r
                AND {_dice_sql("bf_given_name")} < {TWINS_GIVEN_DICE}
                AND NOT ({explained})
                AND NOT {same_nhs} THEN 'given_name'"""
        )
    rule = "CASE " + " ".join(cases) + " END" if cases else "CAST(NULL AS VARCHAR)"

    def projection(left: str, right: str) -> str:
        if not columns:
            return f"{left}.unique_id AS unique_id_l, {right}.unique_id AS unique_id_r"
        return ", ".join(f"{left}.{c} AS {c}_l, {right}.{c} AS {c}_r" for c in columns)

    return rule, projection


def link_encoded(
    warehouse: Path | str | duckdb.DuckDBPyConnection,
    *,
    out_dir: Path | str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 42,
    truth: Path | str | None = None,
    allow_default_model: bool = False,
) -> LinkResult:
    """Link every encoded record in the warehouse and publish a new person index.

    Args:
        warehouse: the DuckDB warehouse file, or an open connection to it, holding
            encodings loaded with :func:`sectorlink.pprl.load.load_encoded`.
        out_dir: when given, write the person index (CSV and Parquet), the model (JSON)
            and an HTML report there.
        threshold: match probability at or above which two records are linked.
        seed: seed for u sampling, so a re-run on the same data gives the same model.
        truth: a truth CSV (source, record_id, person_id) to evaluate in the report.
        allow_default_model: link with the untrained starting model when EM cannot run
            (too few candidate pairs); otherwise such a run raises LinkageError.

    Example:
        >>> result = link_encoded("hub.duckdb", out_dir="linkage-output")  # doctest: +SKIP
    """
    if not 0 < threshold < 1:
        raise ValueError("threshold must be a probability between 0 and 1")
    own = not isinstance(warehouse, duckdb.DuckDBPyConnection)
    con = warehouse if isinstance(warehouse, duckdb.DuckDBPyConnection) else connect(warehouse)
    # DuckDB's default limit is most of the machine; the filters and pair arrays live in
    # this process beside it, so the SQL steps (blocking) spill to disk past a bound.
    memory = scalar(con, "SELECT current_setting('memory_limit')")
    con.execute(f"SET memory_limit = '{WAREHOUSE_MEMORY}'")
    try:
        return _link(
            con,
            threshold=threshold,
            seed=seed,
            out_dir=out_dir,
            truth=truth,
            allow_default_model=allow_default_model,
        )
    finally:
        con.execute(f"DROP TABLE IF EXISTS {RECORDS}")
        con.execute(f"SET memory_limit = '{memory}'")
        if own:
            con.close()


def _link(
    con: duckdb.DuckDBPyConnection,
    *,
    threshold: float,
    seed: int,
    out_dir: Path | str | None,
    truth: Path | str | None,
    allow_default_model: bool,
) -> LinkResult:
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    timer = _Timer()
    if not table_exists(con, ENCODED_TABLE) or not scalar(
        con, f"SELECT count(*) FROM {ENCODED_TABLE}"
    ):
        raise LinkageError(
            "the warehouse holds no encoded records: load partners' encodings first "
            "(sectorlink load-encoded FILE...)"
        )
    ensure_tables(con)
    drop_staging(con)
    messages: list[str] = []
    with timer("load"):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {RECORDS} AS
                SELECT row_number() OVER (ORDER BY source, record_id) - 1 AS unique_id,
                       {_record_columns(con)}
                FROM {ENCODED_TABLE}"""
        )
        records = EncodedRecords(con)
        sources = dict(
            con.execute(
                f"SELECT source, count(*) FROM {RECORDS} GROUP BY source ORDER BY source"
            ).fetchall()
        )
    comparisons = usable(set(records.filters), records.tokens)
    if not comparisons:
        raise LinkageError("the encodings hold no identifier the hub can compare")
    if len(sources) == 1:
        messages.append(f"one source only ({next(iter(sources))}): deduplicating it")
    with timer("block"):
        left, right, blocking = candidate_pairs(con, RECORDS, records.tokens)
        for rule, n in blocking.oversized_blocks.items():
            messages.append(f"{n:,} block(s) of more than the maximum size left out of rule {rule}")
    with timer("train"):
        n_random = int(min(max(records.n * U_PAIRS_PER_RECORD, U_MIN_PAIRS), U_MAX_PAIRS))
        rl, rr = random_pairs(records.n, n_random, seed)
        random_gamma = comparison_levels(records, comparisons, rl, rr)
        gamma = comparison_levels(records, comparisons, left, right)
        total_pairs = records.n * (records.n - 1) / 2
        same_date = (
            records.same("birth_date", left, right) if "birth_date" in records.tokens else None
        )
        anchored = np.zeros(left.size, dtype=bool)
        for token in ANCHOR_TOKENS:
            if token in records.tokens:
                anchored |= records.same(token, left, right) == 1
        model = train(
            gamma,
            random_gamma,
            comparisons,
            total_pairs=total_pairs,
            same_birth_date=same_date,
            anchored=anchored,
        )
        training = TrainingReport(
            mode="trained" if model.iterations else "defaults",
            prior=model.prior,
            u_pairs=n_random,
            em_rules=blocking.rules,
            messages=model.messages,
            reason="" if model.iterations else "; ".join(model.messages),
            fixed=model.fixed,
        )
        require_trained(training, allow_default_model)
        household = household_weight(model)
        training.household_weight = household
        summary = training.summary()
        messages.insert(0, summary)
        messages.extend(model.messages)
        if household is not None:
            messages.append(
                "household level (different given names, same family name and postcode): "
                f"weight {household:.2f}, so the shared family name and postcode count for "
                "nothing"
            )
    with timer("predict"):
        weight = model.match_weight(gamma)
        weight += tf_adjustment(records, model, gamma, left, right)
        if household is not None:
            weight += household_adjustment(model, gamma, household)
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
        con.execute("CREATE OR REPLACE TEMP TABLE sl_pairs AS SELECT * FROM sl_pairs_arrow")
        con.unregister("sl_pairs_arrow")
    rules = _contradiction_rules(records.tokens, set(records.filters))
    with timer("cluster"):
        clustering = coherent_clusters(
            con,
            std=RECORDS,
            edges="sl_pairs",
            fields=(),
            threshold_weight=probability_to_weight(threshold),
            out="sl_clusters",
            check=True,
            rules=rules,
        )
    with timer("keys"):
        create_staging(con)
        key_events = key_clusters(con, RECORDS, run_id)
        stage_pairs(con, run_id, RECORDS, rules)
    persons, links = staged_counts(con)
    result = LinkResult(
        run_id=run_id,
        engine=ENGINE,
        records=records.n,
        sources={str(k): int(v) for k, v in sources.items()},
        persons=persons,
        pairs_kept=int(keep.sum()),
        links=links,
        threshold_probability=threshold,
        training=training,
        clustering=clustering,
        key_events=key_events,
        timings=timer.timings,
        messages=messages,
        model_summary=summary,
    )
    stage_run(
        con,
        result,
        started,
        blocking=asdict(blocking),
        model=model.as_json(),
        version="n/a (bloom engine)",
    )
    with timer("publish"):
        publish(con)
    if out_dir is not None:
        from sectorlink.pprl.report import write_outputs

        with timer("outputs"):
            result.outputs = write_outputs(
                con, Path(out_dir), result=result, model=model, truth=truth
            )
    return result
