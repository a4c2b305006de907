"""Signing in with a rate limit, by account and by address, and an audited lock.

Every attempt is kept (`login_attempt`, in its own transaction, so a refused attempt is
counted even though the request fails). Within `WINDOW`, `ACCOUNT_LIMIT` failures for one
account, or `ADDRESS_LIMIT` from one address, lock further attempts until the window has
passed, whether or not the password is right; the failure that sets the lock writes an
`auth` audit entry naming the account and address.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from sectorlink.registry.auditchain import append_in, entry_values
from sectorlink.registry.db import Registry
from sectorlink.registry.models import LoginAttempt, utcnow
from sectorlink.registry.users import authenticate
from sectorlink.registry.vocab import name_key

WINDOW = dt.timedelta(minutes=15)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20


class SignInRefused(PermissionError):
    """A wrong username or password, or a lock (`locked` True) after too many failures."""

    def __init__(self, message: str, *, locked: bool) -> None:
        super().__init__(message)
        self.locked = locked


def _failures(
    registry: Registry, since: dt.datetime, *, account: str, address: str
) -> tuple[int, int]:
    with registry.session() as session:

        def count(*where: object) -> int:
            query = (
                select(func.count())
                .select_from(LoginAttempt)
                .where(
                    LoginAttempt.succeeded.is_(False),
                    LoginAttempt.at >= since,
                    *where,  # type: ignore[arg-type]
                )
            )
            return int(session.scalar(query) or 0)

        return (
            count(LoginAttempt.username_key == account),
            count(LoginAttempt.address == address),
        )


def sign_in(registry: Registry, username: str, password: str, *, address: str) -> int:
    """The id of the user with this password, or `SignInRefused` saying why not."""
    account = name_key(username.replace("\x00", ""))[:100]
    address = (address or "unknown")[:100]
    now = utcnow()
    by_account, by_address = _failures(registry, now - WINDOW, account=account, address=address)
    minutes = int(WINDOW.total_seconds() // 60)
    if by_account >= ACCOUNT_LIMIT or by_address >= ADDRESS_LIMIT:
        what = "this account" if by_account >= ACCOUNT_LIMIT else "this address"
        raise SignInRefused(
            f"too many failed sign-ins for {what}: locked for up to {minutes} minutes "
            "(an admin can see the lock in the audit log)",
            locked=True,
        )
    with registry.session() as session:
        user = authenticate(session, username, password)
        user_id = user.id if user is not None else None
    with registry.session(actor=f"{username[:100]} (sign-in)") as session:
        session.add(
            LoginAttempt(
                username_key=account, address=address, at=now, succeeded=user_id is not None
            )
        )
        if user_id is None and (by_account + 1 == ACCOUNT_LIMIT or by_address + 1 == ADDRESS_LIMIT):
            which = "account" if by_account + 1 == ACCOUNT_LIMIT else "address"
            append_in(
                session,
                entry_values(
                    event="auth",
                    actor=f"{username[:100]} (sign-in)",
                    organisation="",
                    organisation_id=None,
                    action="sign-in locked",
                    purpose="security",
                    datasets=[],
                    outcome="refused",
                    reason=f"{which} locked for {minutes} minutes after "
                    f"{ACCOUNT_LIMIT if which == 'account' else ADDRESS_LIMIT} failed sign-ins",
                    detail={"account": account, "address": address},
                ),
                registry.audit_key(),
            )
    if user_id is None:
        raise SignInRefused("wrong username or password", locked=False)
    return user_id
