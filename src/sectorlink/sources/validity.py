"""SQL predicates for the validity of identifiers, used by the quality report.

Each takes an SQL expression (text) and returns an SQL boolean expression. They check
shape and check digits only; standardising for linkage is the identity package's job.
"""

from __future__ import annotations

from collections.abc import Callable


def _digits(expr: str) -> str:
    return f"regexp_replace({expr}, '[\\s-]', '', 'g')"


def nhs_number_valid(expr: str) -> str:
    """10 digits whose mod-11 check digit is right (a computed 10 is never valid)."""
    d = _digits(expr)
    weighted = f"list_sum([TRY_CAST(({d})[i] AS INTEGER) * (11 - i) for i in range(1, 10)])"
    check = f"(11 - ({weighted}) % 11) % 11"
    return (
        f"(regexp_full_match({d}, '[0-9]{{10}}') AND {check} <> 10 "
        f"AND {check} = TRY_CAST(({d})[10] AS INTEGER))"
    )


def ni_number_valid(expr: str) -> str:
    """HMRC National Insurance number format, with the prefixes that are never issued."""
    v = f"upper(regexp_replace({expr}, '\\s', '', 'g'))"
    return (
        f"(regexp_full_match({v}, '[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{{6}}[A-D]') "
        f"AND substr({v}, 1, 2) NOT IN ('BG', 'GB', 'NK', 'KN', 'TN', 'NT', 'ZZ'))"
    )


def ssn_valid(expr: str) -> str:
    """US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    d = _digits(expr)
    return (
        f"(regexp_full_match({d}, '[0-9]{{9}}') AND substr({d}, 1, 3) NOT IN ('000', '666') "
        f"AND substr({d}, 1, 1) <> '9' AND substr({d}, 4, 2) <> '00' "
        f"AND substr({d}, 6, 4) <> '0000')"
    )


def postcode_valid(expr: str) -> str:
    """A UK postcode shape, or a US ZIP/ZIP+4."""
    v = f"upper(trim({expr}))"
    return (
        f"(regexp_full_match({v}, '[A-Z]{{1,2}}[0-9][A-Z0-9]? ?[0-9][A-Z]{{2}}') "
        f"OR regexp_full_match({v}, '[0-9]{{5}}(-[0-9]{{4}})?'))"
    )


def email_valid(expr: str) -> str:
    return f"regexp_full_match(trim({expr}), '[^@\\s]+@[^@\\s]+\\.[^@\\s]+')"


def phone_valid(expr: str) -> str:
    """10 or 11 digits once spaces, brackets and a leading +44 or +1 are taken off."""
    d = f"regexp_replace(regexp_replace({expr}, '[^0-9+]', '', 'g'), '^\\+(44|1)', '0')"
    return f"regexp_full_match({d}, '[0-9]{{10,11}}')"


RULES: dict[str, tuple[str, Callable[[str], str]]] = {
    "nhs_number": ("NHS number check digit", nhs_number_valid),
    "ni_number": ("NI number format", ni_number_valid),
    "ssn": ("SSN rules", ssn_valid),
    "postcode": ("UK postcode or US ZIP shape", postcode_valid),
    "email": ("email shape", email_valid),
    "phone": ("10-11 digit phone number", phone_valid),
}
