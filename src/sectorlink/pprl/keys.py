"""The linkage key: one shared secret, with a separate key derived for every purpose.

Partners that link with each other hold the same secret; the hub never does. Each use
(a Bloom-filter field, an exact-token group, the schema fingerprint, a permutation)
gets its own key through HKDF-SHA256 (RFC 5869), so a key recovered for one purpose says
nothing about the others. The secret never appears in a repr, a log line or an error.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import NoReturn

DEFAULT_ENV = "SECTORLINK_PPRL_KEY"
MIN_KEY_BYTES = 16
# A fixed, public salt: HKDF's extract step then only spreads the secret's entropy;
# separation between uses comes from the `info` (purpose) string.
_HKDF_SALT = b"sectorlink-pprl/1"


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF with SHA-256 (RFC 5869): extract, then expand to `length` bytes."""
    return _expand(hmac.digest(salt, ikm, "sha256"), info, length)


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    if length > 255 * 32:
        raise ValueError("HKDF-SHA256 cannot derive more than 8160 bytes")
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        out += block
        counter += 1
    return out[:length]


class PPRLKeyError(Exception):
    """The linkage key is missing or unusable. The message never contains the key."""


class LinkageKey:
    """An opaque linkage secret. Derive per-purpose keys with :meth:`derive`."""

    __slots__ = ("_prk",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_KEY_BYTES:
            raise PPRLKeyError(
                f"the linkage key is too short ({len(secret)} bytes); it needs at least "
                f"{MIN_KEY_BYTES} bytes, e.g. python -c 'import secrets; "
                "print(secrets.token_hex(32))' > key"
            )
        # Only the HKDF pseudo-random key is kept, not the secret itself.
        self._prk = hmac.digest(_HKDF_SALT, secret, "sha256")

    @classmethod
    def from_bytes(cls, secret: bytes) -> LinkageKey:
        """A key from raw secret bytes (tests, benchmarks, callers holding the secret)."""
        return cls(secret)

    def derive(self, purpose: str, length: int = 32) -> bytes:
        """HKDF-SHA256 expand: a key of `length` bytes for `purpose` alone."""
        return _expand(self._prk, purpose.encode(), length)

    def __repr__(self) -> str:
        return "LinkageKey(<secret hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # Pickling would write the key material wherever the pickle goes.
        raise TypeError("a LinkageKey cannot be pickled")


def load_key(key_file: Path | None = None, env: str = DEFAULT_ENV) -> LinkageKey:
    """The linkage key from `key_file`, or else from the environment variable `env`.

    The file (or variable) holds the secret as text, e.g. 64 hex characters; surrounding
    whitespace is ignored. Raises :class:`PPRLKeyError` when there is no key, the file
    cannot be read, or the key is empty or shorter than 16 bytes.
    """
    if key_file is not None:
        path = Path(key_file)
        if not path.exists():
            raise PPRLKeyError(f"key file {path} not found")
        if path.is_dir():
            raise PPRLKeyError(f"key file {path} is a folder; give the key file itself")
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise PPRLKeyError(f"cannot read key file {path}: {exc.strerror}") from None
        where = f"key file {path}"
    else:
        value = os.environ.get(env)
        if value is None:
            raise PPRLKeyError(f"no linkage key: give --key-file or set the {env} variable")
        secret = value.strip().encode()
        where = f"the {env} variable"
    if not secret:
        raise PPRLKeyError(f"{where} is empty")
    if len(secret) < MIN_KEY_BYTES:
        raise PPRLKeyError(
            f"{where} holds a key of {len(secret)} bytes; at least {MIN_KEY_BYTES} are needed"
        )
    return LinkageKey(secret)


def key_file_exposed(path: Path) -> bool:
    """Whether users other than the owner may read the key file (it should be chmod 600)."""
    try:
        return bool(Path(path).stat().st_mode & 0o077)
    except OSError:
        return False


def keyed_digest(key: bytes, message: bytes, algorithm: str) -> bytes:
    """A keyed 32-byte digest: HMAC-SHA256, or BLAKE2b in its keyed mode."""
    if algorithm == "blake2b":
        return hashlib.blake2b(message, key=key, digest_size=32).digest()
    return hmac.digest(key, message, "sha256")
