"""Data sharing agreements: anyone signed in reads them; only admins change them."""

from __future__ import annotations

from fastapi import APIRouter

from sectorlink.registry import agreements as lib
from sectorlink.registry.lookup import by_id
from sectorlink.registry.models import Agreement
from sectorlink.web.deps import Admin, ItemId, SessionDep, Viewer
from sectorlink.web.schemas import AgreementCreate, AgreementPublic, AgreementUpdate

router = APIRouter(tags=["agreements"])


@router.get("/agreements", response_model=list[AgreementPublic])
def agreements(_: Viewer, session: SessionDep) -> list[AgreementPublic]:
    return [AgreementPublic.of(a) for a in lib.list_agreements(session)]


@router.post("/agreements", response_model=AgreementPublic, status_code=201)
def create_agreement(body: AgreementCreate, _: Admin, session: SessionDep) -> AgreementPublic:
    return AgreementPublic.of(lib.create_agreement(session, **body.model_dump()))


@router.get("/agreements/{id}", response_model=AgreementPublic)
def agreement(id: ItemId, _: Viewer, session: SessionDep) -> AgreementPublic:
    return AgreementPublic.of(by_id(session, Agreement, id, "agreement"))


@router.patch("/agreements/{id}", response_model=AgreementPublic)
def update_agreement(
    id: ItemId, body: AgreementUpdate, _: Admin, session: SessionDep
) -> AgreementPublic:
    agreement = by_id(session, Agreement, id, "agreement")
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return AgreementPublic.of(lib.update_agreement(session, agreement, changes))
