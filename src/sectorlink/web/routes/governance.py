"""Access checks through the API, and the audit log (admins only)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query

from sectorlink.governance import authorise, read_audit_log, verify_audit_log
from sectorlink.governance.events import EVENT_TYPES
from sectorlink.registry.settings import disclosure_minimum, set_disclosure_minimum
from sectorlink.web.deps import Admin, Analyst, RegistryDep, SessionDep, Viewer, acting_organisation
from sectorlink.web.schemas import (
    AccessRequest,
    AuditEntryPublic,
    AuditVerificationPublic,
    DisclosureMinimumPublic,
    GrantPublic,
    Problem,
)

router = APIRouter(tags=["governance"])
EventType = Enum("EventType", {name.replace("-", "_"): name for name in EVENT_TYPES}, type=str)  # type: ignore[misc]


@router.post("/access-checks", response_model=GrantPublic, responses={403: {"model": Problem}})
def access_check(body: AccessRequest, user: Analyst, registry: RegistryDep) -> GrantPublic:
    """Ask whether your organisation may use these data sets for this purpose.

    Allowed or refused, the request is written to the audit log; a refusal answers 403
    with the reason.
    """
    grant = authorise(
        registry,
        organisation=acting_organisation(user, body.organisation),
        purpose=body.purpose,
        datasets=body.datasets,
        action=body.action,
        actor=user.username,
        detail={"via": "api"},
    )
    return GrantPublic(
        organisation=grant.organisation,
        purpose=grant.purpose,
        action=grant.action,
        datasets=list(grant.datasets),
        basis=dict(grant.basis),
        conditions=list(grant.conditions),
        audit_seq=grant.audit_seq,
    )


@router.get("/settings/disclosure-minimum", response_model=DisclosureMinimumPublic)
def get_disclosure_minimum(_: Viewer, session: SessionDep) -> DisclosureMinimumPublic:
    """The region's minimum disclosure threshold: custom profiles may not go below it."""
    return DisclosureMinimumPublic(min_count=disclosure_minimum(session))


@router.put("/settings/disclosure-minimum", response_model=DisclosureMinimumPublic)
def put_disclosure_minimum(
    body: DisclosureMinimumPublic, _: Admin, session: SessionDep
) -> DisclosureMinimumPublic:
    """Set the minimum threshold (admins only; audited with the value before and after)."""
    return DisclosureMinimumPublic(min_count=set_disclosure_minimum(session, body.min_count))


@router.get("/audit", response_model=list[AuditEntryPublic])
def audit(
    _: Admin,
    registry: RegistryDep,
    after_seq: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[EventType | None, Query(description="Only events of this type")] = None,
) -> list[AuditEntryPublic]:
    """Audit entries in order; `type` keeps one kind of event (access, release, ...)."""
    return [
        AuditEntryPublic(
            seq=e.seq,
            at=e.at,
            event=e.event,
            actor=e.actor,
            organisation=e.organisation,
            organisation_id=e.organisation_id,
            action=e.action,
            purpose=e.purpose,
            datasets=list(e.datasets),
            outcome=e.outcome,
            reason=e.reason,
            entry_hash=e.entry_hash,
        )
        for e in read_audit_log(
            registry, after_seq=after_seq, limit=limit, type=type.value if type else None
        )
    ]


@router.get("/audit/verify", response_model=AuditVerificationPublic)
def audit_verify(
    _: Admin,
    registry: RegistryDep,
    expected_head: Annotated[str | None, Query(pattern=r"^[0-9]{1,10}:[0-9a-f]{64}$")] = None,
) -> AuditVerificationPublic:
    """Re-compute the hash chain; `ok` is false if any entry was edited, removed or moved."""
    report = verify_audit_log(registry, expected_head=expected_head)
    return AuditVerificationPublic(
        ok=report.ok, entries=report.entries, head=report.head, problems=report.problems
    )
