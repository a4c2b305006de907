"""SQL that turns the standardised relation into the tokens each encoding is made of.

Bloom-filter fields: one list of tokens per record (``FIELD_TOKENS``), unnested into
(row, token) pairs so each distinct token is hashed once. Exact tokens: one value per
record (``EXACT_TOKENS``), hashed under the key of their group so that values the hub
must compare across names (a date and its day/month swap; given and family names, for
swapped names) are keyed alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from sectorlink.identity.standardise import STANDARD_COLUMNS

STD_TABLE = "__pprl_std"
# The standardised columns a token may read (the catalogue's linkage input, made by
# identity.standardise). The encoder selects only those its schema's tokens name, which
# lets DuckDB skip the rest of the standardisation (validity lists, joined address text).
STD_COLUMNS = tuple(STANDARD_COLUMNS)


def bigrams(expr: str) -> str:
    """Bigrams of `expr` padded with a space at each end ('ann' -> ' a', 'an', 'nn', 'n ').

    The padding makes the first and last letters count twice as much as the middle ones,
    as in the usual Bloom-filter encodings (Schnell et al. 2009). Used for small lists;
    the per-record fields go through the faster unnest in :func:`field_tokens_sql`."""
    padded = f"(' ' || {expr} || ' ')"
    return f"list_transform(range(1, length({padded})), lambda i: substring({padded}, i, 2))"


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


@dataclass(frozen=True)
class FieldTokens:
    """A Bloom-filter field's tokens: the padded bigrams of each word in `words` (a SQL
    list of words) and the whole tokens in `whole` (a SQL list), NULLs skipped."""

    words: str | None = None
    whole: str | None = None


FIELD_TOKENS: dict[str, FieldTokens] = {
    "given_name": FieldTokens(words="list_distinct([given_canonical, given_name])"),
    "family_name": FieldTokens(words="family_parts"),
    "middle_names": FieldTokens(words="string_split(middle_names, ' ')"),
    "birth_date": FieldTokens(whole=_DATE_PARTS),
    "birth_year": FieldTokens(whole=_BIRTH_YEARS),
    "postcode": FieldTokens(
        words="[replace(postcode, ' ', '')]",
        whole="CASE WHEN postcode IS NOT NULL THEN ['s:' || postcode_sector, "
        "'d:' || postcode_district] END",
    ),
    "address": FieldTokens(
        words="address_tokens",
        whole="CASE WHEN house_number IS NOT NULL THEN ['n:' || house_number] END",
    ),
    "local_person_id": FieldTokens(words="[local_person_id]"),
    "phone": FieldTokens(words="[phone]"),
    "email": FieldTokens(words="[email]"),
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
    # the given name as written (Billy, where the canonical form is william)
    "given_name": ("given_name", "name"),
    # only so the hub can tell that two given names share their first letter (Kn, Kenneth)
    "given_initial": ("nullif(left(given_name, 1), '')", "given_initial"),
    "family_name": ("family_name", "name"),
    # the first middle name, keyed like the given name: a record that uses its middle
    # name as the first name still meets the other record's given name
    "middle_first": ("nullif(split_part(middle_names, ' ', 1), '')", "name"),
    "postcode": ("postcode", "postcode"),
    "postcode_sector": ("postcode_sector", "postcode_sector"),
    "sex": ("sex", "sex"),
    "local_person_id": ("local_person_id", "local_person_id"),
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

    A token may repeat for a record (setting its bits twice changes nothing), which saves
    a DISTINCT over millions of rows. With a salt, the salt value is part of every token
    (a unit separator between), so the same bigram hashes to different bits for different
    salt values; a record without the salt value gets the empty salt."""
    spec = FIELD_TOKENS[field]
    salt_sql = f"coalesce(CAST({salt} AS VARCHAR), '')" if salt else "''"
    parts = []
    if spec.words is not None:
        # unnest and a lateral range, not nested list lambdas: several times faster
        parts.append(
            f"""SELECT unique_id, salt, substring(' ' || word || ' ', i, 2) AS token
            FROM (SELECT unique_id, {salt_sql} AS salt, unnest({spec.words}) AS word
                  FROM {table}) w, range(1, length(word) + 2) r(i)
            WHERE word IS NOT NULL AND word <> ''"""
        )
    if spec.whole is not None:
        parts.append(
            f"SELECT unique_id, {salt_sql} AS salt, unnest({spec.whole}) AS token FROM {table}"
        )
    token = "salt || chr(31) || token" if salt else "token"
    union = " UNION ALL ".join(f"({p})" for p in parts)
    return f"SELECT unique_id - 1 AS row, {token} AS token FROM ({union}) WHERE token IS NOT NULL"


def exact_tokens_sql(names: list[str], table: str = STD_TABLE) -> str:
    """One row per record in unique_id order: source, record_id and each token's value."""
    values = ", ".join(f"{EXACT_TOKENS[n][0]} AS {n}" for n in names)
    return (
        f"SELECT source, record_id{', ' if values else ''}{values} FROM {table} ORDER BY unique_id"
    )
