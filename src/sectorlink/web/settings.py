"""Settings of the web app, from the environment, refusing unsafe ones.

* `SECTORLINK_ENV` (default `development`): `development` or `test` allow the built-in
  secret; anything else (`production`) refuses to start without a real one.
* `SECTORLINK_SECRET_KEY`: keys the stored hashes of API tokens; at least 32 characters
  outside development.
* `SECTORLINK_REGISTRY_URL` (default `sqlite:///sectorlink-registry.db`): the registry.
* `SECTORLINK_TOKEN_DAYS` (default 30): how long an issued API token lasts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEVELOPMENT_SECRET = "sectorlink-development-secret-do-not-use-in-production"
RELAXED_ENVIRONMENTS = ("development", "test")
MIN_SECRET_LENGTH = 32


class InsecureSettings(RuntimeError):
    """The app was asked to run outside development with a default or weak secret."""


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    secret_key: str = DEVELOPMENT_SECRET
    registry_url: str | None = None
    token_days: int = 30

    @classmethod
    def from_env(cls) -> Settings:
        days = os.environ.get("SECTORLINK_TOKEN_DAYS", "30")
        if not days.isdigit() or int(days) < 1:
            raise InsecureSettings(
                f"SECTORLINK_TOKEN_DAYS must be a positive whole number, not {days!r}"
            )
        return cls(
            environment=os.environ.get("SECTORLINK_ENV", "development").strip().lower(),
            secret_key=os.environ.get("SECTORLINK_SECRET_KEY", DEVELOPMENT_SECRET),
            registry_url=os.environ.get("SECTORLINK_REGISTRY_URL") or None,
            token_days=int(days),
        )

    @property
    def development(self) -> bool:
        return self.environment in RELAXED_ENVIRONMENTS

    def check(self) -> None:
        """Raise `InsecureSettings` unless these settings are safe to serve with."""
        if self.development:
            return
        if self.secret_key == DEVELOPMENT_SECRET:
            raise InsecureSettings(
                f"refusing to start in {self.environment!r} with the built-in development secret: "
                "set SECTORLINK_SECRET_KEY (e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            raise InsecureSettings(
                f"SECTORLINK_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters "
                f"in {self.environment!r}"
            )
