"""Render a report: a title, a few headline figures, then sections in order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

import sectorlink

_env = Environment(
    loader=PackageLoader("sectorlink.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class ReportSection:
    """One section of a report. `body` is trusted HTML built by sectorlink, never raw input."""

    title: str
    body: Markup
    anchor: str = ""
    headline: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.anchor:
            self.anchor = "".join(c if c.isalnum() else "-" for c in self.title.lower())


def render_section(template: str, **context: object) -> Markup:
    """Render a section body from a template in sectorlink/reports/templates (autoescaped)."""
    return Markup(_env.get_template(template).render(**context))


def render_report(
    sections: list[ReportSection], out: Path, *, title: str, subtitle: str = ""
) -> Path:
    """Write the report to `out` (HTML, self-contained) and return its path."""
    html = _env.get_template("report.html.j2").render(
        title=title,
        subtitle=subtitle,
        sections=sections,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=sectorlink.__version__,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)  # never leave a half-written report
    return out


def render_release_page(
    out: Path,
    *,
    title: str,
    question: str,
    summary: dict[str, object],
    body: Markup,
    notes: list[str],
) -> Path:
    """The one-page summary of an analysis' release (`summary.html`), self-contained."""
    html = _env.get_template("release.html.j2").render(
        title=title,
        question=question,
        summary=summary,
        body=body,
        notes=notes,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=sectorlink.__version__,
    )
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out
