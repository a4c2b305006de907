"""The encoding schema: fields, filter lengths, hash, exact tokens and hardening.

Both partners encode with the same schema file. Its keyed fingerprint goes into every
output so the hub can refuse to mix encodings made with different schemas or keys.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sectorlink.pprl.keys import LinkageKey
from sectorlink.pprl.tokens import EXACT_TOKENS, FIELD_TOKENS, SALT_COLUMNS

SCHEMA_FORMAT = "sectorlink-pprl-schema/1"
DEFAULT_SCHEMA = Path(__file__).with_name("default_schema.yaml")
HASHES = ("hmac-sha256", "blake2b")
MAX_K = 64
MAX_DIFFUSION_T = 16


class SchemaError(Exception):
    """The encoding schema is not valid; says which file and which key."""

    def __init__(self, message: str, *, file: Path | None = None, key: str | None = None) -> None:
        where = ", ".join(p for p in (str(file) if file else None, key) if p)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Hardening:
    """Optional hardening of one field's Bloom filter, applied in this order:
    salt (at hashing), balance, xor_fold, diffusion."""

    balance: bool = False
    xor_fold: bool = False
    salt: str | None = None
    diffusion: int = 0
    """t, the number of input bits XORed into each output bit; 0 = no diffusion layer."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def output_bits(self, bits: int) -> int:
        out = bits * 2 if self.balance else bits
        return out // 2 if self.xor_fold else out


@dataclass(frozen=True)
class FieldSpec:
    name: str
    bits: int
    k: int
    hardening: Hardening = field(default_factory=Hardening)

    @property
    def output_bits(self) -> int:
        """Length of the encoded filter after hardening (a multiple of 64)."""
        return self.hardening.output_bits(self.bits)

    def to_dict(self) -> dict[str, Any]:
        return {"bits": self.bits, "k": self.k, "hardening": self.hardening.to_dict()}


@dataclass(frozen=True)
class EncodingSchema:
    name: str
    hash: str
    fields: dict[str, FieldSpec]
    tokens: tuple[str, ...]
    format: str = SCHEMA_FORMAT

    def to_dict(self) -> dict[str, Any]:
        """The canonical content of the schema (what the fingerprint covers)."""
        return {
            "format": self.format,
            "name": self.name,
            "hash": self.hash,
            "fields": {n: f.to_dict() for n, f in self.fields.items()},
            "tokens": list(self.tokens),
        }

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def fingerprint(self, key: LinkageKey) -> str:
        """Keyed HMAC-SHA256 of the canonical schema: differs for another key or schema."""
        return hmac.digest(
            key.derive("fingerprint"), self.canonical_json().encode(), "sha256"
        ).hex()

    def with_hardening(
        self,
        *,
        balance: bool | None = None,
        xor_fold: bool | None = None,
        salt: str | None = None,
        diffusion: int | None = None,
        fields: list[str] | None = None,
    ) -> EncodingSchema:
        """A copy with the given hardening options set on `fields` (default: all)."""
        changes: dict[str, Any] = {}
        if balance is not None:
            changes["balance"] = balance
        if xor_fold is not None:
            changes["xor_fold"] = xor_fold
        if salt is not None:
            changes["salt"] = salt or None
        if diffusion is not None:
            changes["diffusion"] = diffusion
        chosen = set(self.fields if fields is None else fields)
        new_fields = {
            n: (
                dataclasses.replace(f, hardening=dataclasses.replace(f.hardening, **changes))
                if n in chosen
                else f
            )
            for n, f in self.fields.items()
        }
        schema = dataclasses.replace(self, fields=new_fields)
        _validate(schema, None)
        return schema

    def with_fields(self, names: list[str]) -> EncodingSchema:
        """A copy encoding only the Bloom-filter fields `names`."""
        return dataclasses.replace(self, fields={n: self.fields[n] for n in names})


def _hardening(raw: Any, base: Hardening, file: Path | None, key: str) -> Hardening:
    if raw is None:
        return base
    if not isinstance(raw, dict):
        raise SchemaError("hardening must be a mapping", file=file, key=key)
    allowed = {f.name for f in dataclasses.fields(Hardening)}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise SchemaError(
            f"unknown hardening option(s) {unknown}; known: {sorted(allowed)}", file=file, key=key
        )
    values = base.to_dict()
    values.update(raw)
    for flag in ("balance", "xor_fold"):
        if not isinstance(values[flag], bool):
            raise SchemaError(f"{flag} must be true or false", file=file, key=key)
    diffusion = values["diffusion"]
    if diffusion is None or diffusion is False:
        values["diffusion"] = 0
    elif not isinstance(diffusion, int) or isinstance(diffusion, bool):
        raise SchemaError("diffusion must be a whole number t (bits per XOR)", file=file, key=key)
    if values["salt"] is not None and not isinstance(values["salt"], str):
        raise SchemaError("salt must be the name of a standardised column", file=file, key=key)
    return Hardening(**values)


def _validate(schema: EncodingSchema, file: Path | None) -> None:
    if schema.format != SCHEMA_FORMAT:
        raise SchemaError(f"format must be {SCHEMA_FORMAT!r}", file=file, key="format")
    if schema.hash not in HASHES:
        raise SchemaError(f"hash must be one of {list(HASHES)}", file=file, key="hash")
    if not schema.fields and not schema.tokens:
        raise SchemaError("the schema encodes nothing (no fields, no tokens)", file=file)
    for name, f in schema.fields.items():
        where = f"fields.{name}"
        if name not in FIELD_TOKENS:
            raise SchemaError(
                f"unknown field {name!r}; known: {sorted(FIELD_TOKENS)}", file=file, key=where
            )
        if f.bits <= 0 or f.bits % 64:
            raise SchemaError("bits must be a positive multiple of 64", file=file, key=where)
        if not 1 <= f.k <= MAX_K:
            raise SchemaError(f"k must be between 1 and {MAX_K}", file=file, key=where)
        h = f.hardening
        if h.xor_fold and h.output_bits(f.bits) % 64:
            raise SchemaError(
                "xor_fold halves the filter, so bits (after balancing) must be a multiple of 128",
                file=file,
                key=where,
            )
        if h.salt is not None and h.salt not in SALT_COLUMNS:
            raise SchemaError(
                f"salt {h.salt!r} is not a stable attribute; use one of {list(SALT_COLUMNS)}",
                file=file,
                key=where,
            )
        if not 0 <= h.diffusion <= MAX_DIFFUSION_T:
            raise SchemaError(
                f"diffusion t must be between 0 (off) and {MAX_DIFFUSION_T}", file=file, key=where
            )
    for token in schema.tokens:
        if token not in EXACT_TOKENS:
            raise SchemaError(
                f"unknown token {token!r}; known: {sorted(EXACT_TOKENS)}", file=file, key="tokens"
            )
    if len(set(schema.tokens)) != len(schema.tokens):
        raise SchemaError("a token is listed twice", file=file, key="tokens")


def _int(raw: Any, file: Path | None, key: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise SchemaError("must be a whole number", file=file, key=key)
    return raw


def schema_from_dict(data: Any, file: Path | None = None) -> EncodingSchema:
    """Build and validate a schema from its parsed YAML/JSON content."""
    if not isinstance(data, dict):
        raise SchemaError("the schema must be a mapping", file=file)
    known = {"format", "name", "hash", "hardening", "fields", "tokens"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SchemaError(f"unknown key(s) {unknown}; known: {sorted(known)}", file=file)
    base = _hardening(data.get("hardening") or {}, Hardening(), file, "hardening")
    raw_fields = data.get("fields") or {}
    if not isinstance(raw_fields, dict):
        raise SchemaError("fields must be a mapping of field name to settings", file=file)
    fields: dict[str, FieldSpec] = {}
    for name, raw in raw_fields.items():
        where = f"fields.{name}"
        if not isinstance(raw, dict):
            raise SchemaError(
                "a field needs its settings: {bits: ..., k: ...}", file=file, key=where
            )
        extra = sorted(set(raw) - {"bits", "k", "hardening"})
        if extra:
            raise SchemaError(f"unknown setting(s) {extra}", file=file, key=where)
        if "bits" not in raw or "k" not in raw:
            raise SchemaError("a field needs bits and k", file=file, key=where)
        fields[str(name)] = FieldSpec(
            name=str(name),
            bits=_int(raw["bits"], file, f"{where}.bits"),
            k=_int(raw["k"], file, f"{where}.k"),
            hardening=_hardening(raw.get("hardening"), base, file, f"{where}.hardening"),
        )
    tokens = data.get("tokens") or []
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise SchemaError("tokens must be a list of token names", file=file, key="tokens")
    schema = EncodingSchema(
        name=str(data.get("name") or "unnamed"),
        hash=str(data.get("hash", "hmac-sha256")),
        fields=fields,
        tokens=tuple(tokens),
        format=str(data.get("format", "")),
    )
    _validate(schema, file)
    return schema


def load_schema(path: Path | None = None) -> EncodingSchema:
    """Read an encoding schema (YAML); None reads the shipped default schema."""
    file = DEFAULT_SCHEMA if path is None else Path(path)
    if not file.exists():
        raise SchemaError("schema file not found", file=file)
    if file.is_dir():
        raise SchemaError("this is a folder; give the schema file itself", file=file)
    try:
        data = yaml.safe_load(file.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read the schema: {exc}", file=file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise SchemaError(f"not valid YAML{line}", file=file) from None
    return schema_from_dict(data, file)
