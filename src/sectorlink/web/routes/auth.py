"""Signing in: API tokens for a username and password; users (admin only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from sectorlink.registry.users import authenticate, create_user, issue_token, list_users
from sectorlink.web.deps import Admin, SessionDep, SettingsDep, Viewer
from sectorlink.web.schemas import TokenPublic, UserCreate, UserPublic

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenPublic)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPublic:
    """Exchange a username and password (form fields) for a bearer token."""
    user = authenticate(session, form.username, form.password)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong username or password")
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
