"""The unit-cost table: a cost per event type, each with its source. Shipped as
`unit_costs.yaml` beside this module; a region's own file replaces the entries it names."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

SHIPPED = "unit_costs.yaml"


class UnitCostError(ValueError):
    """A unit-cost file is malformed (the message names the file and the entry)."""


class UnitCostMissing(ValueError):
    """Event types in the data have no unit cost. `missing` lists them; the run costs them
    at zero only when told to (`cost_missing_as_zero`)."""

    def __init__(self, missing: list[str], where: str) -> None:
        self.missing = missing
        super().__init__(
            f"the unit-cost table ({where}) has no cost for event type(s) in the data: "
            f"{', '.join(missing)}; add them to a region unit-cost file "
            "(--param unit_costs=FILE) or pass --param cost_missing_as_zero=true to cost "
            "them at zero"
        )


@dataclass(frozen=True)
class UnitCosts:
    """`table`: one row per event type: `event_type, cost, unit, source`."""

    currency: str
    price_year: str
    table: pd.DataFrame
    where: str

    def cost_of(self, event_type: str) -> float:
        rows = self.table.loc[self.table["event_type"] == event_type, "cost"]
        if rows.empty:
            raise UnitCostMissing([event_type], self.where)
        return float(rows.iloc[0])


def _read(path: Path | None) -> tuple[dict[str, Any], str]:
    if path is None:
        text = resources.files("sectorlink.insights.value").joinpath(SHIPPED).read_text("utf-8")
        where = f"the shipped {SHIPPED}"
    else:
        if not Path(path).is_file():
            raise UnitCostError(f"unit-cost file {path} does not exist")
        text, where = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UnitCostError(f"{where}: not valid YAML ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("costs"), dict):
        raise UnitCostError(f"{where}: expected a mapping with a 'costs:' mapping of event types")
    return data, where


def _entries(data: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for event_type, entry in data["costs"].items():
        place = f"{where}: costs.{event_type}"
        if not isinstance(entry, dict):
            raise UnitCostError(f"{place}: expected cost, unit and source")
        cost = entry.get("cost")
        if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
            raise UnitCostError(f"{place}.cost: expected a number of 0 or more, not {cost!r}")
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            raise UnitCostError(f"{place}.source: every cost names its source")
        entries[str(event_type)] = {
            "cost": float(cost),
            "unit": str(entry.get("unit") or "event"),
            "source": source.strip(),
        }
    return entries


def load_unit_costs(region_file: Path | None = None) -> UnitCosts:
    """The shipped table, with the entries of `region_file` (same layout) replacing or
    adding to it; its `currency` and `price_year`, when given, replace the shipped ones."""
    data, where = _read(None)
    entries = _entries(data, where)
    currency, price_year = str(data.get("currency", "GBP")), str(data.get("price_year", ""))
    if region_file is not None:
        region, region_where = _read(region_file)
        entries.update(_entries(region, region_where))
        currency = str(region.get("currency", currency))
        price_year = str(region.get("price_year", price_year))
        where = f"{where} with {region_where}"
    table = pd.DataFrame(
        [{"event_type": k, **v} for k, v in sorted(entries.items())],
        columns=["event_type", "cost", "unit", "source"],
    )
    return UnitCosts(currency=currency, price_year=price_year, table=table, where=where)
