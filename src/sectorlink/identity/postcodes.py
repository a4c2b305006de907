"""SQL expressions for postcodes: UK (spacing, outward code, sector) and US ZIP 5/9."""

from __future__ import annotations

UK_PATTERN = "[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}"
US_PATTERN = "[0-9]{5}([0-9]{4})?"


def compact(expr: str) -> str:
    """Upper case, every character that is not a letter or digit removed ('' for NULL).

    Most postcodes hold only letters, digits and spaces: a match test and a plain replace
    compact those at about half the cost of the general replacement.
    """
    general = f"upper(regexp_replace(coalesce({expr}, ''), '[^A-Za-z0-9]', '', 'g'))"
    return (
        f"CASE WHEN regexp_full_match({expr}, '[A-Za-z0-9 ]*') "
        f"THEN upper(replace({expr}, ' ', '')) ELSE {general} END"
    )


def is_uk(pc: str) -> str:
    return f"regexp_full_match({pc}, '{UK_PATTERN}')"


def is_us(pc: str) -> str:
    return f"regexp_full_match({pc}, '{US_PATTERN}')"


def is_pseudo(pc: str) -> str:
    """NHS pseudo-postcodes (ZZ99 3VZ: no fixed abode, ZZ99 3WZ: not known...) name no place."""
    return f"starts_with({pc}, 'ZZ99')"


def normalised(pc: str) -> str:
    """'NG15AB' -> 'NG1 5AB'; '12345-6789' -> '12345'; other shapes of 3-10 characters
    (Australian, Canadian) kept compact; NULL for junk and pseudo-postcodes."""
    return (
        f"CASE WHEN {is_pseudo(pc)} THEN NULL "
        f"WHEN {is_uk(pc)} THEN left({pc}, length({pc}) - 3) || ' ' || right({pc}, 3) "
        f"WHEN {is_us(pc)} THEN left({pc}, 5) "
        f"WHEN length({pc}) BETWEEN 3 AND 10 AND regexp_matches({pc}, '[0-9]') THEN {pc} END"
    )


def sector(pc: str) -> str:
    """UK postcode sector ('NG1 5'); NULL elsewhere."""
    return (
        f"CASE WHEN {is_uk(pc)} AND NOT {is_pseudo(pc)} "
        f"THEN left({pc}, length({pc}) - 3) || ' ' || substr({pc}, length({pc}) - 2, 1) END"
    )


def district(pc: str) -> str:
    """UK outward code ('NG1'); US three-digit ZIP prefix; NULL elsewhere."""
    return (
        f"CASE WHEN {is_uk(pc)} AND NOT {is_pseudo(pc)} THEN left({pc}, length({pc}) - 3) "
        f"WHEN {is_us(pc)} THEN left({pc}, 3) END"
    )
