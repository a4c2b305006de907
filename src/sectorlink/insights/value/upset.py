"""An UpSet chart (Lex et al., 2014) as an offline SVG: a bar per exact combination of
services (how many residents are known to exactly that set), a dot matrix below naming
the services in each combination, and each service's own size on the left. Drawn only from
published values; a combination the gate hid is drawn as a hatched stub marked [c], never
as zero."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import escape


def upset_svg(
    combinations: Sequence[tuple[Sequence[str], float | None]],
    set_sizes: Sequence[tuple[str, float | None]],
    *,
    title: str,
    width_per_bar: int = 26,
) -> str:
    """The chart. `combinations`: (the services in it, residents or None if hidden), in
    the order to draw; `set_sizes`: (service, residents known to it or None), one row each."""
    sets = [name for name, _ in set_sizes]
    label_w, size_w, top_h, row_h = 170, 90, 170, 18
    left = label_w + size_w
    n = len(combinations)
    width = left + max(1, n) * width_per_bar + 20
    height = top_h + len(sets) * row_h + 30
    peak = max([v or 0.0 for _, v in combinations] + [1.0])
    size_peak = max([v or 0.0 for _, v in set_sizes] + [1.0])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        '<defs><pattern id="upset-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>',
        f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    base = top_h - 4
    for i, (members, value) in enumerate(combinations):
        x = left + i * width_per_bar + 4
        bar_w = width_per_bar - 8
        name = " & ".join(members)
        if value is None:
            parts.append(
                f'<rect x="{x}" y="{base - 12}" width="{bar_w}" height="12" '
                f'fill="url(#upset-hatch)"><title>{escape(name)}: hidden by the disclosure '
                f'gate</title></rect><text x="{x + bar_w / 2}" y="{base - 15}" '
                'text-anchor="middle">[c]</text>'
            )
        else:
            h = (value / peak) * (top_h - 40)
            parts.append(
                f'<rect x="{x}" y="{base - h:.1f}" width="{bar_w}" height="{h:.1f}" '
                f'fill="#3b6ea8"><title>{escape(name)}: {value:,.0f}</title></rect>'
                f'<text x="{x + bar_w / 2}" y="{base - h - 3:.1f}" text-anchor="middle" '
                f'font-size="9">{value:,.0f}</text>'
            )
        in_set = [j for j, s in enumerate(sets) if s in members]
        cx = x + bar_w / 2
        if len(in_set) > 1:
            y1 = top_h + min(in_set) * row_h + row_h / 2
            y2 = top_h + max(in_set) * row_h + row_h / 2
            parts.append(
                f'<line x1="{cx}" y1="{y1}" x2="{cx}" y2="{y2}" stroke="#333" stroke-width="2"/>'
            )
        for j in range(len(sets)):
            cy = top_h + j * row_h + row_h / 2
            fill = "#333" if j in in_set else "#ddd"
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="5" fill="{fill}"/>')
    for j, (name, value) in enumerate(set_sizes):
        y = top_h + j * row_h
        parts.append(
            f'<text x="{label_w - 4}" y="{y + row_h - 5}" text-anchor="end">{escape(name)}</text>'
        )
        if value is None:
            parts.append(
                f'<rect x="{label_w}" y="{y + 3}" width="12" height="{row_h - 6}" '
                f'fill="url(#upset-hatch)"><title>{escape(name)}: hidden</title></rect>'
            )
        else:
            w = (value / size_peak) * (size_w - 10)
            parts.append(
                f'<rect x="{label_w + size_w - 6 - w:.1f}" y="{y + 3}" width="{w:.1f}" '
                f'height="{row_h - 6}" fill="#8fb0d6"><title>{escape(name)}: '
                f"{value:,.0f}</title></rect>"
            )
    parts.append(
        f'<text x="4" y="{height - 8}" fill="#555">Bars: residents known to exactly that '
        "combination; left: residents known to each service; [c]: hidden by the gate</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
