"""SQL that turns the standardised relation into the tokens each encoding is made of.

Bloom-filter fields: one list of tokens per record (``FIELD_TOKENS``), unnested into
(row, token) pairs so each distinct token is hashed once. Exact tokens: one value per
record (``EXACT_TOKENS``), hashed under the key of their group so that values the hub
must compare across names (a date and its day/month swap; given and family names, for
swapped names) are keyed alike.
"""

from __future__ import annotations

STD_TABLE = "__pprl_std"


def bigrams(expr: str) -> str:
    """Bigrams of `expr` padded with a space at each end ('ann' -> ' a', 'an', 'nn', 'n ').

    The padding makes the first and last letters count twice as much as the middle ones,
    as in the usual Bloom-filter encodings (Schnell et al. 2009)."""
    padded = f"(' ' || {expr} || ' ')"
    return f"list_transform(range(1, length({padded})), lambda i: substring({padded}, i, 2))"


def _word_bigrams(list_expr: str) -> str:
    return f"flatten(list_transform({list_expr}, lambda w: {bigrams('w')}))"


def _non_null(list_expr: str) -> str:
    return f"list_filter({list_expr}, lambda x: x IS NOT NULL)"


_DATE_PARTS = (
    "CASE WHEN birth_date IS NOT NULL THEN ["
    "'d:' || strftime(birth_date, '%d'), 'm:' || strftime(birth_date, '%m'), "
    "'y:' || strftime(birth_date, '%Y'), 'dm:' || strftime(birth_date, '%d%m'), "
    "'my:' || strftime(birth_date, '%m%Y'), 'f:' || birth_date_text] END"
)

# An age gives a span of possible birth years; wider than this it says too little to encode.
MAX_YEAR_SPAN = 10
_YEAR_RANGE = f"range(birth_year_min, least(birth_year_max, birth_year_min + {MAX_YEAR_SPAN}) + 1)"
_BIRTH_YEARS = (
    "CASE WHEN birth_year_min IS NOT NULL THEN list_concat("
    f"list_transform({_YEAR_RANGE}, lambda y: 'y:' || y), "
    f"list_distinct(list_transform({_YEAR_RANGE}, lambda y: 'dec:' || (y // 10)))) END"
)

_COMPACT_POSTCODE = "replace(postcode, ' ', '')"
_POSTCODE_AREAS = "['s:' || postcode_sector, 'd:' || postcode_district]"

FIELD_TOKENS: dict[str, str] = {
    "given_name": f"list_concat({bigrams('given_canonical')}, {bigrams('given_name')})",
    "family_name": _word_bigrams("family_parts"),
    "middle_names": _word_bigrams("string_split(middle_names, ' ')"),
    "birth_date": _DATE_PARTS,
    "birth_year": _BIRTH_YEARS,
    "postcode": (
        f"CASE WHEN postcode IS NOT NULL THEN list_concat({bigrams(_COMPACT_POSTCODE)}, "
        f"{_non_null(_POSTCODE_AREAS)}) END"
    ),
    "address": (
        f"list_concat({_word_bigrams('address_tokens')}, "
        "CASE WHEN house_number IS NOT NULL THEN ['n:' || house_number] END)"
    ),
    "phone": bigrams("phone"),
    "email": bigrams("email"),
}


# Exact tokens: name -> (SQL value, key group).
EXACT_TOKENS: dict[str, tuple[str, str]] = {
    "nhs_number": ("nhs_number", "nhs_number"),
    "ni_number": ("ni_number", "ni_number"),
    "ssn": ("ssn", "ssn"),
    "birth_date": ("birth_date_text", "birth_date"),
    "birth_date_swapped": ("birth_date_swapped", "birth_date"),
    "birth_year": ("CAST(birth_year AS VARCHAR)", "birth_year"),
    "given_soundex": ("given_soundex", "soundex"),
    "family_soundex": ("family_soundex", "soundex"),
    "given_canonical": ("given_canonical", "name"),
    "family_name": ("family_name", "name"),
    "postcode": ("postcode", "postcode"),
    "postcode_sector": ("postcode_sector", "postcode_sector"),
    "sex": ("sex", "sex"),
}

# Standardised columns a field may be salted with: scalar, stable attributes.
SALT_COLUMNS = (
    "birth_year",
    "sex",
    "given_soundex",
    "family_soundex",
    "postcode_district",
)


def field_tokens_sql(field: str, salt: str | None, table: str = STD_TABLE) -> str:
    """(row, token) pairs of one Bloom-filter field; row is 0-based in unique_id order.

    With a salt, the salt value is part of every token (a unit separator between), so the
    same bigram hashes to different bits for different salt values; a record without the
    salt value gets the empty salt."""
    token = "t.token"
    if salt is not None:
        token = f"coalesce(CAST(s.{salt} AS VARCHAR), '') || chr(31) || t.token"
    return (
        f"SELECT s.unique_id - 1 AS row, {token} AS token "
        f"FROM {table} s, unnest(list_distinct({FIELD_TOKENS[field]})) t(token) "
        "WHERE t.token IS NOT NULL"
    )


def exact_tokens_sql(names: list[str], table: str = STD_TABLE) -> str:
    """One row per record in unique_id order: source, record_id and each token's value."""
    values = ", ".join(f"{EXACT_TOKENS[n][0]} AS {n}" for n in names)
    return (
        f"SELECT source, record_id{', ' if values else ''}{values} FROM {table} ORDER BY unique_id"
    )
