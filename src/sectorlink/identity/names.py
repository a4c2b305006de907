"""SQL expressions that fold and split person names (DuckDB dialect).

Every function takes SQL expressions and returns an SQL expression, so the whole
standardising step stays one query that DuckDB runs column-at-a-time.
"""

from __future__ import annotations

from sectorlink.identity.reference import name_words


def _sql_list(words: list[str]) -> str:
    return "[" + ", ".join(f"'{w}'" for w in words) + "]"


def _particles_regex() -> str:
    return r"\b(" + "|".join(name_words("particle")) + r")\s+"


def fold(expr: str, *, keep_commas: bool = False) -> str:
    """Lower case, accents stripped, apostrophes and dots dropped (O'Neil -> oneil),
    any other run of non-letters turned into one space; NULL when nothing is left.

    Hyphens stay, so a hyphenated name is one word until :func:`parts` splits it: in a
    full name 'Sian O'Neil-Ward' the family name is the whole last word."""
    keep = "-," if keep_commas else "-"
    return (
        "nullif(trim(regexp_replace(regexp_replace(lower(strip_accents("
        f"{expr})), '[''’‘`´.]', '', 'g'), '[^a-z{keep}]+', ' ', 'g')), '')"
    )


def tokens(folded: str) -> str:
    """A folded string as a list of words (empty list for NULL)."""
    return f"list_filter(string_split(coalesce({folded}, ''), ' '), lambda t: t <> '')"


def parts(token_list: str) -> str:
    """Words split at hyphens: ['oneil-ward'] -> ['oneil', 'ward']."""
    return (
        f"list_filter(flatten(list_transform({token_list}, lambda t: string_split(t, '-'))), "
        "lambda t: t <> '')"
    )


def drop_words(token_list: str, kinds: tuple[str, ...]) -> str:
    words = sorted({w for kind in kinds for w in name_words(kind)})
    return f"list_filter({token_list}, lambda t: NOT list_contains({_sql_list(words)}, t))"


def join_particles(folded: str) -> str:
    """Join surname particles to the word after them: 'van der berg' -> 'vanderberg',
    'mc donald' -> 'mcdonald', so spacing differences between partners do not matter."""
    return f"regexp_replace({folded}, '{_particles_regex()}', '\\1', 'g')"


def soundex(expr: str) -> str:
    """American Soundex of a name (R163 for Robert), NULL when it has no letters.

    H and W do not separate equal codes; vowels do. The first letter's own code is
    kept while collapsing runs (Pfister -> P236) and then dropped.
    """
    letters = f"regexp_replace(upper(coalesce({expr}, '')), '[^A-Z]', '', 'g')"
    # H and W become '7' so the first letter keeps a placeholder, then are removed.
    coded = f"translate({letters}, 'AEIOUYBFPVCGJKQSXZDTLMNRHW', '00000011112222222233455677')"
    joined = f"(left({coded}, 1) || replace(substr({coded}, 2), '7', ''))"
    collapsed = joined
    for digit in "0123456":
        collapsed = f"regexp_replace({collapsed}, '{digit}+', '{digit}', 'g')"
    tail = f"left(rpad(replace(substr({collapsed}, 2), '0', ''), 3, '0'), 3)"
    return f"CASE WHEN {letters} = '' THEN NULL ELSE left({letters}, 1) || {tail} END"
