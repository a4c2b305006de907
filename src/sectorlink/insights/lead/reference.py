"""The blood lead reference value as a versioned setting: which value was in force when.

Whether a result is elevated depends on the value in force at the sample date, so the
warehouse stores results, never an `elevated` flag. The UK and US values fell from
5 µg/dL (in force from 2012) to 3.5 µg/dL on 28 October 2021.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

UMOL_PER_L_TO_UG_DL = 20.72
"""1 µmol/L of blood lead is 20.72 µg/dL (molar mass of lead 207.2 g/mol)."""


@dataclass(frozen=True)
class ReferenceValues:
    """Reference values (µg/dL), each in force from its date until the next one's."""

    versions: tuple[tuple[dt.date, float], ...]

    def __post_init__(self) -> None:
        if not self.versions:
            raise ValueError("reference values: at least one (from date, value) is needed")
        dates = [d for d, _ in self.versions]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("reference values: the from dates must be distinct and in order")
        for since, value in self.versions:
            if not value > 0:
                raise ValueError(f"reference value from {since}: {value} is not above zero")

    def on(self, day: dt.date) -> float:
        """The value in force on `day`; ValueError before the first version."""
        found: float | None = None
        for since, value in self.versions:
            if since <= day:
                found = value
        if found is None:
            raise ValueError(
                f"no blood lead reference value was in force on {day} "
                f"(the first is from {self.versions[0][0]})"
            )
        return found

    def sql(self, column: str) -> str:
        """SQL giving the value in force at the date `column` (NULL before the first)."""
        arms = " ".join(
            f"WHEN {column} >= DATE '{since.isoformat()}' THEN {value!r}"
            for since, value in reversed(self.versions)
        )
        return f"(CASE {arms} END)"

    def describe(self) -> str:
        return ", ".join(f"{value:g} µg/dL from {since}" for since, value in self.versions)

    @classmethod
    def parse(cls, text: str) -> ReferenceValues:
        """`2012-01-01:5,2021-10-28:3.5` (the CLI's --param form)."""
        versions: list[tuple[dt.date, float]] = []
        for part in text.split(","):
            since, sep, value = part.strip().partition(":")
            try:
                if not sep:
                    raise ValueError(part)
                versions.append((dt.date.fromisoformat(since.strip()), float(value)))
            except ValueError:
                raise ValueError(
                    f"reference values are written DATE:VALUE,... "
                    f"(e.g. 2012-01-01:5,2021-10-28:3.5), not {text!r}"
                ) from None
        return cls(tuple(versions))

    def as_list(self) -> list[list[str | float]]:
        return [[since.isoformat(), value] for since, value in self.versions]

    @classmethod
    def from_list(cls, rows: Sequence[Sequence[str | float]]) -> ReferenceValues:
        return cls(tuple((dt.date.fromisoformat(str(d)), float(v)) for d, v in rows))


DEFAULT_REFERENCE_VALUES = ReferenceValues(
    ((dt.date(2012, 1, 1), 5.0), (dt.date(2021, 10, 28), 3.5))
)
