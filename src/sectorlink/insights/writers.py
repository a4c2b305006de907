"""Writers for everything an analysis releases. They accept only the disclosure gate's
`ProtectedTable`s (and maps drawn from them), so an unprotected aggregate cannot be written
by mistake; every table is written with its suppression log beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from sectorlink.governance import ProtectedTable, suppression_log_frame

SUPPRESSED_MARKER = "[c]"


class UnprotectedOutput(TypeError):
    """Something other than a table that passed the disclosure gate was given to a writer."""


def require_protected(table: Any) -> ProtectedTable:
    if not isinstance(table, ProtectedTable):
        raise UnprotectedOutput(
            f"only tables that passed the disclosure gate can be written, not a "
            f"{type(table).__name__}: publish it with ctx.publish(...) or "
            "apply_disclosure_control(...) first"
        )
    return table


def _flat(protected: ProtectedTable, marker: str | None) -> pd.DataFrame:
    table = protected.table.astype("object")
    if marker is not None:
        table = table.where(~protected.suppressed, marker)
    table = table.where(table.notna(), None)
    if len(protected.label_names) > 1:
        return _split_labels(table, protected.label_names)
    flat = table.reset_index()
    flat.columns = [str(c) if str(c) != "index" else "label" for c in flat.columns]
    return flat


def _split_labels(table: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """One column per label: the gate keys rows labelled by several columns with tuples,
    and its `Total` row with the bare word, which goes under the first label."""
    blank = ("",) * (len(names) - 1)
    keys = [key if isinstance(key, tuple) else (key, *blank) for key in table.index]
    labels = pd.DataFrame(keys, columns=list(names), index=table.index)
    flat = pd.concat([labels, table], axis=1).reset_index(drop=True)
    flat.columns = [str(c) for c in flat.columns]
    return flat


def write_csv(table: ProtectedTable, path: Path) -> Path:
    """The table as CSV, hidden cells written as `[c]` (never as an empty or a zero)."""
    protected = require_protected(table)
    _flat(protected, SUPPRESSED_MARKER).to_csv(path, index=False)
    return path


def write_parquet(table: ProtectedTable, path: Path) -> Path:
    """The table as Parquet: hidden cells are nulls, with a `suppressed_<column>` flag."""
    protected = require_protected(table)
    flat = _flat(protected, None)
    mask = protected.suppressed.reset_index(drop=True)
    for column in protected.table.columns:
        flat[f"suppressed_{column}"] = mask[column].to_numpy()
    for column in flat.columns:
        if flat[column].dtype == object:
            values = flat[column].dropna()
            if len(values) and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values
            ):
                flat[column] = pd.to_numeric(flat[column])
            else:
                flat[column] = flat[column].map(lambda v: None if v is None else str(v))
    flat.to_parquet(path, index=False)
    return path


def write_suppression_log(table: ProtectedTable, path: Path) -> Path:
    """Every hidden cell with its rule and reason (the hidden values are not kept)."""
    protected = require_protected(table)
    log = suppression_log_frame(protected)
    log.to_csv(path, index=False)
    return path


def write_geojson(collection: dict[str, Any], path: Path) -> Path:
    """A map made by `InsightContext.publish_map` (it draws only protected tables)."""
    if collection.get("type") != "FeatureCollection":
        raise UnprotectedOutput("write_geojson writes maps made by ctx.publish_map only")
    path.write_text(json.dumps(collection, separators=(",", ":")), encoding="utf-8")
    return path


def table_html(table: ProtectedTable, *, caption: str = "", limit: int = 50) -> Markup:
    """A protected table as an HTML table, hidden cells shown as `[c]` (escaped)."""
    protected = require_protected(table)
    shown = _flat(protected, SUPPRESSED_MARKER).head(limit)
    head = "".join(f"<th>{escape(c)}</th>" for c in shown.columns)
    rows = []
    for values in shown.itertuples(index=False):
        cells = []
        for value in values:
            if value == SUPPRESSED_MARKER:
                cells.append(
                    '<td class="suppressed" title="hidden by the disclosure gate">[c]</td>'
                )
            elif isinstance(value, float):
                cells.append(f"<td>{value:,.3g}</td>")
            elif isinstance(value, int) and not isinstance(value, bool):
                cells.append(f"<td>{value:,}</td>")
            else:
                cells.append(f"<td>{escape('' if value is None else value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f"<p class='note'>First {limit} of {len(protected.table)} rows; the files hold all.</p>"
        if len(protected.table) > limit
        else ""
    )
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return Markup(
        f"<table class='data'>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
        f"</tbody></table>{more}"
    )
