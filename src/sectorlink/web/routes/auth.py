"""Signing in: API tokens for a username and password; users (admin only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, OAuth2PasswordRequestForm

from sectorlink.registry.lookup import by_id
from sectorlink.registry.models import User
from sectorlink.registry.signin import SignInRefused, sign_in
from sectorlink.registry.users import (
    create_user,
    issue_token,
    list_users,
    revoke_token,
    revoke_tokens,
    set_active,
)
from sectorlink.web.deps import (
    Admin,
    ItemId,
    RegistryDep,
    SessionDep,
    SettingsDep,
    Viewer,
    bearer,
)
from sectorlink.web.schemas import RevokedPublic, TokenPublic, UserCreate, UserPublic

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenPublic)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    registry: RegistryDep,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPublic:
    """Exchange a username and password (form fields) for a bearer token.

    After 5 failures for one account, or 20 from one address, within 15 minutes, sign-in
    answers 429 until the window passes (the lock is audited).
    """
    address = request.client.host if request.client else "unknown"
    try:
        user_id = sign_in(registry, form.username, form.password, address=address)
    except SignInRefused as refused:
        code = status.HTTP_429_TOO_MANY_REQUESTS if refused.locked else 401
        raise HTTPException(code, detail=str(refused)) from None
    user = by_id(session, User, user_id, "user")
    token = issue_token(
        session,
        user,
        secret=settings.secret_key,
        label="login",
        lifetime=dt.timedelta(days=settings.token_days),
    )
    return TokenPublic(access_token=token, expires_in_days=settings.token_days)


@router.get("/auth/me", response_model=UserPublic)
def me(user: Viewer) -> UserPublic:
    return UserPublic.of(user)


@router.get("/users", response_model=list[UserPublic])
def users(_: Admin, session: SessionDep) -> list[UserPublic]:
    return [UserPublic.of(u) for u in list_users(session)]


@router.post("/users", response_model=UserPublic, status_code=201)
def add_user(body: UserCreate, _: Admin, session: SessionDep) -> UserPublic:
    return UserPublic.of(create_user(session, **body.model_dump()))


@router.post("/auth/sign-out", response_model=RevokedPublic)
def sign_out(
    user: Viewer,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> RevokedPublic:
    """Revoke the token this request was sent with; it no longer signs anyone in."""
    assert credentials is not None  # `Viewer` has checked it
    revoked = revoke_token(session, credentials.credentials, secret=settings.secret_key)
    return RevokedPublic(username=user.username, tokens_revoked=int(revoked), active=user.active)


@router.post("/users/{id}/deactivate", response_model=RevokedPublic)
def deactivate_user(id: ItemId, admin: Admin, session: SessionDep) -> RevokedPublic:
    """Stop a user signing in, and revoke every token it holds (audited)."""
    user = by_id(session, User, id, "user")
    if user.id == admin.id:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="you cannot deactivate yourself")
    revoked = set_active(session, user, False)
    return RevokedPublic(username=user.username, tokens_revoked=revoked, active=False)


@router.post("/users/{id}/activate", response_model=RevokedPublic)
def activate_user(id: ItemId, _: Admin, session: SessionDep) -> RevokedPublic:
    user = by_id(session, User, id, "user")
    set_active(session, user, True)
    return RevokedPublic(username=user.username, tokens_revoked=0, active=True)


@router.post("/users/{id}/revoke-tokens", response_model=RevokedPublic)
def revoke_user_tokens(id: ItemId, _: Admin, session: SessionDep) -> RevokedPublic:
    """Revoke every token of a user (it stays active and can sign in again)."""
    user = by_id(session, User, id, "user")
    revoked = revoke_tokens(session, user)
    session.flush()
    return RevokedPublic(username=user.username, tokens_revoked=revoked, active=user.active)
