"""The caseworker's inbox: their own organisation's care-coordination alerts, newest
first, with a button to acknowledge each. The page holds no organisation in its URL, so
it can show only the signed-in user's own; listing is audited as the API's list is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sectorlink.insights.homelessness import store
from sectorlink.insights.homelessness.delivery import list_for_provider
from sectorlink.web.deps import RegistryDep
from sectorlink.web.protection import CsrfChecked
from sectorlink.web.routes.alerts import _public, _warehouse
from sectorlink.web.routes.hub_pages import PageUser, _needs, _page

router = APIRouter(include_in_schema=False)
AlertId = Annotated[str, Path(pattern=r"^AL-[0-9a-f]{20}$")]


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, user: PageUser, registry: RegistryDep) -> Response:
    caseworker = _needs(user, "partner")
    if caseworker.organisation is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="alerts go to an organisation; you belong to none"
        )
    own = caseworker.organisation.name
    rows = list_for_provider(
        _warehouse(request), registry, own, actor=caseworker.username, via="web inbox"
    )
    alerts = [_public(r) for r in rows.to_dict("records")]
    alerts.sort(key=lambda a: a.arrival_time, reverse=True)
    new = [a for a in alerts if a.acknowledged_at is None and a.withdrawn_at is None]
    return _page(
        request,
        "inbox.html",
        caseworker,
        title=f"Alerts for {own}",
        alerts=alerts,
        new=len(new),
        message=request.query_params.get("message", ""),
    )


@router.post("/inbox/{alert_id}/acknowledge")
def acknowledge(alert_id: AlertId, request: Request, user: PageUser, _: CsrfChecked) -> Response:
    caseworker = _needs(user, "partner")
    own = caseworker.organisation.name if caseworker.organisation else ""
    try:
        store.acknowledge(_warehouse(request), own, alert_id, by=caseworker.username)
    except store.AlertNotFound as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(missing)) from None
    except store.AlertWithdrawn as withdrawn:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(withdrawn)) from None
    return RedirectResponse(f"/inbox?message=acknowledged {alert_id}", status_code=303)
