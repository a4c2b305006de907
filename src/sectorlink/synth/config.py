"""Settings of the synthetic region: the timeline, the reference values, the mess rates.

Every kind of mess has one rate in :class:`MessConfig`, so a test, a benchmark or the CLI
(`--rate NAME=VALUE`) can dial it up or down and the truth files say where it was applied.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

# The timeline ends well before "today" because ingest rejects future dates, and starts
# before 28 Oct 2021 so lead results straddle the change of the blood lead reference value.
START_DATE = dt.date(2020, 1, 1)
END_DATE = dt.date(2025, 12, 31)
START = np.datetime64(START_DATE.isoformat(), "D")
END = np.datetime64(END_DATE.isoformat(), "D")
TIMELINE_DAYS = int((END - START).astype(int)) + 1
TIMELINE_YEARS = TIMELINE_DAYS / 365.25

# UK blood lead reference value (µg/dL), as a versioned setting: (in force from, value).
LEAD_REFERENCE_VALUES: tuple[tuple[dt.date, float], ...] = (
    (dt.date(2012, 1, 1), 5.0),
    (dt.date(2021, 10, 28), 3.5),
)

# People are generated and written a chunk of households at a time, so memory stays flat
# whatever the population. Changing it changes the output for the same seed.
CHUNK_PEOPLE = 50_000


def lead_reference_value(dates: np.ndarray) -> np.ndarray:
    """The reference value (µg/dL) in force on each date (datetime64[D])."""
    out = np.full(dates.shape, LEAD_REFERENCE_VALUES[0][1])
    for since, value in LEAD_REFERENCE_VALUES[1:]:
        out[dates >= np.datetime64(since.isoformat(), "D")] = value
    return out


def _rate(default: float, doc: str) -> Any:
    # The description lives next to the default so the CLI help and docs cannot drift.
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class MessConfig:
    """How messy the extracts are: each field is one kind of mess, a probability in [0, 1].

    Record-level rates apply to each person record a partner sends, among the records
    the mess can apply to (a nickname needs a name that has one; a maiden name needs a
    woman who changed her surname). Row-level rates add, per row a file sends, rows that
    ingest must reject (listed in truth/expected_rejects.csv). Population-level rates
    shape the people themselves. docs/synthetic-region.md lists each with what exactly
    it does.
    """

    # record level: names
    typo: float = _rate(
        0.04,
        "A keyboard slip, deletion, transposition or doubled letter in a name (each name field).",
    )
    nickname: float = _rate(
        0.10, "A nickname instead of the given name (William -> Bill), where the name has one."
    )
    maiden_name: float = _rate(
        0.30, "A married woman's record still under her maiden (birth) surname."
    )
    middle_as_first: float = _rate(
        0.02, "The middle name recorded as the given name (people known by their middle name)."
    )
    name_swap: float = _rate(0.01, "Given name and family name recorded the wrong way round.")
    # record level: dates of birth (exclusive: at most one per record; they must sum to <= 1)
    missing_dob: float = _rate(0.03, "No date of birth.")
    year_only_dob: float = _rate(
        0.02, "Only the year of birth (or 1 January of it, where the system needs a full date)."
    )
    day_month_swap: float = _rate(
        0.02,
        "Day and month swapped (applies where the day is 12 or less and differs from the month).",
    )
    age_instead_of_dob: float = _rate(
        0.03, "Age in years instead of a date of birth, at partners that have an age column."
    )
    # record level: identifiers and contact details
    missing_nhs: float = _rate(0.12, "No NHS number, at partners that collect it.")
    invalid_nhs: float = _rate(0.01, "An NHS number with one digit wrong (fails the mod-11 check).")
    missing_ni: float = _rate(
        0.25, "No National Insurance number, at partners that collect it (adults only)."
    )
    invalid_ni: float = _rate(
        0.02, "A malformed National Insurance number (letter O for zero, missing suffix)."
    )
    postcode_typo: float = _rate(
        0.02, "A postcode keyed wrongly: space lost, characters swapped, O for 0."
    )
    stale_address: float = _rate(
        0.30, "A mover's record dated after the move still carrying the old address."
    )
    sex_missing: float = _rate(0.01, "Sex not recorded.")
    shared_phone: float = _rate(
        0.40,
        "The household landline given instead of the person's own mobile (where there is one).",
    )
    duplicate_record: float = _rate(
        0.04,
        "A second registration of the same person under a new id, at partners with client lists.",
    )
    new_local_id: float = _rate(
        0.03,
        "A repeat record registered under a new local person id (a second hospital number).",
    )
    # row level: rows ingest must reject, added on top of a file's rows (per row it sends)
    invalid_date: float = _rate(0.003, "A row with a date that does not exist (31/02/1985).")
    future_date: float = _rate(
        0.002, "A row whose event date lies in the future: a typo in the year (2052 for 2025)."
    )
    missing_record_id: float = _rate(0.002, "A row without its record id.")
    resent_row: float = _rate(
        0.004, "A row the partner's system sent twice (same id, identical or slightly changed)."
    )
    orphan_event: float = _rate(
        0.003, "In an events-only file, an event whose person is missing from the person file."
    )
    # population level
    movers: float = _rate(
        0.10, "Households that move to another address in the region during the timeline."
    )
    twins: float = _rate(
        0.04, "Households with two or more children whose first two children are twins."
    )
    namesake_child: float = _rate(
        0.05, "Households with a father and son where the son has his father's given name."
    )
    common_name: float = _rate(
        0.02,
        "People given one of the ten most common given names and surnames, on top of the lists.",
    )
    # population level, 0 by default (the hard preset sets them; see PRESETS)
    family_homes: float = _rate(
        0.0, "One-person households redrawn as a family or three generations (more households)."
    )
    siblings: float = _rate(0.0, "Families with one more child than drawn (more siblings).")
    adult_children: float = _rate(
        0.0, "Children at home who are grown up (18-30): parents and adult children at one address."
    )
    namesake_daughter: float = _rate(
        0.0, "Households where the eldest daughter has her mother's given name."
    )
    close_couple_ages: float = _rate(
        0.0, "Couples whose ages are at most a year apart (instead of up to six)."
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"mess rate {f.name!r} must be a number, got {value!r}")
            if not math.isfinite(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"mess rate {f.name!r} must be between 0 and 1, got {value!r}")
        dob = self.missing_dob + self.year_only_dob + self.day_month_swap + self.age_instead_of_dob
        if dob > 1.0 + 1e-9:
            raise ValueError(
                "mess rates 'missing_dob', 'year_only_dob', 'day_month_swap' and "
                f"'age_instead_of_dob' are exclusive and must sum to at most 1, got {dob:g}"
            )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every rate name, as the CLI's --rate accepts it."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def descriptions(cls) -> dict[str, str]:
        """Rate name -> one-line description (from the field definitions)."""
        return {f.name: str(f.metadata["doc"]) for f in fields(cls)}

    def with_rates(self, overrides: Mapping[str, Any]) -> MessConfig:
        """A copy with some rates replaced; unknown names raise ValueError naming them."""
        known = set(self.names())
        clean: dict[str, float] = {}
        for raw_name, raw_value in overrides.items():
            name = raw_name.strip().replace("-", "_")
            if name not in known:
                raise ValueError(
                    f"unknown mess rate {raw_name!r}; rates: {', '.join(self.names())}"
                )
            try:
                clean[name] = float(raw_value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"mess rate {name!r} must be a number, got {raw_value!r}"
                ) from None
        return dataclasses.replace(self, **clean)

    @classmethod
    def none(cls) -> MessConfig:
        """Every rate zero: clean extracts (useful for tests of the pipeline itself)."""
        return cls(**{name: 0.0 for name in cls.names()})


# Named sets of mess rates (`sectorlink synth --preset`, `generate_region(preset=...)`).
# "hard" is what real partner extracts showed linkage (issue 16): households that look
# like one person (parents and adult children with one name at one address, couples of
# one age, more siblings and family homes), and more records with an age only or a name
# only (no birth date, no NHS number), as an ambulance crew records them.
PRESET_RATES: dict[str, dict[str, float]] = {
    "default": {},
    "hard": {
        "family_homes": 0.5,
        "siblings": 0.5,
        "adult_children": 0.35,
        "namesake_child": 0.25,
        "namesake_daughter": 0.15,
        "close_couple_ages": 0.6,
        "twins": 0.08,
        "common_name": 0.06,
        "missing_dob": 0.08,
        "year_only_dob": 0.04,
        "age_instead_of_dob": 0.06,
        "missing_nhs": 0.30,
        "missing_ni": 0.40,
        "shared_phone": 0.60,
    },
}
PRESETS = tuple(PRESET_RATES)


def preset_mess(preset: str) -> MessConfig:
    """The mess rates of a named preset; an unknown name raises ValueError naming them."""
    if preset not in PRESET_RATES:
        raise ValueError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    return MessConfig().with_rates(PRESET_RATES[preset])


def parse_rate_overrides(items: list[str]) -> dict[str, str]:
    """Parse CLI `NAME=VALUE` items; a malformed item raises ValueError."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"--rate expects NAME=VALUE (e.g. typo=0.05), got {item!r}")
        out[name.strip()] = value.strip()
    return out
