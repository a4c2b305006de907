"""Care-coordination alerts through the API: a homelessness provider lists its own alerts
and acknowledges them. Another organisation's alerts are refused (403) and the refusal is
audited; every list is audited too. The warehouse is the hub's (`SECTORLINK_WAREHOUSE`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path as FilePath
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from pydantic import BaseModel

from sectorlink.governance import append_audit_entry
from sectorlink.insights.homelessness import store
from sectorlink.insights.homelessness.agreements import PURPOSE
from sectorlink.insights.homelessness.delivery import list_for_provider, message
from sectorlink.registry.models import User
from sectorlink.registry.vocab import name_key
from sectorlink.web.deps import Partner, RegistryDep
from sectorlink.web.schemas import Problem

router = APIRouter(tags=["alerts"])

OrganisationName = Annotated[
    str, Path(min_length=1, max_length=300, description="The provider's organisation name")
]
AlertId = Annotated[str, Path(pattern=r"^AL-[0-9a-f]{20}$", description="The alert's id (AL-...)")]


class AlertPublic(BaseModel):
    """An alert as its provider sees it: its own client id and the attendance's hospital,
    arrival time and category; nothing else of the health record."""

    alert_id: str
    kind: str
    client_id: str
    hospital: str | None
    arrival_time: str
    category: str | None
    created_at: str
    acknowledged_at: str | None
    withdrawn_at: str | None
    withdrawn_reason: str | None


def _public(row: dict[str, Any]) -> AlertPublic:
    fields = message(row)
    acknowledged = row.get("acknowledged_at")
    fields["acknowledged_at"] = (
        None if acknowledged is None or pd.isna(acknowledged) else acknowledged.isoformat()
    )
    return AlertPublic(**fields)


def _warehouse(request: Request) -> FilePath:
    hub = getattr(request.app.state, "hub", None)
    warehouse = getattr(hub, "warehouse", None)
    if warehouse is None or not FilePath(warehouse).is_file():
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="the hub's warehouse is not configured (set SECTORLINK_WAREHOUSE)",
        )
    return FilePath(warehouse)


def _own(user: User, organisation: str, registry: RegistryDep, what: str) -> str:
    """The organisation, when it is the user's own; otherwise 403, audited. Alerts are
    person-level: not even an admin reads another organisation's."""
    own = user.organisation.name if user.organisation else None
    if own is None or name_key(own) != name_key(organisation):
        record = append_audit_entry(
            registry,
            actor=user.username,
            organisation=own or "(none)",
            action="export",
            purpose=PURPOSE,
            datasets=[],
            outcome="refused",
            reason=f"{what}: the alerts of {organisation!r} belong to that organisation "
            f"only; the user is of {own or 'no organisation'}",
            detail={"via": "api", "asked_for": organisation},
        )
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"you may read only your own organisation's alerts ({own or 'none'}); "
            f"refusal audited as entry {record.seq}",
        )
    return own


@router.get(
    "/alerts/{organisation}",
    response_model=list[AlertPublic],
    responses={403: {"model": Problem}, 503: {"model": Problem}},
)
def list_alerts(
    organisation: OrganisationName,
    user: Partner,
    registry: RegistryDep,
    request: Request,
    since: Annotated[dt.date | None, Query(description="Attendances from this day")] = None,
    include_withdrawn: Annotated[bool, Query()] = True,
) -> list[AlertPublic]:
    """Your organisation's alerts, oldest attendance first; listing one delivers it."""
    own = _own(user, organisation, registry, "list alerts")
    rows = list_for_provider(
        _warehouse(request),
        registry,
        own,
        actor=user.username,
        via="API",
        since=since,
        include_withdrawn=include_withdrawn,
    )
    return [_public(r) for r in rows.to_dict("records")]


@router.post(
    "/alerts/{organisation}/{alert_id}/acknowledge",
    response_model=AlertPublic,
    responses={403: {"model": Problem}, 404: {"model": Problem}, 409: {"model": Problem}},
)
def acknowledge_alert(
    organisation: OrganisationName,
    alert_id: AlertId,
    user: Partner,
    registry: RegistryDep,
    request: Request,
) -> AlertPublic:
    """Acknowledge one of your organisation's alerts (a caseworker has picked it up)."""
    own = _own(user, organisation, registry, "acknowledge an alert")
    try:
        row = store.acknowledge(_warehouse(request), own, alert_id, by=user.username)
    except store.AlertNotFound as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(missing)) from None
    except store.AlertWithdrawn as withdrawn:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(withdrawn)) from None
    return _public(row)
