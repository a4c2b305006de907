"""The registry of analyses: each analysis module registers itself here.

The CLI, the demo and the web app list analyses from this registry; nothing lists them
by hand. An analysis is a small declaration (what it answers, what it reads, the purpose
it needs, its parameters) plus one function that takes an `InsightContext` and returns an
`AnalysisOutput`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sectorlink.insights.context import AnalysisOutput, InsightContext


class UnknownAnalysis(LookupError):
    """No analysis of that name is registered; the message lists the names there are."""


@dataclass(frozen=True)
class Parameter:
    """One parameter an analysis accepts (`--param name=value` on the CLI)."""

    name: str
    kind: type
    default: Any
    help: str

    def parse(self, text: str) -> Any:
        """The value from its text form, or ValueError naming the parameter."""
        try:
            if self.kind is bool:
                lowered = text.strip().lower()
                if lowered not in {"true", "false", "yes", "no", "1", "0"}:
                    raise ValueError(text)
                return lowered in {"true", "yes", "1"}
            return self.kind(text)
        except ValueError:
            raise ValueError(
                f"parameter {self.name} must be a {self.kind.__name__}, not {text!r}"
            ) from None


@dataclass(frozen=True)
class Analysis:
    """A registered analysis.

    Attributes:
        name: the name used on the CLI and in URLs (`violence-hotspots`).
        title: a short human title.
        question: what the analysis answers, in one or two sentences.
        purpose: the purpose it runs under (`analysis/violence-hotspots`); the run's one
            `authorise` call asks for it.
        tables: the model tables it reads (`event`, `violence`, ...); the context holds
            only these (plus the person index and the geography).
        event_types: the event types it reads; the data sets it reads are the sources
            holding such events (or rows of `tables`) in the warehouse. Empty: every event.
        parameters: what it accepts beyond the period and the disclosure profile.
        outputs: the names of the tables it publishes (for the listing and the docs).
        person_tables: person-level tables it keeps in the warehouse (not published).
        run: the function doing the work.
    """

    name: str
    title: str
    question: str
    purpose: str
    tables: tuple[str, ...]
    run: Callable[[InsightContext], AnalysisOutput]
    event_types: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    outputs: tuple[str, ...] = ()
    person_tables: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise ValueError(f"{self.name} has no parameter {name!r} (it has: {known})")

    def parse_parameters(self, given: dict[str, str]) -> dict[str, Any]:
        """Defaults overlaid with `given` (text values, as from the CLI), parsed."""
        values = {p.name: p.default for p in self.parameters}
        for name, text in given.items():
            values[name] = self.parameter(name).parse(text)
        return values


_ANALYSES: dict[str, Analysis] = {}


def register(analysis: Analysis) -> Analysis:
    """Add an analysis to the registry (called once, at import of its module)."""
    existing = _ANALYSES.get(analysis.name)
    if existing is not None and existing.run is not analysis.run:
        raise ValueError(f"two analyses are called {analysis.name!r}")
    _ANALYSES[analysis.name] = analysis
    return analysis


def _load_builtin() -> None:
    # The analyses package imports every module in it, each registering itself.
    import sectorlink.insights.analyses  # noqa: F401


def list_analyses() -> list[Analysis]:
    """Every registered analysis, by name."""
    _load_builtin()
    return [_ANALYSES[name] for name in sorted(_ANALYSES)]


def get_analysis(name: str) -> Analysis:
    """The analysis called `name`, or `UnknownAnalysis` listing the names there are."""
    _load_builtin()
    try:
        return _ANALYSES[name]
    except KeyError:
        names = ", ".join(sorted(_ANALYSES)) or "(none registered)"
        raise UnknownAnalysis(
            f"no analysis is called {name!r}; the analyses are: {names}"
        ) from None
