"""Data sharing agreements: who may use which data sets, for what, and until when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sectorlink.registry.errors import Duplicate, InvalidInput
from sectorlink.registry.lookup import dataset_by_source, flush_unique, organisation_by_name
from sectorlink.registry.models import Agreement, AgreementDataset, AgreementParty
from sectorlink.registry.vocab import (
    PARTY_ROLES,
    clean_text,
    name_key,
    normalise_condition,
    normalise_purpose,
)


def _check_period(reference: str, valid_from: dt.date, valid_to: dt.date) -> None:
    if valid_to < valid_from:
        raise InvalidInput(
            f"agreement {reference!r} ends ({valid_to.isoformat()}) before it starts "
            f"({valid_from.isoformat()})"
        )


def _parties(
    session: Session, parties: Mapping[str, str], current: Sequence[AgreementParty] = ()
) -> list[AgreementParty]:
    if not parties:
        raise InvalidInput("an agreement needs at least one party")
    result: list[AgreementParty] = []
    seen: set[int] = set()
    for name, role in parties.items():
        if role not in PARTY_ROLES:
            raise InvalidInput(
                f"unknown party role {role!r} for {name!r}; expected one of {PARTY_ROLES}"
            )
        organisation = organisation_by_name(session, name)
        if organisation.id in seen:
            raise Duplicate(f"organisation {organisation.name!r} is named twice as a party")
        seen.add(organisation.id)
        # Reuse an existing row (the unique key would see a new one before the old goes).
        party = next((p for p in current if p.organisation_id == organisation.id), None)
        if party is None:
            party = AgreementParty(organisation=organisation, role=role)
        party.role = role
        result.append(party)
    return result


def _datasets(
    session: Session, sources: Sequence[str], current: Sequence[AgreementDataset] = ()
) -> list[AgreementDataset]:
    if not sources:
        raise InvalidInput("an agreement must name at least one data set")
    found = {d.id: d for d in (dataset_by_source(session, s) for s in sources)}
    existing = {link.dataset_id: link for link in current}
    return [existing.get(i) or AgreementDataset(dataset=d) for i, d in found.items()]


def _purposes(purposes: Sequence[str]) -> list[str]:
    cleaned = sorted({normalise_purpose(p) for p in purposes})
    if not cleaned:
        raise InvalidInput("an agreement must permit at least one purpose")
    return cleaned


def create_agreement(
    session: Session,
    *,
    reference: str,
    parties: Mapping[str, str],
    datasets: Sequence[str],
    purposes: Sequence[str],
    valid_from: dt.date,
    valid_to: dt.date,
    title: str = "",
    legal_basis: str = "",
    conditions: Sequence[str] = (),
    notes: str = "",
) -> Agreement:
    """Record a data sharing agreement.

    Args:
        reference: the agreement's own reference (unique, e.g. "DSA-2025-004").
        parties: organisation name -> role ("provider", "recipient" or "processor").
        datasets: the `source` names of the data sets shared.
        purposes: permitted purposes; `analysis` also permits `analysis/<anything>`.
        conditions: codes from `vocab.CONDITIONS` the library enforces.

    Example:
        >>> create_agreement(session, reference="DSA-1", parties={"Northgate Hospital NHS"
        ...     " Trust": "provider", "Regional Analytics Hub": "recipient"},
        ...     datasets=["ae_northgate"], purposes=["linkage", "analysis"],
        ...     valid_from=date(2025, 1, 1), valid_to=date(2027, 12, 31))
    """
    clean = clean_text(reference, "agreement reference", max_length=100)
    if session.scalar(select(Agreement).where(Agreement.reference_key == name_key(clean))):
        raise Duplicate(f"agreement {clean!r} already exists")
    _check_period(clean, valid_from, valid_to)
    agreement = Agreement(
        reference=clean,
        reference_key=name_key(clean),
        title=clean_text(title, "title") if title.strip() else "",
        legal_basis=clean_text(legal_basis, "legal basis", max_length=5000)
        if legal_basis.strip()
        else "",
        valid_from=valid_from,
        valid_to=valid_to,
        purposes=_purposes(purposes),
        conditions=sorted({normalise_condition(c) for c in conditions}),
        notes=clean_text(notes, "notes", max_length=20_000) if notes.strip() else "",
    )
    agreement.parties = _parties(session, parties)
    agreement.dataset_links = _datasets(session, datasets)
    session.add(agreement)
    flush_unique(session, f"agreement {clean!r} already exists")
    return agreement


def update_agreement(
    session: Session, agreement: Agreement, changes: Mapping[str, Any]
) -> Agreement:
    """Change an agreement (dates, purposes, parties, data sets, conditions, revoked)."""
    known = {
        "title", "legal_basis", "notes", "valid_from", "valid_to", "purposes", "conditions",
        "parties", "datasets", "revoked",
    }  # fmt: skip
    unknown = sorted(set(changes) - known)
    if unknown:
        raise InvalidInput(f"cannot update {', '.join(unknown)} of an agreement")
    valid_from = changes.get("valid_from", agreement.valid_from)
    valid_to = changes.get("valid_to", agreement.valid_to)
    _check_period(agreement.reference, valid_from, valid_to)
    agreement.valid_from, agreement.valid_to = valid_from, valid_to
    for key in ("title", "legal_basis", "notes"):
        if key in changes:
            value = changes[key] or ""
            setattr(
                agreement, key, clean_text(value, key, max_length=20_000) if value.strip() else ""
            )
    if "purposes" in changes:
        agreement.purposes = _purposes(changes["purposes"])
    if "conditions" in changes:
        agreement.conditions = sorted({normalise_condition(c) for c in changes["conditions"]})
    if "revoked" in changes:
        agreement.revoked = bool(changes["revoked"])
    if "parties" in changes:
        agreement.parties = _parties(session, changes["parties"], agreement.parties)
    if "datasets" in changes:
        agreement.dataset_links = _datasets(session, changes["datasets"], agreement.dataset_links)
    session.flush()
    return agreement


def agreement_state(agreement: Agreement, on: dt.date) -> str:
    """`current`, `revoked`, `expired` (ended before `on`) or `not yet valid`."""
    if agreement.revoked:
        return "revoked"
    if on > agreement.valid_to:
        return "expired"
    if on < agreement.valid_from:
        return "not yet valid"
    return "current"


def list_agreements(session: Session) -> list[Agreement]:
    return list(session.scalars(select(Agreement).order_by(Agreement.reference_key)))


def agreement_sources(agreement: Agreement) -> list[str]:
    return [link.dataset.source for link in agreement.dataset_links]


def agreement_party_names(agreement: Agreement) -> dict[str, str]:
    return {party.organisation.name: party.role for party in agreement.parties}
