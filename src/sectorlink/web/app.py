"""The FastAPI application: the registry's REST API (OpenAPI at /docs) and a few pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

import sectorlink
from sectorlink.governance import AccessDenied
from sectorlink.registry.db import Registry
from sectorlink.registry.errors import Duplicate, InvalidInput, NotFound
from sectorlink.web import pages
from sectorlink.web.hubpaths import HubPaths
from sectorlink.web.protection import protect
from sectorlink.web.routes import (
    agreement_pages,
    agreements,
    alert_pages,
    auth,
    directory,
    directory_pages,
    explore,
    extract_pages,
    governance,
    hub_pages,
    vulnerability_pages,
)
from sectorlink.web.routes import alerts as alert_routes
from sectorlink.web.routes import lead as lead_routes
from sectorlink.web.routes import vulnerability as vulnerability_routes
from sectorlink.web.schemas import Problem
from sectorlink.web.settings import Settings

DESCRIPTION = """The directory of data-sharing efforts, agreements and the audit log.

Sign in with `POST /auth/token` (form fields `username`, `password`) and send the token
as `Authorization: Bearer <token>`. Roles, each including the ones before it:
viewer (read the directory), partner (edit its own organisation's data sets),
analyst (add and edit entries, ask for access), admin (agreements, users, audit log).
"""


# Errors the library raises, as HTTP answers. Each names what is wrong.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in, or the token is not valid"},
    403: {"model": Problem, "description": "Your role or organisation may not do this"},
    404: {"model": Problem, "description": "An entry named in the request does not exist"},
    409: {"model": Problem, "description": "An entry with that name already exists"},
}


def _problem(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handler(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status)

    return handler


async def _invalid(_: Request, error: Exception) -> JSONResponse:
    # The same shape as FastAPI's own validation errors, so clients read one format.
    detail = [{"loc": ["body"], "msg": str(error), "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)


async def _access_denied(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AccessDenied)
    return JSONResponse({"detail": error.reason, "audit_seq": error.audit_seq}, status_code=403)


async def _sign_in_first(_: Request, __: Exception) -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def create_app(
    settings: Settings | None = None,
    registry: Registry | None = None,
    hub: HubPaths | None = None,
) -> FastAPI:
    """Build the app. Raises `InsecureSettings` outside development with a default secret.

    Args:
        settings: defaults to `Settings.from_env()`.
        registry: defaults to opening (and migrating) `settings.registry_url`.
        hub: the warehouse and releases the pages read; defaults to `HubPaths.from_env()`.
    """
    settings = settings or Settings.from_env()
    settings.check()
    app = FastAPI(
        title="sectorlink registry",
        version=sectorlink.__version__,
        description=DESCRIPTION,
    )
    app.state.settings = settings
    app.state.registry = registry or Registry.open(settings.registry_url)
    app.state.hub = hub or HubPaths.from_env()
    app.middleware("http")(protect)
    app.add_exception_handler(hub_pages.SignInFirst, _sign_in_first)
    app.add_exception_handler(NotFound, _problem(404))
    app.add_exception_handler(Duplicate, _problem(409))
    app.add_exception_handler(InvalidInput, _invalid)
    app.add_exception_handler(AccessDenied, _access_denied)

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # Pages whose paths the API's /agreements/{id} would otherwise take.
    app.include_router(agreement_pages.router)
    app.include_router(directory_pages.router)
    app.include_router(alert_pages.router)
    app.include_router(vulnerability_pages.router)
    for module in (auth, directory, agreements, explore, governance):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.include_router(vulnerability_routes.router, responses=ERROR_RESPONSES)
    app.include_router(pages.router)
    app.include_router(hub_pages.router)
    app.include_router(extract_pages.router)
    app.include_router(lead_routes.router, responses=ERROR_RESPONSES)
    app.include_router(alert_routes.router, responses=ERROR_RESPONSES)
    return app
