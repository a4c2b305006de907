"""Settings of the web app, from the environment, refusing unsafe ones.

* `SECTORLINK_ENV` (default `development`): `development` or `test` allow the built-in
  secret; anything else (`production`) refuses to start without a real one.
* `SECTORLINK_SECRET_KEY`: keys the stored hashes of API tokens; outside development at
  least 32 characters with at least 128 bits of estimated entropy, and nothing derived
  from the built-in development secret.
* `SECTORLINK_REGISTRY_URL` (default `sqlite:///sectorlink-registry.db`): the registry.
* `SECTORLINK_TOKEN_DAYS` (default 30): how long an issued API token lasts.
"""

from __future__ import annotations

import difflib
import math
import os
from collections import Counter
from dataclasses import dataclass

DEVELOPMENT_SECRET = "sectorlink-development-secret-do-not-use-in-production"
RELAXED_ENVIRONMENTS = ("development", "test")
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128  # estimated from the characters' spread, see `secret_bits`
DEVELOPMENT_WARNING = (
    "DEVELOPMENT MODE: SECTORLINK_ENV is not set, so the app signs tokens with the built-in "
    "development secret, which is public (it is in the source): anyone who can reach "
    "this server can be trusted only as far as that allows. Set SECTORLINK_ENV=production "
    "and a random SECTORLINK_SECRET_KEY before serving anyone else."
)


def secret_bits(secret: str) -> float:
    """A cautious estimate of a secret's entropy: its length times the Shannon entropy of
    its characters (32 spaces: 0 bits; 48 characters of token_urlsafe: about 250)."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * len(secret)


def weak_secret_reason(secret: str) -> str | None:
    """Why `secret` is not fit for production, or None."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it is shorter than {MIN_SECRET_LENGTH} characters"
    if secret_bits(secret) < MIN_SECRET_BITS:
        return (
            f"it has too little entropy (about {secret_bits(secret):.0f} bits, at least "
            f"{MIN_SECRET_BITS} needed): use a random one"
        )
    folded = secret.strip().lower()
    shipped = DEVELOPMENT_SECRET.lower()
    similar = difflib.SequenceMatcher(None, folded, shipped).find_longest_match()
    if shipped in folded or similar.size >= 16:
        return "it is derived from the built-in development secret, which is public"
    return None


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
        why = weak_secret_reason(self.secret_key)
        if why is not None:
            raise InsecureSettings(
                f"SECTORLINK_SECRET_KEY is not fit for {self.environment!r}: {why} (make one "
                "with python -c 'import secrets; print(secrets.token_urlsafe(48))'); it must "
                f"be at least {MIN_SECRET_LENGTH} characters"
            )
