"""``link()``: the one run every engine goes through.

The engine (:mod:`sectorlink.linkage.engines`: ``duckdb``, ``spark`` or ``bloom``) reads
its input, trains and checks its model and scores pairs; the run does everything else,
in this order and the same way whichever engine scored: the run id and timer, the
warehouse's memory bound, a model that could not be trained stopped (unless asked for),
coherent clusters, stable keys, staged pairs, the run row, publishing in one
transaction, and the output folder.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import duckdb

from sectorlink.linkage.clustering import coherent_clusters
from sectorlink.linkage.engine import PAIRS, LinkageEngine
from sectorlink.linkage.engines import WAREHOUSE_MEMORY, make_engine
from sectorlink.linkage.engines.splink import linkage_input_sql
from sectorlink.linkage.errors import LinkageError
from sectorlink.linkage.outputs import IDENTIFIER_EXAMPLES
from sectorlink.linkage.result import (
    DEFAULT_THRESHOLD,
    LinkResult,
    Timer,
    probability_to_weight,
)
from sectorlink.linkage.sqlutil import scalar
from sectorlink.linkage.staging import key_clusters, stage_pairs, stage_run, staged_counts
from sectorlink.linkage.store import create_staging, drop_staging, ensure_tables, publish
from sectorlink.linkage.training import TrainingReport
from sectorlink.warehouse.store import connect

__all__ = ["DEFAULT_THRESHOLD", "LinkResult", "link", "linkage_input_sql", "require_trained"]


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
    identifier_examples: bool = False,
) -> LinkResult:
    """Link every person record in the warehouse and publish a new person index.

    Args:
        warehouse: the DuckDB warehouse file, or an open connection to it.
        engine: ``duckdb`` (default) or ``spark``: Splink on the person records in the
            clear; ``bloom``: the encodings loaded with
            :func:`sectorlink.pprl.load.load_encoded` (privacy-preserving).
        out_dir: when given, write the person index (CSV and Parquet), the model (JSON)
            and the HTML report there.
        threshold: match probability at or above which two records are linked.
        strict_contradictions: apply strong contradictions (see docs/linkage.md); the
            bloom engine always does.
        seed: seed for u sampling, so a re-run on the same data gives the same model.
        spark: an existing Spark session for ``engine="spark"`` (a cluster).
        truth: a truth CSV (source, record_id, person_id) to evaluate in the report.
        allow_default_model: link with the documented default m and u probabilities
            when the model cannot be trained (too few records, EM failed); without it
            such a run raises :class:`LinkageError` and publishes nothing.
        identifier_examples: let the HTML report show example pairs with their clear
            names, birth dates and postcodes (its readers must be allowed to read
            identifiers); by default it holds counts and weights only.

    Example:
        >>> result = link("hub.duckdb", out_dir="linkage-output")  # doctest: +SKIP
        >>> result.persons, result.outputs["person_index_csv"]  # doctest: +SKIP
        >>> link("hub.duckdb", engine="bloom")  # doctest: +SKIP
    """
    if not 0 < threshold < 1:
        raise ValueError("threshold must be a probability between 0 and 1")
    eng = make_engine(engine, spark=spark, strict=strict_contradictions)
    own = not isinstance(warehouse, duckdb.DuckDBPyConnection)
    con = warehouse if isinstance(warehouse, duckdb.DuckDBPyConnection) else connect(warehouse)
    memory = scalar(con, "SELECT current_setting('memory_limit')")
    # DuckDB's default limit is most of the machine; the engine's own work (Splink's
    # DuckDB, the bloom engine's arrays) lives beside it, so the warehouse spills past this.
    con.execute(f"SET memory_limit = '{WAREHOUSE_MEMORY}'")
    try:
        return _run(
            con,
            eng,
            threshold=threshold,
            seed=seed,
            out_dir=out_dir,
            truth=truth,
            allow_default_model=allow_default_model,
            identifier_examples=identifier_examples,
        )
    finally:
        eng.close()
        eng.cleanup(con)
        con.execute(f"SET memory_limit = '{memory}'")
        if own:
            con.close()


def require_trained(training: TrainingReport, allow_default_model: bool) -> None:
    """Stop a run whose model could not be trained, unless defaults were asked for."""
    if training.mode == "defaults" and not allow_default_model:
        raise LinkageError(
            f"the linkage model could not be trained: {training.reason}. Nothing was "
            "published. To link with the documented default m and u probabilities "
            "anyway, pass allow_default_model=True (sectorlink link --allow-default-model)"
        )


def _run(
    con: duckdb.DuckDBPyConnection,
    eng: LinkageEngine,
    *,
    threshold: float,
    seed: int,
    out_dir: Path | str | None,
    truth: Path | str | None,
    allow_default_model: bool,
    identifier_examples: bool = False,
) -> LinkResult:
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    timer = Timer()
    ensure_tables(con)
    drop_staging(con)
    scored = eng.score(con, timer, seed=seed)
    require_trained(scored.training, allow_default_model)
    summary = scored.training.summary()
    messages = [summary, *scored.messages]
    with timer("cluster"):
        clustering = coherent_clusters(
            con,
            std=scored.records,
            edges=PAIRS,
            fields=scored.fields,
            threshold_weight=probability_to_weight(threshold),
            out="sl_clusters",
            check=scored.check,
            rules=scored.rules,
        )
    with timer("keys"):
        create_staging(con)
        key_events = key_clusters(con, scored.records, run_id)
        stage_pairs(con, run_id, scored.records, scored.rules)
        if scored.stage_extra is not None:
            scored.stage_extra(con, run_id)
    persons, links = staged_counts(con)
    result = LinkResult(
        run_id=run_id,
        engine=eng.name,
        records=scored.n_records,
        sources=scored.sources,
        persons=persons,
        pairs_kept=int(scalar(con, f"SELECT count(*) FROM {PAIRS}") or 0),
        links=links,
        threshold_probability=threshold,
        training=scored.training,
        clustering=clustering,
        key_events=key_events,
        timings=timer.timings,
        messages=messages,
        contradictions=scored.contradictions,
        model_summary=summary,
    )
    stage_run(
        con, result, started, blocking=scored.blocking, model=scored.model, version=scored.version
    )
    with timer("publish"):
        publish(con)
    if out_dir is not None and scored.write_outputs is not None:
        with timer("outputs"):
            token = IDENTIFIER_EXAMPLES.set(identifier_examples)
            try:
                result.outputs = scored.write_outputs(con, Path(out_dir), result, truth)
            finally:
                IDENTIFIER_EXAMPLES.reset(token)
    return result
