"""People who sign in to the hub's API: users, roles, passwords and API tokens.

Passwords are hashed with Argon2id (argon2-cffi). API tokens are random 256-bit strings
shown once; the registry keeps only an HMAC-SHA256 of each, keyed by the app's secret, so
a stolen database copy yields no usable token and a token is worthless without the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sectorlink.registry.errors import Duplicate, InvalidInput
from sectorlink.registry.lookup import flush_unique, organisation_by_name
from sectorlink.registry.models import ApiToken, User, utcnow
from sectorlink.registry.vocab import clean_text, name_key

# Ordered: each role can do everything the ones before it can.
ROLES: tuple[str, ...] = ("viewer", "partner", "analyst", "admin")
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "slk_"

_hasher = PasswordHasher()


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def normalise_role(role: str) -> str:
    folded = role.strip().lower()
    if folded not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}")
    return folded


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    organisation: str | None = None,
) -> User:
    """Add a user. A partner must belong to an organisation (whose data sets it may edit)."""
    clean = clean_text(username, "username", max_length=100)
    if session.scalar(select(User).where(User.username_key == name_key(clean))) is not None:
        raise Duplicate(f"user {clean!r} already exists")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    chosen_role = normalise_role(role)
    org = organisation_by_name(session, organisation) if organisation else None
    if chosen_role == "partner" and org is None:
        raise InvalidInput("a partner user must belong to an organisation")
    user = User(
        username=clean,
        username_key=name_key(clean),
        password_hash=_hasher.hash(password),
        role=chosen_role,
        organisation=org,
    )
    session.add(user)
    flush_unique(session, f"user {clean!r} already exists")
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None (never says which part was wrong)."""
    user = (
        None
        if "\x00" in username
        else session.scalar(select(User).where(User.username_key == name_key(username)))
    )
    if user is None or not user.active:
        # Hash anyway so a missing user takes as long as a wrong password.
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = _hasher.hash(password)


def _token_hash(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def issue_token(
    session: Session,
    user: User,
    *,
    secret: str,
    label: str = "",
    lifetime: dt.timedelta | None = dt.timedelta(days=30),
) -> str:
    """A new bearer token for `user`. Only its keyed hash is stored: show it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user=user,
            token_hash=_token_hash(token, secret),
            label=label[:100],
            expires_at=utcnow() + lifetime if lifetime else None,
        )
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str, *, secret: str) -> User | None:
    """The active user a current, unrevoked token belongs to, else None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    found = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token, secret))
    )
    if found is None or found.revoked:
        return None
    if found.expires_at is not None:
        expires = found.expires_at
        if expires.tzinfo is None:  # SQLite hands back naive datetimes
            expires = expires.replace(tzinfo=dt.UTC)
        if expires <= utcnow():
            return None
    return found.user if found.user.active else None


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke every token of `user`; returns how many were live."""
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
    )
    count = 0
    for token in tokens:
        token.revoked = True
        count += 1
    return count


def revoke_token(session: Session, token: str, *, secret: str) -> bool:
    """Revoke one token (signing out); True when it was live. Audited as a registry
    change (token revoked) like every write."""
    found = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token, secret))
    )
    if found is None or found.revoked:
        return False
    found.revoked = True
    session.flush()
    return True


def set_active(session: Session, user: User, active: bool) -> int:
    """Deactivate (or reactivate) a user; deactivating revokes every token it holds.
    Returns how many tokens were revoked."""
    user.active = active
    revoked = revoke_tokens(session, user) if not active else 0
    session.flush()
    return revoked


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username_key)))
