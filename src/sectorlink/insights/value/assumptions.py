"""The assumptions behind estimated savings: per intervention, the events whose cost it
could avoid, the effect size (low, central, high, each a share in [0, 1]) and its source.
Shipped as `assumptions.yaml`; a region file replaces the interventions it names."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

SHIPPED = "assumptions.yaml"
EVIDENCE = ("published", "assumption")


class AssumptionError(ValueError):
    """An assumption file is malformed, e.g. an effect size outside [0, 1] (the message
    names the file, the intervention and the field)."""


@dataclass(frozen=True)
class Assumption:
    key: str
    title: str
    analysis: str
    events: tuple[str, ...]
    among: tuple[str, ...]
    low: float
    central: float
    high: float
    evidence: str
    source: str
    range: str


def _strings(value: Any, place: str, *, required: bool) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise AssumptionError(f"{place}: expected a list of event types")
    return tuple(value)


def _effect(value: Any, place: str) -> tuple[float, float, float]:
    if not isinstance(value, dict):
        raise AssumptionError(f"{place}: expected low, central and high")
    found = []
    for name in ("low", "central", "high"):
        number = value.get(name)
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise AssumptionError(f"{place}.{name}: expected a number in [0, 1], not {number!r}")
        if not 0 <= number <= 1:
            raise AssumptionError(
                f"{place}.{name}: effect size {number} is outside [0, 1] (a share of the cost "
                "avoided: 0.42 for 42%)"
            )
        found.append(float(number))
    low, central, high = found
    if not low <= central <= high:
        raise AssumptionError(
            f"{place}: expected low <= central <= high, not {low}, {central}, {high}"
        )
    return low, central, high


def _parse(data: Any, where: str) -> dict[str, Assumption]:
    if not isinstance(data, dict) or not isinstance(data.get("interventions"), dict):
        raise AssumptionError(f"{where}: expected a mapping with an 'interventions:' mapping")
    parsed: dict[str, Assumption] = {}
    for key, entry in data["interventions"].items():
        place = f"{where}: interventions.{key}"
        if not isinstance(entry, dict):
            raise AssumptionError(f"{place}: expected a mapping")
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            raise AssumptionError(f"{place}.source: every effect size names its source")
        evidence = entry.get("evidence", "assumption")
        if evidence not in EVIDENCE:
            raise AssumptionError(
                f"{place}.evidence: one of {', '.join(EVIDENCE)}, not {evidence!r}"
            )
        low, central, high = _effect(entry.get("effect"), f"{place}.effect")
        parsed[str(key)] = Assumption(
            key=str(key),
            title=str(entry.get("title") or key),
            analysis=str(entry.get("analysis") or ""),
            events=_strings(entry.get("events"), f"{place}.events", required=True),
            among=_strings(entry.get("among"), f"{place}.among", required=False),
            low=low,
            central=central,
            high=high,
            evidence=str(evidence),
            source=source.strip(),
            range=str(entry.get("range") or ""),
        )
    return parsed


def _load(path: Path | None) -> dict[str, Assumption]:
    if path is None:
        text = resources.files("sectorlink.insights.value").joinpath(SHIPPED).read_text("utf-8")
        where = f"the shipped {SHIPPED}"
    else:
        if not Path(path).is_file():
            raise AssumptionError(f"assumption file {path} does not exist")
        text, where = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise AssumptionError(f"{where}: not valid YAML ({error})") from None
    return _parse(data, where)


def load_assumptions(region_file: Path | None = None) -> list[Assumption]:
    """The shipped assumptions, with those `region_file` names replacing them (or added)."""
    assumptions = _load(None)
    if region_file is not None:
        assumptions.update(_load(region_file))
    return [assumptions[k] for k in sorted(assumptions)]
