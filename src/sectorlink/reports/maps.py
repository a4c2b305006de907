"""Offline maps: GeoJSON polygons drawn as inline SVG (no tiles, no script, no CDN)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

SUPPRESSED_FILL = "url(#hatch)"
NO_DATA_FILL = "#f2f2f2"


def _rings(geometry: Mapping[str, Any]) -> Iterable[list[list[float]]]:
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates") or []
    if kind == "Polygon":
        yield from coordinates
    elif kind == "MultiPolygon":
        for polygon in coordinates:
            yield from polygon


def _colour(value: float, low: float, high: float, diverging: bool) -> str:
    if diverging:
        span = max(abs(low), abs(high)) or 1.0
        t = max(-1.0, min(1.0, value / span))
        if t >= 0:  # white -> red
            r, g, b = 255, int(255 - 180 * t), int(255 - 200 * t)
        else:  # white -> blue
            r, g, b = int(255 + 200 * t), int(255 + 140 * t), 255
        return f"#{r:02x}{g:02x}{b:02x}"
    t = 0.0 if high <= low else (value - low) / (high - low)
    t = max(0.0, min(1.0, t))
    r, g, b = int(239 - 180 * t), int(243 - 150 * t), int(255 - 90 * t)
    return f"#{r:02x}{g:02x}{b:02x}"


def choropleth_svg(
    collection: Mapping[str, Any],
    value: str,
    *,
    title: str,
    outline: Iterable[str] = (),
    diverging: bool = False,
    width: int = 640,
) -> str:
    """A choropleth of `collection` (as made by `InsightContext.publish_map`) shaded by
    the property `value`; features with `"suppressed": true` are hatched and labelled
    'suppressed' (never drawn as zero); codes in `outline` get a thick border."""
    features = list(collection.get("features") or [])
    xs: list[float] = []
    ys: list[float] = []
    for feature in features:
        for ring in _rings(feature.get("geometry") or {}):
            for x, y in ring:
                xs.append(x)
                ys.append(y)
    if not xs:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40" role="img" '
            f'aria-label="{escape(title)}"><text x="0" y="20">{escape(title)}: no areas'
            "</text></svg>"
        )
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    # Longitude degrees shrink with latitude; scale so the map is not stretched.
    aspect = math.cos(math.radians((y0 + y1) / 2))
    scale = (width - 20) / max((x1 - x0) * aspect, 1e-9)
    height = int((y1 - y0) * scale) + 60
    values = [
        float(f["properties"][value])
        for f in features
        if not f["properties"].get("suppressed") and f["properties"].get(value) is not None
    ]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    ring_paths = []
    outlined = set(outline)
    for feature in features:
        props = feature.get("properties") or {}
        shown = props.get(value)
        if props.get("suppressed"):
            fill, label = SUPPRESSED_FILL, "suppressed"
        elif shown is None:
            fill, label = NO_DATA_FILL, "no data"
        else:
            fill, label = _colour(float(shown), low, high, diverging), f"{shown}"
        parts = []
        for ring in _rings(feature.get("geometry") or {}):
            points = " ".join(
                f"{10 + (x - x0) * aspect * scale:.1f},{40 + (y1 - y) * scale:.1f}" for x, y in ring
            )
            parts.append(f"M{points}Z")
        stroke = ' stroke="#111" stroke-width="2.5"' if props.get("code") in outlined else ""
        name = escape(str(props.get("name") or props.get("code") or ""))
        ring_paths.append(
            f'<path d="{" ".join(parts)}" fill="{fill}"{stroke}>'
            f"<title>{name}: {escape(label)}</title></path>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="12">'
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff4dd"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#8a5a00" stroke-width="2"/></pattern></defs>'
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>'
        f'<text x="0" y="30" fill="#5a6878">hatched: suppressed by the disclosure gate; '
        f"outlined: hotspots</text>"
        f'<g stroke="#ffffff" stroke-width="0.6">{"".join(ring_paths)}</g></svg>'
    )


def heatmap_svg(
    rows: list[str],
    columns: list[str],
    cells: Mapping[tuple[str, str], float | None],
    *,
    title: str,
    cell: int = 16,
) -> str:
    """A grid heat map (e.g. day of week x hour); None cells are hatched as suppressed."""
    label_w = 40
    width = label_w + cell * len(columns) + 10
    height = 40 + cell * len(rows) + 20
    shown = [v for v in cells.values() if v is not None]
    low, high = (min(shown), max(shown)) if shown else (0.0, 1.0)
    out = []
    for i, row in enumerate(rows):
        y = 30 + i * cell
        out.append(
            f'<text x="{label_w - 4}" y="{y + cell - 4}" text-anchor="end">{escape(row)}</text>'
        )
        for j, column in enumerate(columns):
            v = cells.get((row, column))
            fill = SUPPRESSED_FILL if v is None else _colour(float(v), low, high, False)
            text = "suppressed" if v is None else f"{v:g}"
            out.append(
                f'<rect x="{label_w + j * cell}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="{fill}"><title>{escape(row)} {escape(column)}: {text}</title></rect>'
            )
    for j, column in enumerate(columns):
        if j % 3 == 0:
            y = 30 + len(rows) * cell + 12
            out.append(f'<text x="{label_w + j * cell}" y="{y}">{escape(column)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="10">'
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff4dd"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#8a5a00" stroke-width="2"/></pattern></defs>'
        f'<text x="0" y="14" font-weight="bold" font-size="12">{escape(title)}</text>'
        f"{''.join(out)}</svg>"
    )
