"""SQL predicates for the validity of identifiers, used by the quality report.

Each takes an SQL expression (text) and returns an SQL boolean expression. Every rule is
the identity package's (one copy of each rule): a value is valid when linkage would keep it.
"""

from __future__ import annotations

from collections.abc import Callable

from sectorlink.identity import national_ids, postcodes


def nhs_number_valid(expr: str) -> str:
    """A value the identity package keeps as an NHS number: 10 digits, right mod-11 check
    digit, not one digit repeated. Its substr arithmetic is over 2x faster than a list
    comprehension over the digits, and the report then counts what linkage will use."""
    return f"({national_ids.nhs_number(expr)} IS NOT NULL)"


def ni_number_valid(expr: str) -> str:
    """HMRC National Insurance number format (suffix optional), never-issued prefixes out."""
    return f"({national_ids.ni_number(expr)} IS NOT NULL)"


def ssn_valid(expr: str) -> str:
    """US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000; no advertising SSN."""
    return f"({national_ids.ssn(expr)} IS NOT NULL)"


def postcode_valid(expr: str) -> str:
    """A UK postcode or a US ZIP/ZIP+4, in the identity package's shapes (spacing ignored)."""
    compact = postcodes.compact(expr)
    # One pattern with both shapes: one pass of the matcher instead of two.
    return f"regexp_full_match({compact}, '({postcodes.UK_PATTERN})|({postcodes.US_PATTERN})')"


def email_valid(expr: str) -> str:
    """An address the identity package keeps (local part, @, a domain with a dot)."""
    return f"({national_ids.email(expr)} IS NOT NULL)"


def phone_valid(expr: str) -> str:
    """10 or 11 national digits, not a filler such as 07777777777 (the identity rule)."""
    return f"({national_ids.phone(expr)} IS NOT NULL)"


RULES: dict[str, tuple[str, Callable[[str], str]]] = {
    "nhs_number": ("NHS number check digit", nhs_number_valid),
    "ni_number": ("NI number format", ni_number_valid),
    "ssn": ("SSN rules", ssn_valid),
    "postcode": ("UK postcode or US ZIP shape", postcode_valid),
    "email": ("email shape", email_valid),
    "phone": ("10-11 digit phone number", phone_valid),
}
