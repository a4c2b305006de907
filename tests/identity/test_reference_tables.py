"""The shipped reference tables keep the rules their README states."""

from __future__ import annotations

import csv
import re

from sectorlink.identity.reference import DATA_DIR, address_words, name_words


def _nicknames() -> list[dict[str, str]]:
    with open(DATA_DIR / "nicknames.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_nicknames_are_lower_case_ascii_letters() -> None:
    for row in _nicknames():
        assert re.fullmatch("[a-z]+", row["nickname"]), row
        assert re.fullmatch("[a-z]+", row["canonical"]), row
        assert row["sex"] in ("", "M", "F"), row


def test_no_canonical_name_is_itself_a_nickname_for_the_same_sex() -> None:
    rows = _nicknames()
    nickname_sexes: dict[str, set[str]] = {}
    for row in rows:
        nickname_sexes.setdefault(row["nickname"], set()).add(row["sex"])
    chains = [
        row
        for row in rows
        if row["canonical"] in nickname_sexes
        and (
            row["sex"] == ""
            or "" in nickname_sexes[row["canonical"]]
            or row["sex"] in nickname_sexes[row["canonical"]]
        )
    ]
    assert chains == []


def test_no_duplicate_rows() -> None:
    pairs = [(r["nickname"], r["canonical"]) for r in _nicknames()]
    assert len(pairs) == len(set(pairs))


def test_word_lists_load() -> None:
    assert "mr" in name_words("title")
    assert "jr" in name_words("suffix")
    assert "van" in name_words("particle")
    assert address_words()["rd"] == "road"


def test_licence_and_source_are_documented() -> None:
    readme = (DATA_DIR / "README.md").read_text()
    for name in ("nicknames.csv", "name_words.csv", "address_words.csv"):
        assert name in readme
    assert "licence" in readme.lower()
