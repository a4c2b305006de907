"""The FastAPI application: the registry's REST API (OpenAPI at /docs) and a few pages."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import sectorlink
from sectorlink.governance import AccessDenied
from sectorlink.registry.db import Registry
from sectorlink.registry.errors import Duplicate, InvalidInput, NotFound
from sectorlink.web import pages
from sectorlink.web.routes import agreements, auth, directory, explore, governance
from sectorlink.web.settings import Settings

DESCRIPTION = """The directory of data-sharing efforts, agreements and the audit log.

Sign in with `POST /auth/token` (form fields `username`, `password`) and send the token
as `Authorization: Bearer <token>`. Roles, each including the ones before it:
viewer (read the directory), partner (edit its own organisation's data sets),
analyst (add and edit entries, ask for access), admin (agreements, users, audit log).
"""


def _problem(status: int):  # type: ignore[no-untyped-def]
    async def handler(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status)

    return handler


async def _access_denied(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AccessDenied)
    return JSONResponse({"detail": error.reason, "audit_seq": error.audit_seq}, status_code=403)


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> FastAPI:
    """Build the app. Raises `InsecureSettings` outside development with a default secret.

    Args:
        settings: defaults to `Settings.from_env()`.
        registry: defaults to opening (and migrating) `settings.registry_url`.
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
    app.add_exception_handler(NotFound, _problem(404))
    app.add_exception_handler(Duplicate, _problem(409))
    app.add_exception_handler(InvalidInput, _problem(422))
    app.add_exception_handler(AccessDenied, _access_denied)

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for module in (auth, directory, agreements, explore, governance, pages):
        app.include_router(module.router)
    return app
