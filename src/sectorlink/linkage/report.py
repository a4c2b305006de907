"""The HTML linkage report: one self-contained file that works offline.

Splink's own charts (match weights, m and u, waterfall examples, unlinkables, the match
weight histogram) beside sectorlink's: cluster sizes, link rates per source, identifier
quality, blocking, coherence splits, key changes, and precision/recall against truth.
Charts are Vega-Lite specs rendered by the Vega libraries Splink ships, inlined.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from importlib import resources
from typing import TYPE_CHECKING, Any

import duckdb
import jinja2
from markupsafe import Markup
from splink import Linker
from splink.internals.charts import SplinkChart
from splink.internals.html_utils import json_for_html, load_chart_libraries
from splink.internals.splink_dataframe import SplinkDataFrame

from sectorlink.linkage.evaluate import Evaluation
from sectorlink.linkage.model import ModelPlan
from sectorlink.linkage.sqlutil import rows
from sectorlink.linkage.store import IDENTIFIER_QUALITY, LINKAGE_PAIRS, PERSON_INDEX

if TYPE_CHECKING:
    from sectorlink.linkage.result import LinkResult

logger = logging.getLogger(__name__)

WATERFALL_EXAMPLES = 4


def _bar_chart(values: list[dict[str, Any]], x: str, y: str, title: str) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "data": {"values": values},
        "mark": "bar",
        "encoding": {
            "x": {"field": x, "type": "ordinal", "sort": None},
            "y": {"field": y, "type": "quantitative"},
            "tooltip": [{"field": x}, {"field": y}],
        },
        "width": 500,
        "height": 220,
    }


def _splink_charts(
    linker: Linker,
    predictions: SplinkDataFrame,
    examples: tuple[Linker, list[dict[str, Any]]] | None,
) -> dict[str, Any]:
    """Splink's charts as Vega-Lite specs; a chart that fails is left out (logged)."""
    charts: dict[str, Any] = {}
    makers: dict[str, Callable[[], Any]] = {
        "Match weights of each comparison level": linker.visualisations.match_weights_chart,
        "m and u probabilities": linker.visualisations.m_u_parameters_chart,
        "Match weights of the scored pairs": lambda: linker.visualisations.match_weights_histogram(
            predictions
        ),
        "Unlinkable records": linker.evaluation.unlinkables_chart,
    }
    if examples is not None and examples[1]:
        verbose, records = examples
        makers["Waterfall: how example pairs were scored"] = lambda: (
            verbose.visualisations.waterfall_chart(records, filter_nulls=True)
        )
    for title, make in makers.items():
        try:
            chart: SplinkChart[Any] = make()
            charts[title] = chart.chart_dict
        except Exception as exc:  # a chart is a nicety; the report must still be written
            logger.warning("chart %r not drawn: %s", title, exc)
    return charts


def waterfall_examples(
    con: duckdb.DuckDBPyConnection, verbose: Linker, std_table: str
) -> list[dict[str, Any]]:
    """Score a few telling pairs again with every intermediate column kept: the
    strongest link, one just over the threshold, the strongest pairs kept apart.
    ``verbose`` is a linker whose settings retain matching and intermediate columns."""
    picks = con.execute(
        """(SELECT unique_id_l, unique_id_r FROM sl_pairs ORDER BY match_weight DESC LIMIT 1)
           UNION ALL
           (SELECT unique_id_l, unique_id_r FROM sl_pairs WHERE match_probability >= 0.5
            ORDER BY match_weight ASC LIMIT 1)
           UNION ALL
           (SELECT unique_id_l, unique_id_r FROM sl_pairs WHERE match_probability < 0.5
            ORDER BY match_weight DESC LIMIT 2)"""
    ).fetchall()
    records: list[dict[str, Any]] = []
    for left, right in picks[:WATERFALL_EXAMPLES]:
        pair = rows(
            con,
            f"SELECT * FROM {std_table} WHERE unique_id IN ({int(left)}, {int(right)}) "
            "ORDER BY unique_id",
        )
        if len(pair) == 2:
            scored = verbose.inference.score_pair(_model_record(pair[0]), _model_record(pair[1]))
            records.extend(scored.as_record_list())
    return records


def _model_record(row: dict[str, Any]) -> dict[str, Any]:
    from sectorlink.linkage.model import MODEL_COLUMNS

    return {k: row[k] for k in MODEL_COLUMNS}


def render_report(
    con: duckdb.DuckDBPyConnection,
    *,
    result: LinkResult,
    plan: ModelPlan,
    linker: Linker,
    predictions: SplinkDataFrame,
    examples: tuple[Linker, list[dict[str, Any]]] | None,
    evaluation: Evaluation | None,
) -> str:
    """The report as one HTML string (reads the published linkage tables)."""
    sizes = rows(
        con,
        f"""SELECT cluster_size AS "records per person", count(DISTINCT person_key) AS persons
            FROM {PERSON_INDEX} GROUP BY 1 ORDER BY 1""",
    )
    per_source = rows(
        con,
        f"""WITH k AS (SELECT person_key, count(*) AS n, count(DISTINCT source) AS s
                       FROM {PERSON_INDEX} GROUP BY person_key)
            SELECT p.source, count(*) AS records, count(DISTINCT p.person_key) AS persons,
                   round(100.0 * avg(CASE WHEN k.n > 1 THEN 1 ELSE 0 END), 1)
                       AS "linked to another record %",
                   round(100.0 * avg(CASE WHEN k.s > 1 THEN 1 ELSE 0 END), 1)
                       AS "linked to another source %"
            FROM {PERSON_INDEX} p JOIN k USING (person_key) GROUP BY p.source ORDER BY p.source""",
    )
    quality = rows(
        con,
        f"""SELECT source, identifier, records, invalid_nulled FROM {IDENTIFIER_QUALITY}
            WHERE invalid_nulled > 0 ORDER BY source, identifier""",
    )
    contradictions = rows(
        con,
        f"""SELECT contradiction, count(*) AS pairs,
                   count(*) FILTER (WHERE linked) AS "still in one cluster"
            FROM {LINKAGE_PAIRS} WHERE contradiction IS NOT NULL GROUP BY 1 ORDER BY 2 DESC""",
    )
    charts = {
        "Records per person (cluster sizes)": _bar_chart(
            sizes, "records per person", "persons", "Records per person"
        ),
        "Records linked to another source, per source": _bar_chart(
            per_source, "source", "linked to another source %", "Linked to another source (%)"
        ),
        **_splink_charts(linker, predictions, examples),
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("sectorlink.linkage") / "templates")),
        autoescape=True,
    )
    env.filters["tojson_html"] = _json_markup
    template = env.get_template("report.html.j2")
    return template.render(
        result=result,
        training=asdict(result.training),
        clustering=asdict(result.clustering),
        blocking=plan.blocking,
        comparisons=[c.description for c in plan.comparisons],
        sizes=sizes,
        per_source=per_source,
        quality=quality,
        contradictions=contradictions,
        charts=charts,
        libraries=load_chart_libraries(),  # type: ignore[no-untyped-call]
        evaluation=asdict(evaluation) if evaluation else None,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _json_markup(value: Any) -> Markup:
    """JSON safe inside a <script> element (no HTML delimiters)."""
    return Markup(json_for_html(value, cls=_Encoder))  # type: ignore[no-untyped-call]


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, (dt.date, dt.datetime)):
            return o.isoformat()
        try:
            return float(o)
        except (TypeError, ValueError):
            return str(o)
