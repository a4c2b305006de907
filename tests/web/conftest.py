"""Web fixtures: an app over a fresh registry (SQLite and PostgreSQL) with one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from sectorlink.registry import Registry, create_dataset, create_organisation
from sectorlink.registry.models import User
from sectorlink.registry.testing import (  # noqa: F401  (fixtures, found by name)
    _postgres_worker,
    _sqlite_template,
    postgres_registry,
    registry,
    sample_region,
    sqlite_registry,
)
from sectorlink.registry.users import issue_token
from sectorlink.web import Settings, create_app

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery staple"
# Hashing once keeps the suite fast: Argon2 is slow by design.
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)
HUB = "Regional Analytics Hub"
HOSPITAL = "Northgate Hospital NHS Trust"


@dataclass
class Api:
    client: TestClient
    registry: Registry
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, url: str, role: str = "viewer", **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.headers(role), **kwargs)  # type: ignore[arg-type]

    def post(self, url: str, role: str = "analyst", **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.post(url, headers=self.headers(role), **kwargs)  # type: ignore[arg-type]

    def patch(self, url: str, role: str = "analyst", **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.patch(url, headers=self.headers(role), **kwargs)  # type: ignore[arg-type]


def seed_users(registry: Registry) -> dict[str, str]:  # noqa: F811
    """Organisations, one data set, and a user (with a token) for each role."""
    tokens = {}
    with registry.session() as s:
        hub = create_organisation(s, name=HUB, sector="research and analytics")
        hospital = create_organisation(s, name=HOSPITAL, sector="health care")
        create_dataset(s, source="ae_northgate", owner=HOSPITAL, fields=[("event", "start_time")])
        orgs = {"admin": hub, "analyst": hub, "partner": hospital, "viewer": None}
        for role, org in orgs.items():
            user = User(
                username=role,
                username_key=role,
                password_hash=PASSWORD_HASH,
                role=role,
                organisation=org,
            )
            s.add(user)
            s.flush()
            tokens[role] = issue_token(s, user, secret=SECRET)
    return tokens


@pytest.fixture
def api(registry: Registry) -> Iterator[Api]:  # noqa: F811
    tokens = seed_users(registry)
    app = create_app(Settings(environment="test", secret_key=SECRET), registry=registry)
    with TestClient(app) as client:
        yield Api(client, registry, tokens)


def detail(response: Any) -> str:
    """The error message of a response: library errors and FastAPI's validation errors
    (a list of {loc, msg, type}) alike."""
    body = response.json()["detail"]
    return body if isinstance(body, str) else "; ".join(item["msg"] for item in body)
