"""Read a clkhash v3 linkage schema (JSON) as an :class:`EncodingSchema`.

Partners used to anonlink/clkhash can bring the schema they agreed on. What carries over
is the layout: which identifiers are encoded, the filter length (``clkConfig.l``, rounded
up to a multiple of 64) and the bits per token (our k), and ``blakeHash`` as keyed BLAKE2b.
What does not: clkhash builds one record-level CLK with HMAC-SHA1/MD5 double hashing and
its own KDF salt; sectorlink builds one filter per field with HKDF-derived per-field keys
and HMAC-SHA256 (or BLAKE2b), so the encodings are not bit-compatible with clkhash's, and
both partners must encode with sectorlink.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sectorlink.pprl.schema import (
    MAX_K,
    SCHEMA_FORMAT,
    EncodingSchema,
    SchemaError,
    load_schema,
    schema_from_dict,
)
from sectorlink.pprl.tokens import FIELD_TOKENS

# Words in a clkhash feature identifier that name our fields. A full name fills both
# names (standardisation splits it); sex travels as the keyed token tok_sex, no filter.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("given_name", "family_name"),
    "fullname": ("given_name", "family_name"),
    "sex": (),
    "gender": (),
    "given": ("given_name",),
    "first": ("given_name",),
    "firstname": ("given_name",),
    "forename": ("given_name",),
    "givenname": ("given_name",),
    "family": ("family_name",),
    "surname": ("family_name",),
    "last": ("family_name",),
    "lastname": ("family_name",),
    "familyname": ("family_name",),
    "middle": ("middle_names",),
    "dob": ("birth_date",),
    "birth": ("birth_date",),
    "birthdate": ("birth_date",),
    "dateofbirth": ("birth_date",),
    "yob": ("birth_year",),
    "postcode": ("postcode",),
    "zip": ("postcode",),
    "zipcode": ("postcode",),
    "address": ("address",),
    "street": ("address",),
    "phone": ("phone",),
    "telephone": ("phone",),
    "email": ("email",),
}
# Tokens per value assumed when a feature gives bitsPerFeature instead of bitsPerToken.
TYPICAL_TOKENS = 8


def _fields_for(identifier: str, field_map: dict[str, str]) -> tuple[str, ...] | None:
    if identifier in field_map:
        return (field_map[identifier],)
    words = re.findall(r"[a-z]+", identifier.lower())
    joined = "".join(words)
    for candidate in (joined, "_".join(words), *words):
        if candidate in FIELD_TOKENS:
            return (candidate,)
        if candidate in SYNONYMS:
            return SYNONYMS[candidate]
    return None


def _k(hashing: dict[str, Any], where: str, file: Path | None) -> int:
    strategy = hashing.get("strategy") or {}
    if "bitsPerToken" in strategy:
        k = int(strategy["bitsPerToken"])
    elif "bitsPerFeature" in strategy:
        k = round(int(strategy["bitsPerFeature"]) / TYPICAL_TOKENS)
    else:
        raise SchemaError(
            "hashing.strategy needs bitsPerToken or bitsPerFeature", file=file, key=where
        )
    return max(1, min(MAX_K, k))


def import_clkhash_schema(
    source: Path | str | dict[str, Any],
    *,
    field_map: dict[str, str] | None = None,
    name: str | None = None,
) -> EncodingSchema:
    """An encoding schema from a clkhash v3 linkage schema (a path or the parsed JSON).

    `field_map` maps a feature's ``identifier`` to one of our fields where the name does
    not say (e.g. ``{"NAME freetext": "given_name"}``); ignored features are skipped. The
    exact tokens are those of the default schema.
    """
    file = None if isinstance(source, dict) else Path(source)
    if file is not None:
        try:
            data = json.loads(file.read_text())
        except (OSError, UnicodeDecodeError) as exc:
            raise SchemaError(f"cannot read the clkhash schema: {exc}", file=file) from None
        except json.JSONDecodeError as exc:
            raise SchemaError(f"not valid JSON (line {exc.lineno})", file=file) from None
    else:
        data = source
    if not isinstance(data, dict) or data.get("version") != 3:
        raise SchemaError(
            "only clkhash linkage schemas of version 3 are read", file=file, key="version"
        )
    config = data.get("clkConfig") or {}
    length = config.get("l")
    if not isinstance(length, int) or length <= 0:
        raise SchemaError(
            "clkConfig.l must be a positive whole number", file=file, key="clkConfig.l"
        )
    bits = -(-length // 64) * 64
    field_map = field_map or {}
    fields: dict[str, dict[str, Any]] = {}
    hashes: set[str] = set()
    for i, feature in enumerate(data.get("features") or []):
        identifier = str(feature.get("identifier", ""))
        where = f"features[{i}] ({identifier})"
        if feature.get("ignored"):
            continue
        targets = _fields_for(identifier, field_map)
        if targets is None or any(t not in FIELD_TOKENS for t in targets):
            raise SchemaError(
                f"no sectorlink field for this feature; pass field_map={{{identifier!r}: "
                f"<one of {sorted(FIELD_TOKENS)}>}}",
                file=file,
                key=where,
            )
        hashing = feature.get("hashing") or {}
        hashes.add(str((hashing.get("hash") or {}).get("type", "doubleHash")))
        k = _k(hashing, where, file)
        for target in targets:
            # two features on one field: keep the larger k
            fields[target] = {"bits": bits, "k": max(k, fields.get(target, {}).get("k", 0))}
    if not fields:
        raise SchemaError("the clkhash schema encodes no feature", file=file, key="features")
    return schema_from_dict(
        {
            "format": SCHEMA_FORMAT,
            "name": name or f"clkhash-import{'-' + file.stem if file else ''}",
            "hash": "blake2b" if hashes == {"blakeHash"} else "hmac-sha256",
            "fields": fields,
            "tokens": list(load_schema(None).tokens),
        },
        file,
    )
