"""The person linkage section: how many people, how well linked against the truth.

Every count of records or pairs it shows passes the disclosure gate (default profile:
counts 1-7 hidden, everything rounded to 5), as every count leaving the hub must; a small
error kind shows as [c]. It never shows example records: pairs with identifiers belong
only in the detailed linkage report, for a role allowed to read identifiers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from sectorlink.governance import DisclosureRefused, apply_disclosure_control
from sectorlink.linkage import Evaluation, LinkResult
from sectorlink.reports.render import ReportSection, render_section

PROFILE = "suppress-1-7-round-5"


def gated_rows(
    labels: list[tuple[str, ...]], counts: list[int], *, name: str, profile: str = PROFILE
) -> list[tuple[str, ...]]:
    """(label..., shown count) rows of a one-column count table after the gate; a table
    the gate refuses shows every count as [c]."""
    if not labels:
        return []
    width = len(labels[0])
    frame = pd.DataFrame(
        {**{f"label{i}": [row[i] for row in labels] for i in range(width)}, "count": counts}
    )
    try:
        shown = apply_disclosure_control(
            frame, profile, labels=[f"label{i}" for i in range(width)], name=name, totals=False
        ).display()["count"]
    except DisclosureRefused:
        return [(*row, "[c]") for row in labels]
    keys = [row[0] if width == 1 else row for row in labels]
    return [(*row, shown.loc[key]) for row, key in zip(labels, keys, strict=True)]


def _gated_number(value: int, name: str) -> str:
    return gated_rows([("all",)], [value], name=name)[0][1]


def linkage_section(
    result: LinkResult,
    evaluation: Evaluation | None,
    *,
    report_dir: Path,
) -> ReportSection:
    """Summary of a linkage run, scored against the truth when it is known.

    Links to the detailed linkage report (Splink's charts) relative to `report_dir`.
    """
    detailed = result.outputs.get("report")
    link = os.path.relpath(detailed, report_dir) if detailed is not None else None
    ordered = sorted(result.sources.items())
    sources = gated_rows(
        [(s,) for s, _ in ordered], [n for _, n in ordered], name="records per source"
    )
    errors = []
    if evaluation is not None and evaluation.errors:
        kinds = evaluation.errors[:10]
        errors = gated_rows(
            [(e.side, e.kind) for e in kinds], [e.pairs for e in kinds], name="linkage errors"
        )
    counts = {
        "records": _gated_number(result.records, "records linked"),
        "persons": _gated_number(result.persons, "people in the person index"),
    }
    if evaluation is not None:
        for key, value in (
            ("overall_predicted", evaluation.overall.predicted_pairs),
            ("overall_true", evaluation.overall.true_pairs),
            ("cross_predicted", evaluation.cross_source.predicted_pairs),
            ("cross_true", evaluation.cross_source.true_pairs),
            ("clusters", evaluation.clusters),
            ("true_persons", evaluation.true_persons),
        ):
            counts[key] = _gated_number(value, key)
    body = render_section(
        "linkage.html.j2",
        result=result,
        evaluation=evaluation,
        detailed=link,
        sources=sources,
        errors=errors,
        counts=counts,
    )
    headline = {"people in the person index": counts["persons"]}
    if evaluation is not None:
        headline["linkage F1 against the truth"] = f"{evaluation.overall.f1:.3f}"
    return ReportSection("Person linkage", body, anchor="linkage", headline=headline)
