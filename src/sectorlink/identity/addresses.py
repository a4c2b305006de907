"""SQL expressions that tokenise an address line."""

from __future__ import annotations

from sectorlink.identity.reference import address_words


def tokens(expr: str) -> str:
    """Lower-case words of an address, abbreviations expanded ('rd' -> 'road')."""
    mapping = ", ".join(f"'{k}': '{v}'" for k, v in sorted(address_words().items()))
    folded = (
        "regexp_replace(regexp_replace(lower(strip_accents(coalesce("
        f"{expr}, ''))), '[''’.]', '', 'g'), '[^a-z0-9]+', ' ', 'g')"
    )
    words = f"list_filter(string_split(trim({folded}), ' '), lambda t: t <> '')"
    return f"list_transform({words}, lambda t: coalesce(MAP {{{mapping}}}[t], t))"


def house_number(token_list: str) -> str:
    """The first word that is a house number ('12', '12a'), NULL when there is none."""
    return f"list_filter({token_list}, lambda t: regexp_full_match(t, '[0-9]+[a-z]?'))[1]"
