"""Closed vocabularies of the directory, and how free text is folded onto them.

Names are compared by a *key* (case and spacing folded) so that "Northgate  Hospital"
and "northgate hospital" are recognised as the same organisation rather than stored twice.
"""

from __future__ import annotations

import re
import unicodedata

from sectorlink.registry.errors import InvalidInput

SECTORS: tuple[str, ...] = (
    "health care",
    "public health",
    "police",
    "ambulance",
    "housing/homelessness",
    "social care",
    "legal",
    "education",
    "community",
    "benefits and debt advice",
    "research and analytics",
)

# Spellings partners actually use, folded onto the vocabulary above.
_SECTOR_ALIASES: dict[str, str] = {
    "health": "health care",
    "healthcare": "health care",
    "hospital": "health care",
    "primary care": "health care",
    "housing": "housing/homelessness",
    "homelessness": "housing/homelessness",
    "housing and homelessness": "housing/homelessness",
    "homeless services": "housing/homelessness",
    "legal aid": "legal",
    "voluntary": "community",
    "charity": "community",
    "community and voluntary": "community",
    "benefits": "benefits and debt advice",
    "benefits and debt": "benefits and debt advice",
    "debt advice": "benefits and debt advice",
    "welfare": "benefits and debt advice",
    "analytics": "research and analytics",
    "research": "research and analytics",
    "fire": "community",
}

PROJECT_STATUSES: tuple[str, ...] = ("proposed", "active", "paused", "completed")
PRIVACY_TIERS: tuple[str, ...] = ("open", "aggregate", "pseudonymised", "identifiable")
PROJECT_ROLES: tuple[str, ...] = ("lead", "partner", "funder")
PARTY_ROLES: tuple[str, ...] = ("provider", "recipient", "processor")
ACTIONS: tuple[str, ...] = ("read", "read_identifiers", "export", "publish")

CONDITIONS: dict[str, str] = {
    "encoded_identifiers_only": (
        "identifiers may be used only encoded at the partner (PPRL); reading them in the "
        "clear (action read_identifiers) is refused"
    ),
    "aggregate_outputs_only": (
        "only aggregate outputs that passed the disclosure gate may leave the hub; "
        "person-level export (action export) is refused"
    ),
}

SOURCE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
PURPOSE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str, what: str, *, max_length: int = 300) -> str:
    """Trim and collapse spacing; refuse empty text and control characters."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if not text:
        raise InvalidInput(f"{what} must not be empty")
    if _CONTROL.search(text):
        raise InvalidInput(f"{what} contains control characters: {value!r}")
    # The comparison key (case-folded: "ß" becomes "ss") must fit its column too.
    if len(text) > max_length or len(text.casefold()) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters")
    return text


def name_key(name: str) -> str:
    """The comparison key of a name: Unicode-normalised, case-folded, spacing collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip().casefold()


def _choose(value: str, allowed: tuple[str, ...], what: str) -> str:
    folded = name_key(value)
    if folded in allowed:
        return folded
    raise InvalidInput(f"unknown {what} {value!r}; expected one of: {', '.join(allowed)}")


def normalise_sector(value: str) -> str:
    folded = name_key(value)
    return _choose(_SECTOR_ALIASES.get(folded, folded), SECTORS, "sector")


def normalise_status(value: str) -> str:
    return _choose(value, PROJECT_STATUSES, "project status")


def normalise_privacy_tier(value: str) -> str:
    return _choose(value, PRIVACY_TIERS, "privacy tier")


def normalise_action(value: str) -> str:
    return _choose(value, ACTIONS, "action")


def normalise_condition(value: str) -> str:
    return _choose(value, tuple(CONDITIONS), "agreement condition")


def normalise_source(value: str) -> str:
    text = value.strip()
    if not SOURCE_PATTERN.match(text) or len(text) > 100:
        raise InvalidInput(
            f"data set source {value!r} must be lower-case letters, digits and _, start "
            "with a letter and be at most 100 long (the `source` of its mapping spec)"
        )
    return text


def normalise_purpose(value: str) -> str:
    """Purposes are lower-case paths: `analysis` covers `analysis/violence-hotspots`."""
    text = value.strip().lower()
    if not PURPOSE_PATTERN.match(text):
        raise InvalidInput(
            f"purpose {value!r} must be lower-case words (letters, digits, _ or -) "
            "separated by /, e.g. analysis/violence-hotspots"
        )
    return text


def purpose_covers(permitted: str, requested: str) -> bool:
    """A permitted purpose covers itself and every sub-purpose below it."""
    return requested == permitted or requested.startswith(permitted + "/")
