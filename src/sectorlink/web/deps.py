"""Dependencies: one per concern, so route handlers stay short and never check inline.

* `SessionDep` - a registry session per request, committed when the handler returns.
* `RegistryDep`, `SettingsDep` - the app's registry and settings.
* `current_user` - the user behind an `Authorization: Bearer` token (the API) or the
  login cookie (HTML pages only, which never change anything, so no CSRF exposure).
* `require(role)` - the one role check: viewer < partner < analyst < admin. `Viewer`,
  `Partner`, `Analyst` and `Admin` are ready-made annotated types for handlers.
* `EditableDataset` - a data set the caller may edit: analysts and admins any, a
  partner only its own organisation's.
* `acting_organisation` - the organisation an access-check request acts for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from sectorlink.registry.changes import ACTOR_INFO
from sectorlink.registry.db import Registry
from sectorlink.registry.lookup import dataset_by_source
from sectorlink.registry.models import Dataset, User
from sectorlink.registry.users import role_at_least, user_for_token
from sectorlink.web.settings import Settings

COOKIE_NAME = "sectorlink_token"
MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; larger ids cannot exist

bearer = HTTPBearer(auto_error=False, description="An API token from POST /auth/token")


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


RegistryDep = Annotated[Registry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(registry: RegistryDep) -> Iterator[Session]:
    with registry.session() as session:
        yield session


# "function" scope: commit when the handler returns, before the response is sent, so a
# failed commit becomes an error response rather than a success that did not happen.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"}
    )


def current_user(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None:
        raise _unauthorised("not signed in: send Authorization: Bearer <token>")
    user = user_for_token(session, credentials.credentials, secret=settings.secret_key)
    if user is None:
        raise _unauthorised("the token is unknown, expired or revoked")
    # Every registry write in this request is audited under the signed-in user.
    session.info[ACTOR_INFO] = f"{user.username} (api)"
    return user


def page_user(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    """The signed-in user of an HTML page (cookie or bearer), or None."""
    token = request.cookies.get(COOKIE_NAME, "")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    return user_for_token(session, token, secret=settings.secret_key) if token else None


def require(role: str) -> Callable[[User], User]:
    """A dependency admitting users whose role is `role` or above."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not role_at_least(user.role, role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this needs the {role} role or above; you are {user.role}",
            )
        return user

    check.__name__ = f"require_{role}"
    return check


Viewer = Annotated[User, Depends(require("viewer"))]
Partner = Annotated[User, Depends(require("partner"))]
Analyst = Annotated[User, Depends(require("analyst"))]
Admin = Annotated[User, Depends(require("admin"))]

ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="The entry's id")]
Source = Annotated[
    str, Path(min_length=1, max_length=100, description="The data set's source name")
]


def editable_dataset(source: Source, user: Partner, session: SessionDep) -> Dataset:
    dataset = dataset_by_source(session, source)
    if not role_at_least(user.role, "analyst") and dataset.owner_id != user.organisation_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"a partner may edit only its own organisation's data sets; "
            f"{dataset.source!r} belongs to {dataset.owner.name!r}",
        )
    return dataset


EditableDataset = Annotated[Dataset, Depends(editable_dataset)]


def acting_organisation(user: User, requested: str | None) -> str:
    """Users act for their own organisation; only an admin may name another."""
    own = user.organisation.name if user.organisation else None
    if requested is None:
        if own is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail="name the requesting organisation (your account belongs to none)",
            )
        return own
    if user.role != "admin" and (own is None or requested.strip().casefold() != own.casefold()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"you may request access only for your own organisation ({own or 'none'})",
        )
    return requested
