"""Small inline SVG charts: reports open offline, with no script or tile downloads."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bar_chart_svg(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    max_value: float | None = None,
    percent: bool = False,
    width: int = 640,
    bar_height: int = 18,
) -> str:
    """A horizontal bar chart as an SVG string (labels on the left, values at the bar ends)."""
    top = max_value if max_value is not None else max([*values, 0.0]) or 1.0
    label_width = min(260, 8 * max([len(label) for label in labels] + [4]))
    plot = width - label_width - 70
    gap = 6
    height = 30 + len(labels) * (bar_height + gap)
    rows = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 26 + i * (bar_height + gap)
        length = max(0.0, min(1.0, value / top)) * plot
        text = f"{value:.1%}" if percent else f"{value:,.0f}"
        rows.append(
            f'<text x="{label_width - 6}" y="{y + bar_height - 5}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="#3b6ea8"><title>{escape(label)}: {text}</title></rect>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar_height - 5}">{text}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="12">'
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>{"".join(rows)}</svg>'
    )
