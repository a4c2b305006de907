"""The access check every read or export of person-level data goes through.

`authorise` is the one gate: it decides, writes the audit entry (allowed or refused) in
its own transaction, and either returns a `Grant` or raises `AccessDenied` naming why.
Callers (warehouse readers, exports, reports) call it before touching the data; because
the decision and the audit entry are made here, no caller can skip the log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sectorlink.governance.audit import record_event
from sectorlink.governance.events import AccessDecision
from sectorlink.registry.agreements import agreement_state
from sectorlink.registry.db import Registry
from sectorlink.registry.errors import InvalidInput, NotFound
from sectorlink.registry.lookup import dataset_by_source, organisation_by_reference
from sectorlink.registry.models import Agreement, AgreementDataset, AgreementParty, Dataset
from sectorlink.registry.vocab import (
    normalise_action,
    normalise_purpose,
    purpose_covers,
)

# Which agreement condition forbids which action.
_CONDITION_BLOCKS: dict[str, str] = {
    "encoded_identifiers_only": "read_identifiers",
    "aggregate_outputs_only": "export",
}
# Only these parties receive data under an agreement; a provider is covered for its own
# data sets as their owner.
_RECEIVING_ROLES = ("recipient", "processor")


class AccessDenied(PermissionError):
    """Raised when no current agreement covers a request. `reason` says why;
    `audit_seq` is the audit entry that recorded the refusal."""

    def __init__(self, reason: str, *, audit_seq: int) -> None:
        super().__init__(f"access refused: {reason} (audit entry {audit_seq})")
        self.reason = reason
        self.audit_seq = audit_seq


@dataclass(frozen=True)
class Grant:
    """Permission for one request, and what allowed it.

    `basis` maps each data set to the agreement reference that covers it, or to
    "owner" when the requesting organisation owns it.
    """

    organisation: str
    purpose: str
    action: str
    datasets: tuple[str, ...]
    basis: Mapping[str, str]
    audit_seq: int
    granted_at: str
    conditions: tuple[str, ...] = field(default=())
    organisation_id: int | None = None


@dataclass
class _Decision:
    organisation: str
    purpose: str
    action: str
    organisation_id: int | None = None
    basis: dict[str, str] = field(default_factory=dict)
    conditions: set[str] = field(default_factory=set)
    refusals: list[str] = field(default_factory=list)


def _agreements_for(session: Session, dataset: Dataset, organisation_id: int) -> list[Agreement]:
    query = (
        select(Agreement)
        .join(AgreementDataset, AgreementDataset.agreement_id == Agreement.id)
        .join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
        .where(AgreementDataset.dataset_id == dataset.id)
        .where(AgreementParty.organisation_id == organisation_id)
        .order_by(Agreement.reference_key)
    )
    return list(session.scalars(query).unique())


def _why_not(
    agreement: Agreement, organisation_id: int, purpose: str, action: str, on: dt.date
) -> str | None:
    """None when `agreement` covers the request, else the reason it does not."""
    ref = agreement.reference
    state = agreement_state(agreement, on)
    if state == "expired":
        return f"agreement {ref} expired on {agreement.valid_to.isoformat()}"
    if state == "not yet valid":
        return f"agreement {ref} is not valid until {agreement.valid_from.isoformat()}"
    if state == "revoked":
        return f"agreement {ref} was revoked"
    role = next(p.role for p in agreement.parties if p.organisation_id == organisation_id)
    if role not in _RECEIVING_ROLES:
        return f"agreement {ref} names the organisation as {role}, not as a recipient"
    if not any(purpose_covers(p, purpose) for p in agreement.purposes):
        permitted = ", ".join(agreement.purposes)
        return f"agreement {ref} does not permit purpose {purpose!r} (permits: {permitted})"
    for condition in agreement.conditions:
        if _CONDITION_BLOCKS.get(condition) == action:
            return f"agreement {ref} allows {condition.replace('_', ' ')}, so {action!r} is refused"
    return None


def _registered_purposes(session: Session, organisation_id: int, on: dt.date) -> list[str]:
    """The purposes of the current agreements an organisation is a party to, in any role:
    what it is registered to do. Owning a data set allows nothing beyond them."""
    query = (
        select(Agreement)
        .join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
        .where(AgreementParty.organisation_id == organisation_id)
    )
    purposes: set[str] = set()
    for agreement in session.scalars(query).unique():
        if agreement_state(agreement, on) == "current":
            purposes.update(agreement.purposes)
    return sorted(purposes)


def _decide(session: Session, decision: _Decision, sources: Sequence[str], on: dt.date) -> None:
    organisation = organisation_by_reference(session, decision.organisation)
    decision.organisation = organisation.name
    decision.organisation_id = organisation.id
    registered: list[str] | None = None
    for source in sources:
        dataset = dataset_by_source(session, source)
        if dataset.owner_id == organisation.id:
            if registered is None:
                registered = _registered_purposes(session, organisation.id, on)
            if any(purpose_covers(p, decision.purpose) for p in registered):
                decision.basis[dataset.source] = "owner"
            else:
                decision.refusals.append(
                    f"{dataset.source!r} is owned by {organisation.name!r}, but purpose "
                    f"{decision.purpose!r} is none of its registered purposes "
                    f"({', '.join(registered) or 'none: it is party to no current agreement'})"
                )
            continue
        candidates = _agreements_for(session, dataset, organisation.id)
        if not candidates:
            decision.refusals.append(
                f"no agreement shares {dataset.source!r} with {organisation.name!r}"
            )
            continue
        reasons = []
        for agreement in candidates:
            why = _why_not(agreement, organisation.id, decision.purpose, decision.action, on)
            if why is None:
                decision.basis[dataset.source] = agreement.reference
                decision.conditions.update(agreement.conditions)
                break
            reasons.append(why)
        else:
            decision.refusals.append(f"{dataset.source!r}: " + "; ".join(reasons))


def authorise(
    registry: Registry,
    *,
    organisation: str,
    purpose: str,
    datasets: Sequence[str],
    action: str = "read",
    actor: str | None = None,
    on: dt.date | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Grant:
    """Allow a use of person-level data only when agreements cover it; audit either way.

    Every data set must be owned by `organisation` or shared with it, as recipient or
    processor, by an agreement that is current on `on` (default today), permits
    `purpose` (a permitted `analysis` covers `analysis/violence-hotspots`), and whose
    conditions do not forbid `action`.

    Args:
        organisation: the requesting organisation's name (case and spacing ignored), or
            its stable id as `#12` (what agreements and audit entries refer to).
        purpose: why, as a lower-case path such as "linkage" or "analysis/lead-risk".
        datasets: `source` names of every data set touched (as in the mapping specs).
        action: "read", "read_identifiers", "export" or "publish".
        actor: the person or process acting (default: the organisation).
        detail: anything else worth keeping with the audit entry (no personal data).

    Returns:
        A `Grant` naming the agreement behind each data set and the audit entry.

    Raises:
        AccessDenied: with every reason the request is not covered; the refusal is
            already in the audit log.

    Example:
        >>> grant = authorise(registry, organisation="Regional Analytics Hub",
        ...                   purpose="linkage", datasets=["ae_northgate", "police_ops"])
    """
    sources = [str(s).strip() for s in datasets]
    decision = _Decision(organisation=organisation.strip(), purpose=purpose, action=action)
    day = on or dt.date.today()
    try:
        decision.action = normalise_action(action)
        decision.purpose = normalise_purpose(purpose)
        if not sources:
            raise InvalidInput("the request names no data set")
        with registry.session() as session:
            _decide(session, decision, sources, day)
    except (NotFound, InvalidInput) as error:
        decision.refusals.append(str(error))

    allowed = not decision.refusals
    reason = (
        "covered: " + ", ".join(f"{s} by {b}" for s, b in sorted(decision.basis.items()))
        if allowed
        else "; ".join(decision.refusals)
    )
    record = record_event(
        registry,
        AccessDecision(
            actor=actor or decision.organisation,
            organisation=decision.organisation,
            organisation_id=decision.organisation_id,
            action=decision.action,
            purpose=decision.purpose,
            datasets=tuple(sources),
            outcome="allowed" if allowed else "refused",
            reason=reason,
            detail={**dict(detail or {}), "on": day.isoformat(), "basis": decision.basis},
        ),
    )
    if not allowed:
        raise AccessDenied(reason, audit_seq=record.seq)
    return Grant(
        organisation=decision.organisation,
        purpose=decision.purpose,
        action=decision.action,
        datasets=tuple(sources),
        basis=dict(decision.basis),
        audit_seq=record.seq,
        granted_at=record.at,
        conditions=tuple(sorted(decision.conditions)),
        organisation_id=decision.organisation_id,
    )
