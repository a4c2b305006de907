"""What a run writes to its output folder: person index (CSV, Parquet), model, report."""

from __future__ import annotations

import copy
import json
import logging
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from splink import Linker
from splink.internals.splink_dataframe import SplinkDataFrame

from sectorlink.linkage.evaluate import evaluate
from sectorlink.linkage.model import ModelPlan
from sectorlink.linkage.sqlutil import quote_literal
from sectorlink.linkage.store import PERSON_INDEX

if TYPE_CHECKING:
    from sectorlink.linkage.result import LinkResult

logger = logging.getLogger(__name__)

INDEX_COLUMNS = "source, record_id, person_key"


def export_person_index(con: duckdb.DuckDBPyConnection, out_dir: Path | str) -> dict[str, Path]:
    """Write the published person index as CSV and Parquet (source, record_id, person_key)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "person_index_csv": out / "person_index.csv",
        "person_index_parquet": out / "person_index.parquet",
    }
    query = f"SELECT {INDEX_COLUMNS} FROM {PERSON_INDEX} ORDER BY source, record_id"
    con.execute(f"COPY ({query}) TO {quote_literal(str(paths['person_index_csv']))} (HEADER)")
    con.execute(
        f"COPY ({query}) TO {quote_literal(str(paths['person_index_parquet']))} (FORMAT parquet)"
    )
    return paths


# Whether the report may show example pairs with clear identifiers (names, birth dates,
# postcodes): only when the caller says its reader may read identifiers. `link` sets it
# for the outputs it writes; by default the report holds counts and weights only.
IDENTIFIER_EXAMPLES: ContextVar[bool] = ContextVar("identifier_examples", default=False)


def write_outputs(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    result: LinkResult,
    model: dict[str, Any],
    frame: SplinkDataFrame,
    linker: Linker,
    predictions: SplinkDataFrame,
    plan: ModelPlan,
    std_table: str,
    truth: Path | str | None,
) -> dict[str, Path]:
    from sectorlink.linkage.report import render_report, waterfall_examples

    paths = export_person_index(con, out_dir)
    paths["model"] = out_dir / "model.json"
    paths["model"].write_text(json.dumps(model, indent=2, default=str))
    evaluation = evaluate(con, truth) if truth is not None else None
    show = IDENTIFIER_EXAMPLES.get()
    if evaluation is not None and not show:
        for error in evaluation.errors:
            error.examples = []
    verbose = copy.deepcopy(model)
    verbose["retain_matching_columns"] = True
    verbose["retain_intermediate_calculation_columns"] = True
    examples: tuple[Linker, list[dict[str, Any]]] | None = None
    try:
        if show:
            verbose_linker = Linker(frame, verbose, log_level=logging.ERROR)
            examples = (verbose_linker, waterfall_examples(con, verbose_linker, std_table))
    except Exception as exc:  # examples are illustrations; never fail the run for them
        logger.warning("waterfall examples not drawn: %s", exc)
    html = render_report(
        con,
        result=result,
        plan=plan,
        linker=linker,
        predictions=predictions,
        examples=examples,
        evaluation=evaluation,
    )
    paths["report"] = out_dir / "linkage_report.html"
    paths["report"].write_text(html)
    return paths
