"""HTML reports assembled from sections; each subsystem contributes its own section."""

from sectorlink.reports.charts import bar_chart_svg
from sectorlink.reports.render import ReportSection, render_report

__all__ = ["ReportSection", "bar_chart_svg", "render_report"]
