"""Identifier rules (identity package; the quality report counts what they keep) against
plain-Python statements of the rules, on bare digits, spaced and punctuated forms and junk."""

from __future__ import annotations

import random
import re

import duckdb
import pyarrow as pa

from sectorlink.identity.national_ids import nhs_number, phone


def expected(value: str | None) -> str | None:
    digits = re.sub("[^0-9]", "", value or "")
    if len(digits) != 10 or len(set(digits)) == 1:
        return None
    check = (11 - sum((11 - i) * int(d) for i, d in enumerate(digits[:9], start=1)) % 11) % 11
    return digits if check != 10 and check == int(digits[9]) else None


def test_nhs_rule_matches_python_statement() -> None:
    rng = random.Random(5)
    values: list[str | None] = [
        None,
        "",
        "9434765919",
        "943 476 5919",
        "943-476-5919",
        " 9434765919",
        "+943476591",
        "0000000000",
        "1111111111",
        "0000000019",
        "943476591",
        "94347659190",
        "9434765918",
        "abcdefghij",
        "１２３４５６７８９０",  # fullwidth digits are not digits here
    ]
    for _ in range(20000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([9, 10, 10, 10, 11])))
        shape = rng.random()
        if shape < 0.15:
            digits = f"{digits[:3]} {digits[3:6]} {digits[6:]}"
        elif shape < 0.2:
            digits = digits[:4] + rng.choice("x-./") + digits[4:]
        values.append(digits)
    con = duckdb.connect()
    con.register("t", pa.table({"i": list(range(len(values))), "x": values}))
    got = dict(con.execute(f"SELECT i, {nhs_number('x')} FROM t").fetchall())
    assert [got[i] for i in range(len(values))] == [expected(v) for v in values]
    assert sum(expected(v) is not None for v in values) > 1000  # valid numbers were tested


def expected_phone(value: str | None) -> str | None:
    digits = re.sub("[^0-9]", "", value or "")
    intl = digits[2:] if digits.startswith("00") else digits
    if intl.startswith("44") and len(intl) == 12:
        national = "0" + intl[2:]
    elif intl.startswith("1") and len(intl) == 11:
        national = intl[1:]
    else:
        national = intl
    return national if 10 <= len(national) <= 11 and len(set(national)) >= 3 else None


def test_phone_rule_matches_python_statement() -> None:
    rng = random.Random(6)
    values: list[str | None] = [None, "", "00", "001234", "07777777777", "0000000000"]
    values += ["07070707070", "+44 7700 900123", "0044 7700 900123", "+1 555 123 4567"]
    for _ in range(20000):
        prefix = rng.choice(["", "0", "+44 ", "0044", "+1 ", "1", "00"])
        body = "".join(rng.choice("0123456789" if rng.random() < 0.9 else "07") for _ in range(9))
        values.append(prefix + body + rng.choice(["", "1", "12", " ext 5", "-"]))
    con = duckdb.connect()
    con.register("t", pa.table({"i": list(range(len(values))), "x": values}))
    got = dict(con.execute(f"SELECT i, {phone('x')} FROM t").fetchall())
    assert [got[i] for i in range(len(values))] == [expected_phone(v) for v in values]
    assert sum(expected_phone(v) is not None for v in values) > 1000
