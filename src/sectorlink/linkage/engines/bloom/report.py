"""What a bloom-engine run writes to its output folder: person index, model, report."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import jinja2

from sectorlink.linkage.engines.bloom.scoring import FellegiSunter
from sectorlink.linkage.evaluate import evaluate
from sectorlink.linkage.outputs import export_person_index
from sectorlink.linkage.sqlutil import rows
from sectorlink.linkage.store import LINKAGE_PAIRS, LINKAGE_RUN, PERSON_INDEX
from sectorlink.reports.charts import bar_chart_svg

if TYPE_CHECKING:
    from sectorlink.linkage.result import LinkResult

WEIGHT_BIN = 5


def render_report(
    con: duckdb.DuckDBPyConnection,
    *,
    result: LinkResult,
    model: FellegiSunter,
    evaluation: Any = None,
) -> str:
    """The report as one HTML string (reads the published linkage tables)."""
    sizes = rows(
        con,
        f"""SELECT cluster_size AS size, count(DISTINCT person_key) AS persons
            FROM {PERSON_INDEX} GROUP BY 1 ORDER BY 1 LIMIT 20""",
    )
    per_source = rows(
        con,
        f"""WITH k AS (SELECT person_key, count(DISTINCT source) AS s
                       FROM {PERSON_INDEX} GROUP BY person_key)
            SELECT p.source, count(*) AS records, count(DISTINCT p.person_key) AS persons,
                   round(100.0 * avg(CASE WHEN k.s > 1 THEN 1 ELSE 0 END), 1) AS cross
            FROM {PERSON_INDEX} p JOIN k USING (person_key) GROUP BY p.source ORDER BY 1""",
    )
    weights = rows(
        con,
        f"""SELECT {WEIGHT_BIN} * floor(match_weight / {WEIGHT_BIN}) AS bin, count(*) AS pairs
            FROM {LINKAGE_PAIRS} GROUP BY 1 ORDER BY 1""",
    )
    contradictions = rows(
        con,
        f"""SELECT contradiction, count(*) AS pairs, count(*) FILTER (WHERE linked) AS linked
            FROM {LINKAGE_PAIRS} WHERE contradiction IS NOT NULL GROUP BY 1 ORDER BY 2 DESC""",
    )
    blocking = json.loads(
        con.execute(
            f"SELECT blocking FROM {LINKAGE_RUN} WHERE run_id = ?", [result.run_id]
        ).fetchall()[0][0]
    )
    charts = {
        "sizes": bar_chart_svg(
            [str(r["size"]) for r in sizes],
            [float(r["persons"]) for r in sizes],
            title="People by number of records (cluster size)",
        ),
        "sources": bar_chart_svg(
            [str(r["source"]) for r in per_source],
            [float(r["cross"]) / 100 for r in per_source],
            title="Records linked to another source",
            percent=True,
            max_value=1.0,
        ),
        "weights": bar_chart_svg(
            [f"{r['bin']:+.0f} to {r['bin'] + WEIGHT_BIN:+.0f}" for r in weights],
            [float(r["pairs"]) for r in weights],
            title="Scored pairs by match weight",
        ),
    }
    model_json = model.as_json()
    for comparison in model_json["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["weight"] = math.log2(level["bayes_factor"])
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(
            str(resources.files("sectorlink.linkage.engines.bloom") / "templates")
        ),
        autoescape=True,
    )
    p = result.threshold_probability
    return env.get_template("bloom_report.html.j2").render(
        result=result,
        model=model_json,
        blocking=blocking,
        per_source=per_source,
        contradictions=contradictions,
        charts=charts,
        threshold_weight=math.log2(p / (1 - p)),
        evaluation=asdict(evaluation) if evaluation is not None else None,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_outputs(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    result: LinkResult,
    model: FellegiSunter,
    truth: Path | str | None,
) -> dict[str, Path]:
    paths = export_person_index(con, out_dir)
    paths["model"] = out_dir / "model.json"
    paths["model"].write_text(json.dumps(model.as_json(), indent=2))
    evaluation = evaluate(con, truth) if truth is not None else None
    paths["report"] = out_dir / "linkage_report.html"
    paths["report"].write_text(
        render_report(con, result=result, model=model, evaluation=evaluation)
    )
    return paths
