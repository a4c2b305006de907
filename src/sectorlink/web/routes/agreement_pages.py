"""Agreements in the browser: a list, a page per agreement (parties, data sets, purposes,
conditions, validity, and what was done under it from the audit log), and forms for admins
to create and edit one, with each validation error shown beside its field."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sectorlink.governance import read_audit_log
from sectorlink.registry import agreements as lib
from sectorlink.registry.errors import Duplicate, InvalidInput, NotFound
from sectorlink.registry.lookup import by_id
from sectorlink.registry.models import Agreement
from sectorlink.registry.vocab import CONDITIONS, PARTY_ROLES, normalise_purpose
from sectorlink.web.deps import RegistryDep
from sectorlink.web.protection import CsrfChecked
from sectorlink.web.routes.hub_pages import PageUser, _needs, _page

router = APIRouter(include_in_schema=False)


def _view(agreement: Agreement) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "reference": agreement.reference,
        "title": agreement.title,
        "parties": lib.agreement_party_names(agreement),
        "datasets": lib.agreement_sources(agreement),
        "purposes": list(agreement.purposes),
        "conditions": list(agreement.conditions),
        "legal_basis": agreement.legal_basis,
        "valid_from": agreement.valid_from,
        "valid_to": agreement.valid_to,
        "notes": agreement.notes,
        "revoked": agreement.revoked,
        "state": lib.agreement_state(agreement, dt.date.today()),
    }


@router.get("/agreements/page", response_class=HTMLResponse)
def agreements_page(request: Request, user: PageUser, registry: RegistryDep) -> Response:
    viewer = _needs(user, "viewer")
    with registry.session() as session:
        rows = [_view(a) for a in lib.list_agreements(session)]
    return _page(request, "agreements.html", viewer, title="Agreements", agreements=rows)


@router.get("/agreements/{id:int}/page", response_class=HTMLResponse)
def agreement_page(id: int, request: Request, user: PageUser, registry: RegistryDep) -> Response:
    viewer = _needs(user, "viewer")
    with registry.session() as session:
        view = _view(by_id(session, Agreement, id, "agreement"))
    # What was done under it: access decisions whose basis names this agreement.
    used = [
        e
        for e in read_audit_log(registry, limit=1_000_000)
        if view["reference"] in {str(v) for v in dict(e.detail.get("basis") or {}).values()}
    ]
    return _page(
        request,
        "agreement.html",
        viewer,
        title=f"Agreement {view['reference']}",
        agreement=view,
        used=list(reversed(used))[:200],
        used_count=len(used),
    )


_FIELDS = (
    "reference", "title", "parties", "datasets", "purposes", "legal_basis", "valid_from",
    "valid_to", "notes",
)  # fmt: skip


def _form(
    request: Request,
    user: Any,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    action: str,
    editing: bool,
    code: int = 200,
) -> Response:
    response = _page(
        request,
        "agreement_form.html",
        user,
        title="Edit agreement" if editing else "New agreement",
        values=values,
        errors=errors,
        action=action,
        editing=editing,
        all_conditions=CONDITIONS,
        roles=PARTY_ROLES,
    )
    response.status_code = code
    return response


def _parse(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The form's text as the library's arguments; each problem noted against its field."""
    parsed: dict[str, Any] = {}
    parties: dict[str, str] = {}
    for number, line in enumerate(str(values["parties"]).splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, role = line.rpartition(":")
        if not sep or not name.strip() or role.strip().lower() not in PARTY_ROLES:
            errors["parties"] = (
                f"line {number}: write 'Organisation name: role' with role one of "
                + ", ".join(PARTY_ROLES)
            )
            break
        parties[name.strip()] = role.strip().lower()
    if not parties and "parties" not in errors:
        errors["parties"] = "an agreement needs at least one party"
    parsed["parties"] = parties
    parsed["datasets"] = [s for s in str(values["datasets"]).replace(",", " ").split() if s]
    if not parsed["datasets"]:
        errors["datasets"] = "name at least one data set (its source, e.g. ae_northgate)"
    purposes = [p.strip() for p in str(values["purposes"]).split(",") if p.strip()]
    for purpose in purposes:
        try:
            normalise_purpose(purpose)
        except InvalidInput as problem:
            errors["purposes"] = str(problem)
    if not purposes:
        errors["purposes"] = "name at least one purpose (e.g. analysis)"
    parsed["purposes"] = purposes
    for name in ("valid_from", "valid_to"):
        try:
            parsed[name] = dt.date.fromisoformat(str(values[name]))
        except ValueError:
            errors[name] = f"a date is written YYYY-MM-DD, not {values[name]!r}"
    if (
        "valid_from" in parsed
        and "valid_to" in parsed
        and parsed["valid_to"] < parsed["valid_from"]
    ):
        errors["valid_to"] = "the agreement ends before it starts"
    for name in ("title", "legal_basis", "notes"):
        parsed[name] = str(values[name])
    parsed["conditions"] = [c for c in values["conditions"] if c in CONDITIONS]
    return parsed


def _field_of(message: str) -> str:
    """Which field a library error is about, from what it names."""
    lowered = message.lower()
    for field, words in (
        ("parties", ("organisation", "party")),
        ("datasets", ("data set", "dataset", "source")),
        ("purposes", ("purpose",)),
        ("reference", ("reference", "already exists")),
    ):
        if any(w in lowered for w in words):
            return field
    return "form"


@router.get("/agreements/new/page", response_class=HTMLResponse)
def new_agreement_form(request: Request, user: PageUser) -> Response:
    admin = _needs(user, "admin")
    values = {f: "" for f in _FIELDS} | {"conditions": ["aggregate_outputs_only"]}
    return _form(
        request, admin, values=values, errors={}, action="/agreements/new/page", editing=False
    )


@router.post("/agreements/new/page", response_class=HTMLResponse)
def create_agreement_form(
    request: Request,
    user: PageUser,
    registry: RegistryDep,
    _: CsrfChecked,
    reference: Annotated[str, Form(max_length=100)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
    parties: Annotated[str, Form(max_length=5000)] = "",
    datasets: Annotated[str, Form(max_length=5000)] = "",
    purposes: Annotated[str, Form(max_length=2000)] = "",
    legal_basis: Annotated[str, Form(max_length=5000)] = "",
    valid_from: Annotated[str, Form(max_length=20)] = "",
    valid_to: Annotated[str, Form(max_length=20)] = "",
    notes: Annotated[str, Form(max_length=20000)] = "",
    conditions: Annotated[list[str] | None, Form()] = None,
) -> Response:
    admin = _needs(user, "admin")
    values = {
        "reference": reference, "title": title, "parties": parties, "datasets": datasets,
        "purposes": purposes, "legal_basis": legal_basis, "valid_from": valid_from,
        "valid_to": valid_to, "notes": notes, "conditions": conditions or [],
    }  # fmt: skip
    errors: dict[str, str] = {}
    if not reference.strip():
        errors["reference"] = "give the agreement its reference (e.g. DSA-2026-004)"
    parsed = _parse(values, errors)
    if not errors:
        try:
            with registry.session(actor=f"{admin.username} (web)") as session:
                created = lib.create_agreement(session, reference=reference, **parsed)
                new_id = created.id
            return RedirectResponse(f"/agreements/{new_id}/page", status_code=303)
        except (InvalidInput, Duplicate, NotFound) as problem:
            errors[_field_of(str(problem))] = str(problem)
    return _form(
        request,
        admin,
        values=values,
        errors=errors,
        action="/agreements/new/page",
        editing=False,
        code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


@router.get("/agreements/{id:int}/edit", response_class=HTMLResponse)
def edit_agreement_form(
    id: int, request: Request, user: PageUser, registry: RegistryDep
) -> Response:
    admin = _needs(user, "admin")
    with registry.session() as session:
        view = _view(by_id(session, Agreement, id, "agreement"))
    values = {
        **view,
        "parties": "\n".join(f"{n}: {r}" for n, r in view["parties"].items()),
        "datasets": " ".join(view["datasets"]),
        "purposes": ", ".join(view["purposes"]),
    }
    return _form(
        request, admin, values=values, errors={}, action=f"/agreements/{id}/edit", editing=True
    )


@router.post("/agreements/{id:int}/edit", response_class=HTMLResponse)
def update_agreement_form(
    id: int,
    request: Request,
    user: PageUser,
    registry: RegistryDep,
    _: CsrfChecked,
    title: Annotated[str, Form(max_length=300)] = "",
    parties: Annotated[str, Form(max_length=5000)] = "",
    datasets: Annotated[str, Form(max_length=5000)] = "",
    purposes: Annotated[str, Form(max_length=2000)] = "",
    legal_basis: Annotated[str, Form(max_length=5000)] = "",
    valid_from: Annotated[str, Form(max_length=20)] = "",
    valid_to: Annotated[str, Form(max_length=20)] = "",
    notes: Annotated[str, Form(max_length=20000)] = "",
    conditions: Annotated[list[str] | None, Form()] = None,
    revoked: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    admin = _needs(user, "admin")
    with registry.session() as session:
        reference = by_id(session, Agreement, id, "agreement").reference
    values = {
        "reference": reference, "title": title, "parties": parties, "datasets": datasets,
        "purposes": purposes, "legal_basis": legal_basis, "valid_from": valid_from,
        "valid_to": valid_to, "notes": notes, "conditions": conditions or [],
        "revoked": bool(revoked),
    }  # fmt: skip
    errors: dict[str, str] = {}
    parsed = _parse(values, errors)
    if not errors:
        try:
            with registry.session(actor=f"{admin.username} (web)") as session:
                agreement = by_id(session, Agreement, id, "agreement")
                lib.update_agreement(session, agreement, {**parsed, "revoked": bool(revoked)})
            return RedirectResponse(f"/agreements/{id}/page", status_code=303)
        except (InvalidInput, Duplicate, NotFound) as problem:
            errors[_field_of(str(problem))] = str(problem)
    return _form(
        request,
        admin,
        values=values,
        errors=errors,
        action=f"/agreements/{id}/edit",
        editing=True,
        code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
