"""Browser-facing protections, in one place: security headers on every response, and a
CSRF token on every form.

CSRF uses the double-submit pattern: a random token in an HttpOnly, SameSite=Strict cookie
(`sectorlink_csrf`), copied by the page into each form's hidden `csrf_token` field; a
form post whose field does not match its cookie is refused with 403 before the handler
runs. The API (bearer tokens, no cookies) is not exposed to CSRF and does not need it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request, Response, status

CSRF_COOKIE = "sectorlink_csrf"
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def csrf_token(request: Request) -> str:
    """The request's CSRF token (from its cookie, or a new one the response will set)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)


async def protect(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Middleware: security headers on every response; the CSRF cookie where a page made one."""
    response = await call_next(request)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    new = getattr(request.state, "new_csrf", None)
    if new and not request.cookies.get(CSRF_COOKIE):
        settings = getattr(request.app.state, "settings", None)
        response.set_cookie(
            CSRF_COOKIE,
            new,
            httponly=True,
            samesite="strict",
            secure=not (settings.development if settings else True),
        )
    return response


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Dependency for every form post: the field must match the cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="the form's CSRF token is missing or does not match: reload the page",
        )


CsrfChecked = Annotated[None, Depends(check_csrf)]
