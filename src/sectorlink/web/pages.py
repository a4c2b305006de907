"""A few HTML pages: search, a project with its connections, the printable directory,
and a sign-in form. Every page needs a signed-in user (cookie or bearer token) and none
changes the registry, so the login cookie cannot be abused across sites."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sectorlink.registry.connections import find_connections
from sectorlink.registry.errors import InvalidInput
from sectorlink.registry.lookup import by_id
from sectorlink.registry.models import Project, User
from sectorlink.registry.printable import directory_html
from sectorlink.registry.search import search_directory
from sectorlink.registry.signin import SignInRefused, sign_in
from sectorlink.registry.users import issue_token, revoke_token
from sectorlink.registry.vocab import PROJECT_STATUSES, SECTORS
from sectorlink.web.deps import (
    COOKIE_NAME,
    ItemId,
    RegistryDep,
    SessionDep,
    SettingsDep,
    page_user,
)
from sectorlink.web.protection import CsrfChecked, csrf_token
from sectorlink.web.schemas import ProjectPublic

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["csrf_token"] = csrf_token
router = APIRouter(include_in_schema=False)
PageUser = Annotated[User | None, Depends(page_user)]


def _sign_in() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    user: PageUser,
    session: SessionDep,
    q: str = "",
    sector: str = "",
    geography: str = "",
    population: str = "",
    status: str = "",
) -> Response:
    if user is None:
        return _sign_in()
    error, hits = "", []
    try:
        hits = search_directory(
            session,
            q[:500],
            sector=sector or None,
            geography=geography[:300] or None,
            population=population[:300] or None,
            status=status or None,
        )
    except InvalidInput as problem:
        error = str(problem)
    context = {
        "title": "Directory of data-sharing efforts",
        "user": user,
        "q": q,
        "sector": sector,
        "geography": geography,
        "population": population,
        "status": status,
        "statuses": PROJECT_STATUSES,
        "sectors": SECTORS,
        "hits": hits,
        "error": error,
    }
    return templates.TemplateResponse(request, "home.html", context)


@router.get("/projects/{id}/page", response_class=HTMLResponse)
def project_page(id: ItemId, request: Request, user: PageUser, session: SessionDep) -> Response:
    if user is None:
        return _sign_in()
    project = by_id(session, Project, id, "project")
    context = {
        "title": project.name,
        "user": user,
        "project": ProjectPublic.of(project),
        "connections": find_connections(session, project),
    }
    return templates.TemplateResponse(request, "project.html", context)


@router.get("/directory", response_class=HTMLResponse)
def printable(user: PageUser, session: SessionDep) -> Response:
    if user is None:
        return _sign_in()
    return HTMLResponse(directory_html(session))


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"title": "Sign in", "user": None, "error": ""}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    registry: RegistryDep,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    _: CsrfChecked,
) -> Response:
    address = request.client.host if request.client else "unknown"
    try:
        user = by_id(session, User, sign_in(registry, username, password, address=address), "user")
    except SignInRefused as refused:
        message = str(refused)[0].upper() + str(refused)[1:] + "."
        context = {"title": "Sign in", "user": None, "error": message}
        code = 429 if refused.locked else 401
        return templates.TemplateResponse(request, "login.html", context, status_code=code)
    lifetime = dt.timedelta(days=settings.token_days)
    token = issue_token(session, user, secret=settings.secret_key, label="web", lifetime=lifetime)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=not settings.development,
    )
    return response


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, settings: SettingsDep, _: CsrfChecked
) -> Response:
    """Sign out: the cookie's token is revoked, not just forgotten by this browser."""
    token = request.cookies.get(COOKIE_NAME, "")
    if token:
        revoke_token(session, token, secret=settings.secret_key)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME)
    return response
