"""The analyses over the linked model, on one layer.

* `list_analyses()` / `get_analysis(name)`: the registry (each module in
  `sectorlink.insights.analyses` registers itself).
* `run_analysis(name, warehouse=..., registry=..., organisation=..., out_dir=...)`: one
  `authorise` call, a Grant-bound read-only context, outputs only through the disclosure
  gate, a release folder with `summary.json`.
* `load_geography(con, postcodes_csv, small_areas_geojson)`: the postcode-to-small-area
  lookup analyses place events with.

See docs/insights.md (how to add an analysis).
"""

from sectorlink.insights.context import (
    AnalysisOutput,
    InsightContext,
    InsightError,
    NothingToPublish,
    build_context,
)
from sectorlink.insights.geography import GeographyError, load_geography
from sectorlink.insights.registry import (
    Analysis,
    Parameter,
    UnknownAnalysis,
    get_analysis,
    list_analyses,
    register,
)
from sectorlink.insights.report import insight_section
from sectorlink.insights.run import InsightRun, parse_month, run_all, run_analysis
from sectorlink.insights.writers import UnprotectedOutput, table_html

__all__ = [
    "Analysis",
    "AnalysisOutput",
    "GeographyError",
    "InsightContext",
    "InsightError",
    "InsightRun",
    "NothingToPublish",
    "Parameter",
    "UnknownAnalysis",
    "UnprotectedOutput",
    "build_context",
    "get_analysis",
    "insight_section",
    "list_analyses",
    "load_geography",
    "parse_month",
    "register",
    "run_all",
    "run_analysis",
    "table_html",
]
