"""The audit log's typed events: a small set of classes, each with its own fields.

As in Datasette's `events.py`, every kind of thing the hub records is a class with a
`type` name and the fields that kind needs; the log stores the type beside the fields
(`sectorlink audit list --type access`), and code that reads the log filters by type
instead of parsing text. The classes:

| type | class | outcomes |
| --- | --- | --- |
| `access` | `AccessDecision`: an `authorise` decision | allowed, refused |
| `release` | `OutputRelease`: an aggregate passed (or not) through the gate | published, withheld |
| `registry-change` | `RegistryChange`: a write to the registry, before and after | recorded |
| `auth` | `AuthEvent`: locked sign-ins, revoked tokens, deactivations | recorded, refused |
| `recorded` | `Recorded`: anything else (an ingest, a link run) | recorded |

`append_audit_entry(...)` keeps its arguments and maps them onto one of these by outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """One thing to record. Subclasses fix `type` and which outcomes they allow."""

    type: ClassVar[str] = "recorded"
    outcomes: ClassVar[tuple[str, ...]] = ("recorded",)

    actor: str
    organisation: str = ""
    organisation_id: int | None = None
    action: str = ""
    purpose: str = ""
    datasets: Sequence[str] = ()
    outcome: str = "recorded"
    reason: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.outcome not in self.outcomes:
            raise ValueError(
                f"unknown audit outcome {self.outcome!r} for a {self.type} event; "
                f"expected one of {self.outcomes}"
            )


@dataclass(frozen=True, kw_only=True)
class AccessDecision(AuditEvent):
    """An access check: who asked for which data sets, why, and what was decided."""

    type: ClassVar[str] = "access"
    outcomes: ClassVar[tuple[str, ...]] = ("allowed", "refused")


@dataclass(frozen=True, kw_only=True)
class OutputRelease(AuditEvent):
    """An aggregate output that left the hub through the gate, or was withheld."""

    type: ClassVar[str] = "release"
    outcomes: ClassVar[tuple[str, ...]] = ("published", "withheld")


@dataclass(frozen=True, kw_only=True)
class RegistryChange(AuditEvent):
    """A write to the registry (written by `sectorlink.registry.changes`): `detail` holds
    the entity, its id, and the values before and after."""

    type: ClassVar[str] = "registry-change"


@dataclass(frozen=True, kw_only=True)
class AuthEvent(AuditEvent):
    """Signing in and out: a refused or locked sign-in, a revoked token, a user
    deactivated or reactivated. `action` names which."""

    type: ClassVar[str] = "auth"
    outcomes: ClassVar[tuple[str, ...]] = ("recorded", "refused")


@dataclass(frozen=True, kw_only=True)
class Recorded(AuditEvent):
    """Anything else worth keeping: an ingest, a link run, an export."""

    type: ClassVar[str] = "recorded"
    outcomes: ClassVar[tuple[str, ...]] = (
        "allowed",
        "refused",
        "published",
        "withheld",
        "recorded",
    )


EVENT_TYPES: dict[str, type[AuditEvent]] = {
    cls.type: cls for cls in (AccessDecision, OutputRelease, RegistryChange, AuthEvent, Recorded)
}
OUTCOMES = ("allowed", "refused", "published", "withheld", "recorded")


def event_for_outcome(outcome: str) -> type[AuditEvent]:
    """The class `append_audit_entry` maps its arguments onto."""
    if outcome in ("allowed", "refused"):
        return AccessDecision
    if outcome in ("published", "withheld"):
        return OutputRelease
    if outcome == "recorded":
        return Recorded
    raise ValueError(f"unknown audit outcome {outcome!r}; expected one of {OUTCOMES}")
