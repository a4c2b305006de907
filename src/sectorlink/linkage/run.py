"""``link()``: standardise, train, score, cluster, key and publish, in that order."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import splink
from splink import Linker

from sectorlink.identity import identifier_quality, standardise
from sectorlink.linkage.clustering import ClusterReport, coherent_clusters
from sectorlink.linkage.contradictions import KINDS, contradiction_sql, full_projection
from sectorlink.linkage.engines import WAREHOUSE_MEMORY, Engine, make_engine
from sectorlink.linkage.errors import LinkageError
from sectorlink.linkage.fields import FieldProfile, check_linkable, profile_fields
from sectorlink.linkage.learned import (
    LearnedContradiction,
    learn_contradictions,
    learnable_positions,
    neutral_model,
)
from sectorlink.linkage.model import MODEL_COLUMNS, plan_model, settings_dict
from sectorlink.linkage.sqlutil import scalar
from sectorlink.linkage.staging import key_clusters, stage_pairs, stage_run, staged_counts
from sectorlink.linkage.store import (
    IDENTIFIER_QUALITY,
    create_staging,
    drop_staging,
    ensure_tables,
    publish,
    staging,
)
from sectorlink.linkage.training import TrainingReport, train
from sectorlink.warehouse.store import connect

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.9
# Pairs below this match probability are not kept (they are never links).
PAIR_FLOOR = 0.01
STD_TABLE = "sl_std"


@dataclass
class LinkResult:
    run_id: str
    engine: str
    records: int
    sources: dict[str, int]
    persons: int
    pairs_kept: int
    links: int
    threshold_probability: float
    training: TrainingReport
    clustering: ClusterReport
    key_events: dict[str, int]
    timings: dict[str, float]
    messages: list[str] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    # twins and birth-gap contradictions: learned share among matches and weight applied
    contradictions: list[LearnedContradiction] = field(default_factory=list)
    # one line saying which model scored the pairs (the first line of every report)
    model_summary: str = ""


@dataclass
class _Timer:
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = round(time.perf_counter() - start, 3)


def probability_to_weight(p: float) -> float:
    return math.log2(p / (1 - p))


def link(
    warehouse: Path | str | duckdb.DuckDBPyConnection,
    *,
    engine: str = "duckdb",
    out_dir: Path | str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    strict_contradictions: bool = True,
    seed: int = 42,
    spark: Any = None,
    truth: Path | str | None = None,
    allow_default_model: bool = False,
) -> LinkResult:
    """Link every person record in the warehouse and publish a new person index.

    Args:
        warehouse: the DuckDB warehouse file, or an open connection to it.
        engine: ``duckdb`` (default) or ``spark`` for training and scoring.
        out_dir: when given, write the person index (CSV and Parquet), the model (Splink
            JSON) and the HTML report there.
        threshold: match probability at or above which two records are linked.
        strict_contradictions: apply strong contradictions (see docs/linkage.md).
        seed: seed for u sampling, so a re-run on the same data gives the same model.
        spark: an existing Spark session for ``engine="spark"`` (a cluster).
        truth: a truth CSV (source, record_id, person_id) to evaluate in the report.
        allow_default_model: link with the documented default m and u probabilities
            when the model cannot be trained (too few records, EM failed); without it
            such a run raises :class:`LinkageError` and publishes nothing.

    Example:
        >>> result = link("hub.duckdb", out_dir="linkage-output")  # doctest: +SKIP
        >>> result.persons, result.outputs["person_index_csv"]  # doctest: +SKIP
    """
    if not 0 < threshold < 1:
        raise ValueError("threshold must be a probability between 0 and 1")
    own = not isinstance(warehouse, duckdb.DuckDBPyConnection)
    con = connect(warehouse) if not isinstance(warehouse, duckdb.DuckDBPyConnection) else warehouse
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    timer = _Timer()
    memory = scalar(con, "SELECT current_setting('memory_limit')")
    con.execute(f"SET memory_limit = '{WAREHOUSE_MEMORY}'")
    try:
        ensure_tables(con)
        drop_staging(con)
        with timer("standardise"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {STD_TABLE} AS {_std_sql(con)}")
            profile = profile_fields(con, STD_TABLE)
        check_linkable(profile)
        messages = _profile_messages(profile)
        eng = make_engine(engine, spark)
        try:
            result = _link_with(
                con,
                eng,
                profile,
                messages,
                timer,
                run_id=run_id,
                started=started,
                threshold=threshold,
                strict=strict_contradictions,
                seed=seed,
                out_dir=out_dir,
                truth=truth,
                allow_default_model=allow_default_model,
            )
        finally:
            eng.close()
        return result
    finally:
        con.execute(f"DROP TABLE IF EXISTS {STD_TABLE}")
        con.execute(f"SET memory_limit = '{memory}'")
        if own:
            con.close()


def linkage_input_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The SELECT of every record's standardised identifiers as the model reads them:
    :func:`sectorlink.identity.standardise` plus the source's own person identifier
    (upper case, letters and digits only). Open the saved model in Splink on this."""
    return f"""SELECT s.*, nullif(regexp_replace(upper(trim(r.local_person_id)),
                                                 '[^0-9A-Z]', '', 'g'), '') AS local_person_id
               FROM ({standardise(con).sql_query()}) s
               JOIN person_record r USING (source, record_id)"""


def _std_sql(con: duckdb.DuckDBPyConnection) -> str:
    return linkage_input_sql(con)


def _profile_messages(profile: FieldProfile) -> list[str]:
    messages: list[str] = []
    if len(profile.sources) == 1:
        messages.append(f"one source only ({next(iter(profile.sources))}): deduplicating it")
    empty = [f for f in profile.all_null if not f.endswith("_swapped")]
    if empty:
        messages.append("no values in: " + ", ".join(empty) + " (left out of the model)")
    return messages


def _link_with(
    con: duckdb.DuckDBPyConnection,
    eng: Engine,
    profile: FieldProfile,
    messages: list[str],
    timer: _Timer,
    *,
    run_id: str,
    started: dt.datetime,
    threshold: float,
    strict: bool,
    seed: int,
    out_dir: Path | str | None,
    truth: Path | str | None,
    allow_default_model: bool,
) -> LinkResult:
    with timer("plan"):
        plan = plan_model(con, STD_TABLE, profile, eng.dialect, strict_contradictions=strict)
        frame = eng.register(
            con.sql(f"SELECT {', '.join(MODEL_COLUMNS)} FROM {STD_TABLE}").to_arrow_table()
        )
    with timer("train"):
        trainer = Linker(frame, settings_dict(plan), log_level=logging.ERROR)
        model, training = train(
            trainer, plan, profile.records, seed=seed, u_chunks=eng.u_sampling_chunks
        )
        require_trained(training, allow_default_model)
        messages.insert(0, training.summary())
        messages.extend(training.messages)
    # Twins and birth-gap levels are scored neutral and learned from the scored pairs
    # (see `learned`), except on the untrained default model of a handful of records.
    positions = learnable_positions(plan) if strict and training.mode == "trained" else {}
    with timer("predict"):
        linker = Linker(frame, neutral_model(model, positions), log_level=logging.ERROR)
        predictions = linker.inference.predict(
            threshold_match_probability=PAIR_FLOOR, warning_mode="never"
        )
        pairs = eng.to_arrow(predictions)
    with timer("cluster"):
        con.register(
            "sl_pairs_arrow",
            pairs.select(["unique_id_l", "unique_id_r", "match_weight", "match_probability"]),
        )
        con.execute("CREATE OR REPLACE TEMP TABLE sl_pairs AS SELECT * FROM sl_pairs_arrow")
        con.unregister("sl_pairs_arrow")
        model, learned = learn_contradictions(
            con,
            std=STD_TABLE,
            pairs="sl_pairs",
            fields=plan.fields,
            model=model,
            positions=positions,
            floor=PAIR_FLOOR,
        )
        messages.extend(c.message() for c in learned)
        strict_kinds = set(KINDS) - {c.kind for c in learned if not c.strict}
        clustering = coherent_clusters(
            con,
            std=STD_TABLE,
            edges="sl_pairs",
            fields=plan.fields,
            threshold_weight=probability_to_weight(threshold),
            out="sl_clusters",
            check=strict,
            rules=(
                contradiction_sql(plan.fields, kinds=strict_kinds, local_id=True),
                full_projection,
            ),
        )
    with timer("keys"):
        create_staging(con)
        key_events = key_clusters(con, STD_TABLE, run_id)
        rule = (
            contradiction_sql(plan.fields, kinds=strict_kinds, local_id=True)
            if strict and strict_kinds
            else "CAST(NULL AS VARCHAR)"
        )
        stage_pairs(con, run_id, STD_TABLE, (rule, full_projection))
        _stage_quality(con, run_id)
    persons, links = staged_counts(con)
    result = LinkResult(
        run_id=run_id,
        engine=eng.name,
        records=profile.records,
        sources=profile.sources,
        persons=persons,
        pairs_kept=int(scalar(con, "SELECT count(*) FROM sl_pairs") or 0),
        links=links,
        threshold_probability=threshold,
        training=training,
        clustering=clustering,
        key_events=key_events,
        timings=timer.timings,
        messages=messages,
        contradictions=learned,
        model_summary=training.summary(),
    )
    stage_run(
        con,
        result,
        started,
        blocking=[asdict(b) for b in plan.blocking],
        model=model,
        version=splink.__version__,
    )
    with timer("publish"):
        publish(con)
    if out_dir is not None:
        from sectorlink.linkage.outputs import write_outputs

        with timer("outputs"):
            result.outputs = write_outputs(
                con,
                Path(out_dir),
                result=result,
                model=model,
                frame=frame,
                # the charts of m and u show the learned contradiction levels; the
                # scored pairs are those of the neutral model, before learning
                linker=Linker(frame, model, log_level=logging.ERROR) if positions else linker,
                predictions=predictions,
                plan=plan,
                std_table=STD_TABLE,
                truth=truth,
            )
    return result


def require_trained(training: TrainingReport, allow_default_model: bool) -> None:
    """Stop a run whose model could not be trained, unless defaults were asked for."""
    if training.mode == "defaults" and not allow_default_model:
        raise LinkageError(
            f"the linkage model could not be trained: {training.reason}. Nothing was "
            "published. To link with the documented default m and u probabilities "
            "anyway, pass allow_default_model=True (sectorlink link --allow-default-model)"
        )


def _stage_quality(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    quality = identifier_quality(con, STD_TABLE)
    con.register("sl_quality", quality.to_arrow_table())
    con.execute(f"INSERT INTO {staging(IDENTIFIER_QUALITY)} SELECT '{run_id}', * FROM sl_quality")
    con.unregister("sl_quality")
