"""The directory's network drawn as inline SVG: organisations on the outer ring, projects
in the middle, data sets inside; links coloured by relation. No script, no download."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

RELATION_COLOURS = {
    "shares": "#b8470b",
    "owns": "#3b6ea8",
    "uses": "#2b6b2b",
    "lead": "#6b3fa0",
    "partner": "#6b3fa0",
    "funder": "#8a8a00",
}
RINGS = {"organisation": 0.92, "project": 0.55, "dataset": 0.28}
SHAPES = {"organisation": "#1d2733", "project": "#6b3fa0", "dataset": "#3b6ea8"}


def network_svg(
    nodes: Sequence[Mapping[str, str]],
    links: Sequence[Mapping[str, str]],
    *,
    title: str = "Who shares what with whom",
    size: int = 760,
) -> str:
    """Nodes (`id`, `label`, `kind`) on three rings and their links; each node's label
    and each link's relation are in its tooltip, and the node links to its page when it
    has an `href`."""
    centre = size / 2
    positions: dict[str, tuple[float, float]] = {}
    for kind, radius in RINGS.items():
        ring = [n for n in nodes if n.get("kind") == kind]
        for i, node in enumerate(ring):
            angle = 2 * math.pi * i / max(len(ring), 1) - math.pi / 2
            r = radius * (centre - 60)
            positions[node["id"]] = (centre + r * math.cos(angle), centre + r * math.sin(angle))
    lines = []
    for link in links:
        a, b = positions.get(link["source"]), positions.get(link["target"])
        if a is None or b is None:
            continue
        colour = RELATION_COLOURS.get(link.get("relation", ""), "#999999")
        label = escape(f"{link.get('relation', '')} {link.get('agreement', '')}".strip())
        lines.append(
            f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
            f'stroke="{colour}" stroke-width="1.2" opacity="0.7"><title>{label}</title></line>'
        )
    dots = []
    for node in nodes:
        where = positions.get(node["id"])
        if where is None:
            continue
        x, y = where
        label = escape(node.get("label", node["id"]))
        kind = node.get("kind", "")
        dot = (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{SHAPES.get(kind, "#555")}">'
            f"<title>{label} ({escape(kind)})</title></circle>"
        )
        anchor = "start" if x >= centre else "end"
        dx = 9 if x >= centre else -9
        text = f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}">{label[:38]}</text>'
        href = node.get("href")
        dots.append(f'<a href="{escape(href)}">{dot}{text}</a>' if href else dot + text)
    legend = "".join(
        f'<text x="10" y="{40 + 16 * i}" fill="{c}">{escape(r)}</text>'
        for i, (r, c) in enumerate(RELATION_COLOURS.items())
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="group" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="10">'
        f'<text x="10" y="20" font-weight="bold" font-size="13">{escape(title)}</text>'
        f"{legend}{''.join(lines)}{''.join(dots)}</svg>"
    )
