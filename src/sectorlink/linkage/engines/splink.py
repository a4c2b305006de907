"""The plain engines, ``duckdb`` and ``spark``: Splink on records standardised in the clear.

Standardise every person record, profile the fields, plan comparisons and blocking, train
and check the model (:mod:`sectorlink.linkage.training`), score the blocked pairs with the
twins and birth-gap levels neutral, then learn those levels from pairs they cannot fool
(:mod:`sectorlink.linkage.learned`). Only training and scoring run on the Splink backend
(:mod:`sectorlink.linkage.engines.backends`: its own DuckDB or a Spark session); the
records and pairs stay in DuckDB beside the warehouse.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import splink
from splink import Linker

from sectorlink.identity import identifier_quality, standardise
from sectorlink.linkage.contradictions import KINDS, contradiction_sql, full_projection
from sectorlink.linkage.engine import PAIRS, Scored
from sectorlink.linkage.engines.backends import SplinkBackend, make_backend
from sectorlink.linkage.fields import FieldProfile, check_linkable, profile_fields
from sectorlink.linkage.learned import learn_contradictions, learnable_positions, neutral_model
from sectorlink.linkage.model import MODEL_COLUMNS, plan_model, settings_dict
from sectorlink.linkage.result import PAIR_FLOOR
from sectorlink.linkage.store import IDENTIFIER_QUALITY, staging
from sectorlink.linkage.training import train

if TYPE_CHECKING:
    from sectorlink.linkage.result import LinkResult, Timer

STD_TABLE = "sl_std"


def linkage_input_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The SELECT of every record's standardised identifiers as the model reads them:
    :func:`sectorlink.identity.standardise` plus the source's own person identifier
    (upper case, letters and digits only). Open the saved model in Splink on this."""
    return f"""SELECT s.*, nullif(regexp_replace(upper(trim(r.local_person_id)),
                                                 '[^0-9A-Z]', '', 'g'), '') AS local_person_id
               FROM ({standardise(con).sql_query()}) s
               JOIN person_record r USING (source, record_id)"""


def profile_messages(profile: FieldProfile) -> list[str]:
    messages: list[str] = []
    if len(profile.sources) == 1:
        messages.append(f"one source only ({next(iter(profile.sources))}): deduplicating it")
    empty = [f for f in profile.all_null if not f.endswith("_swapped")]
    if empty:
        messages.append("no values in: " + ", ".join(empty) + " (left out of the model)")
    return messages


def stage_quality(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Identifiers nulled as invalid, per source, into the staged quality table."""
    quality = identifier_quality(con, STD_TABLE)
    con.register("sl_quality", quality.to_arrow_table())
    con.execute(f"INSERT INTO {staging(IDENTIFIER_QUALITY)} SELECT '{run_id}', * FROM sl_quality")
    con.unregister("sl_quality")


class SplinkEngine:
    """``duckdb`` or ``spark``: a :class:`~sectorlink.linkage.engine.LinkageEngine`."""

    def __init__(self, backend: str = "duckdb", *, spark: Any = None, strict: bool = True) -> None:
        self.backend: SplinkBackend = make_backend(backend, spark)
        self.name: str = self.backend.name
        self.strict = strict

    def score(self, con: duckdb.DuckDBPyConnection, timer: Timer, *, seed: int) -> Scored:
        with timer("standardise"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {STD_TABLE} AS {linkage_input_sql(con)}")
            profile = profile_fields(con, STD_TABLE)
        check_linkable(profile)
        messages = profile_messages(profile)
        eng = self.backend
        with timer("plan"):
            plan = plan_model(
                con, STD_TABLE, profile, eng.dialect, strict_contradictions=self.strict
            )
            frame = eng.register(
                con.sql(f"SELECT {', '.join(MODEL_COLUMNS)} FROM {STD_TABLE}").to_arrow_table()
            )
        with timer("train"):
            trainer = Linker(frame, settings_dict(plan), log_level=logging.ERROR)
            model, training = train(
                trainer, plan, profile.records, seed=seed, u_chunks=eng.u_sampling_chunks
            )
        messages.extend(training.messages)
        # Twins and birth-gap levels are scored neutral and learned from the scored pairs
        # (see `learned`), except on the untrained default model of a handful of records.
        positions = learnable_positions(plan) if self.strict and training.mode == "trained" else {}
        with timer("predict"):
            linker = Linker(frame, neutral_model(model, positions), log_level=logging.ERROR)
            predictions = linker.inference.predict(
                threshold_match_probability=PAIR_FLOOR, warning_mode="never"
            )
            pairs = eng.to_arrow(predictions)
            con.register(
                "sl_pairs_arrow",
                pairs.select(["unique_id_l", "unique_id_r", "match_weight", "match_probability"]),
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE {PAIRS} AS SELECT * FROM sl_pairs_arrow")
            con.unregister("sl_pairs_arrow")
        with timer("learn"):
            model, learned = learn_contradictions(
                con,
                std=STD_TABLE,
                pairs=PAIRS,
                fields=plan.fields,
                model=model,
                positions=positions,
                floor=PAIR_FLOOR,
            )
        messages.extend(c.message() for c in learned)
        relaxed = {c.kind for c in learned if not c.strict}
        if "household" in relaxed:
            # clearly different first names are common among this data's matches
            relaxed.add("given_name")
        strict_kinds = set(KINDS) - relaxed
        rule = (
            contradiction_sql(plan.fields, kinds=strict_kinds, local_id=True)
            if self.strict and strict_kinds
            else "CAST(NULL AS VARCHAR)"
        )

        def write_outputs(
            con: duckdb.DuckDBPyConnection,
            out_dir: Path,
            result: LinkResult,
            truth: Path | str | None,
        ) -> dict[str, Path]:
            from sectorlink.linkage.outputs import write_outputs as write

            return write(
                con,
                out_dir,
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

        return Scored(
            records=STD_TABLE,
            n_records=profile.records,
            sources=profile.sources,
            training=training,
            model=model,
            blocking=[asdict(b) for b in plan.blocking],
            version=splink.__version__,
            rules=(rule, full_projection),
            check=self.strict,
            fields=plan.fields,
            messages=messages,
            contradictions=learned,
            stage_extra=stage_quality,
            write_outputs=write_outputs,
        )

    def cleanup(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"DROP TABLE IF EXISTS {STD_TABLE}")

    def close(self) -> None:
        self.backend.close()
