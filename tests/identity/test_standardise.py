"""Standardising identifiers: each rule on a small table of person_record rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from sectorlink.identity import STANDARD_COLUMNS, identifier_quality, standardise
from sectorlink.identity.standardise import SOURCE_COLUMNS
from sectorlink.model import model_ddl

# Rows are built in the order standardise() reads them.
FIELDS = SOURCE_COLUMNS


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for statement in model_ddl():
        c.execute(statement)
    return c


def std_one(con: duckdb.DuckDBPyConnection, **values: Any) -> dict[str, Any]:
    row = {"source": "a", "record_id": "1", **values}
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"INSERT INTO person_record ({cols}) VALUES ({marks})", list(row.values()))
    out = standardise(con).to_arrow_table().to_pylist()
    assert len(out) == 1
    return out[0]


def test_columns_are_documented(con: duckdb.DuckDBPyConnection) -> None:
    assert list(standardise(con).columns) == list(STANDARD_COLUMNS)


@pytest.mark.parametrize(
    ("given", "family", "expected_given", "expected_family"),
    [
        ("  Siân ", "O'Neil", "sian", "oneil"),
        ("Mr. John", "SMITH Jr", "john", "smith"),
        ("Dr José-María", "García", "jose", "garcia"),
        ("Anne", "van der Berg", "anne", "vanderberg"),
        ("Anne", "Van Der Berg", "anne", "vanderberg"),
        ("Mary", "Smith-Jones", "mary", "smith jones"),
        ("Mary", "Smith  Jones", "mary", "smith jones"),
        ("Mary", "Mc Donald", "mary", "mcdonald"),
    ],
)
def test_names_are_folded(
    con: duckdb.DuckDBPyConnection,
    given: str,
    family: str,
    expected_given: str,
    expected_family: str,
) -> None:
    out = std_one(con, given_name=given, family_name=family)
    assert (out["given_name"], out["family_name"]) == (expected_given, expected_family)


def test_hyphenated_given_name_keeps_second_part_as_middle(con: duckdb.DuckDBPyConnection) -> None:
    out = std_one(con, given_name="Mary-Jane", middle_names="Ann", family_name="Smith-Jones")
    assert out["given_name"] == "mary"
    assert out["middle_names"] == "jane ann"
    assert out["family_parts"] == ["smith", "jones"]


@pytest.mark.parametrize(
    ("full", "given", "middle", "family"),
    [
        ("SMITH, John Paul", "john", "paul", "smith"),
        ("Mr John Paul Smith", "john", "paul", "smith"),
        ("Ludwig van Beethoven", "ludwig", None, "vanbeethoven"),
        ("Ms Siân O'Neil-Ward", "sian", None, "oneil ward"),
        ("O'NEIL-WARD, Siân, Dr", "sian", None, "oneil ward"),
        ("Cher", "cher", None, None),
    ],
)
def test_full_name_is_split(
    con: duckdb.DuckDBPyConnection, full: str, given: str, middle: str | None, family: str | None
) -> None:
    out = std_one(con, full_name=full)
    assert (out["given_name"], out["middle_names"], out["family_name"]) == (given, middle, family)


def test_separate_name_fields_win_over_full_name(con: duckdb.DuckDBPyConnection) -> None:
    out = std_one(con, full_name="Someone Else", given_name="Ann", family_name="Lee")
    assert (out["given_name"], out["family_name"]) == ("ann", "lee")


@pytest.mark.parametrize(
    ("given", "sex", "canonical"),
    [
        ("Bob", "M", "robert"),
        ("Peggy", "F", "margaret"),
        ("Alex", "M", "alexander"),
        ("Alex", "F", "alexandra"),
        ("Alex", None, "alexander"),
        ("Robert", "M", "robert"),
        ("Zebedee", "M", "zebedee"),
    ],
)
def test_nicknames_map_to_a_canonical_name(
    con: duckdb.DuckDBPyConnection, given: str, sex: str | None, canonical: str
) -> None:
    assert std_one(con, given_name=given, sex=sex)["given_canonical"] == canonical


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Robert", "R163"),
        ("Rupert", "R163"),
        ("Ashcraft", "A261"),
        ("Tymczak", "T522"),
        ("Pfister", "P236"),
        ("Lee", "L000"),
    ],
)
def test_soundex(con: duckdb.DuckDBPyConnection, name: str, code: str) -> None:
    assert std_one(con, given_name="x", family_name=name)["family_soundex"] == code


def test_birth_date_and_swap(con: duckdb.DuckDBPyConnection) -> None:
    out = std_one(con, birth_date=dt.date(1980, 4, 3), birth_year=1980)
    assert out["birth_date_text"] == "19800403"
    assert out["birth_date_swapped"] == "19800304"
    assert (out["birth_year_min"], out["birth_year_max"], out["birth_precision"]) == (
        1980,
        1980,
        "day",
    )


def test_no_swap_when_day_cannot_be_a_month(con: duckdb.DuckDBPyConnection) -> None:
    assert std_one(con, birth_date=dt.date(1980, 4, 23))["birth_date_swapped"] is None


def test_year_only_birth_date(con: duckdb.DuckDBPyConnection) -> None:
    out = std_one(con, birth_year=1975)
    assert (
        out["birth_year"],
        out["birth_year_min"],
        out["birth_year_max"],
        out["birth_precision"],
    ) == (
        1975,
        1975,
        1975,
        "year",
    )


def test_age_at_an_event_gives_a_birth_year_range(con: duckdb.DuckDBPyConnection) -> None:
    out = std_one(con, age_years=40, age_at_date=dt.date(2024, 5, 1))
    assert out["birth_year"] is None
    assert (out["birth_year_min"], out["birth_year_max"], out["birth_precision"]) == (
        1983,
        1984,
        "age",
    )


def test_placeholder_birth_dates_are_nulled_and_counted(
    con: duckdb.DuckDBPyConnection,
) -> None:
    out = std_one(con, birth_date=dt.date(1900, 1, 1))
    assert out["birth_date"] is None
    assert "birth_date" in out["invalid_identifiers"]


def test_future_birth_dates_are_nulled(con: duckdb.DuckDBPyConnection) -> None:
    out = std_one(con, birth_date=dt.date.today() + dt.timedelta(days=30))
    assert out["birth_date"] is None
    assert out["birth_precision"] is None


@pytest.mark.parametrize(
    ("raw", "postcode", "sector", "district"),
    [
        ("ng15ab", "NG1 5AB", "NG1 5", "NG1"),
        (" sw1a  1aa ", "SW1A 1AA", "SW1A 1", "SW1A"),
        ("M1 1AE", "M1 1AE", "M1 1", "M1"),
        ("90210-1234", "90210", None, "902"),
        ("2612", "2612", None, None),
        ("ZZ99 3VZ", None, None, None),
        ("N/A", None, None, None),
        # punctuation and other white space go too, by the general (slower) path
        ("N.G1-5AB", "NG1 5AB", "NG1 5", "NG1"),
        ("NG1\t5AB!", "NG1 5AB", "NG1 5", "NG1"),
        ("é1 5AB", "15AB", None, None),  # not a UK or US shape: kept compact
    ],
)
def test_postcodes(
    con: duckdb.DuckDBPyConnection,
    raw: str,
    postcode: str | None,
    sector: str | None,
    district: str | None,
) -> None:
    out = std_one(con, postcode=raw)
    assert (out["postcode"], out["postcode_sector"], out["postcode_district"]) == (
        postcode,
        sector,
        district,
    )


def test_address_is_tokenised_without_its_postcode(con: duckdb.DuckDBPyConnection) -> None:
    out = std_one(con, address="Flat 2, 12a High St., Nottingham NG1 5AB", postcode="NG1 5AB")
    assert out["address_tokens"] == ["flat", "2", "12a", "high", "street", "nottingham"]
    assert out["address"] == "flat 2 12a high street nottingham"
    assert out["house_number"] == "2"


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        ("9434765918", None),  # wrong check digit
        ("1111111111", None),  # passes mod 11 but is a filler
        ("94347659", None),
    ],
)
def test_nhs_number_mod_11(con: duckdb.DuckDBPyConnection, raw: str, valid: str | None) -> None:
    out = std_one(con, nhs_number=raw)
    assert out["nhs_number"] == valid
    assert ("nhs_number" in out["invalid_identifiers"]) is (valid is None)


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("AB 12 34 56 C", "AB123456"),
        ("ab123456", "AB123456"),
        ("DA123456A", None),
        ("GB123456A", None),
        ("AO123456A", None),
    ],
)
def test_ni_number_format(con: duckdb.DuckDBPyConnection, raw: str, valid: str | None) -> None:
    assert std_one(con, ni_number=raw)["ni_number"] == valid


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("123-45-6780", "123456780"),
        ("000-12-3456", None),
        ("666-12-3456", None),
        ("912-12-3456", None),
        ("123-00-4567", None),
        ("123-45-0000", None),
        ("078-05-1120", None),
        ("12345678", None),
    ],
)
def test_ssn_rules(con: duckdb.DuckDBPyConnection, raw: str, valid: str | None) -> None:
    assert std_one(con, ssn=raw)["ssn"] == valid


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("+44 7700 900123", "07700900123"),
        ("0044 7700 900123", "07700900123"),
        ("(555) 123-4567", "5551234567"),
        ("+1 555 123 4567", "5551234567"),
        ("07777777777", None),
        ("12345", None),
    ],
)
def test_phone(con: duckdb.DuckDBPyConnection, raw: str, valid: str | None) -> None:
    assert std_one(con, phone=raw)["phone"] == valid


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        (" John.Smith+nhs@Gmail.com ", "johnsmith@gmail.com"),
        ("a.b@example.org", "a.b@example.org"),
        ("not an email", None),
    ],
)
def test_email(con: duckdb.DuckDBPyConnection, raw: str, valid: str | None) -> None:
    assert std_one(con, email=raw)["email"] == valid


def test_sex_codes(con: duckdb.DuckDBPyConnection) -> None:
    con.executemany(
        "INSERT INTO person_record (source, record_id, sex) VALUES ('a', ?, ?)",
        [["1", "M"], ["2", "F"], ["3", "X"], ["4", "U"], ["5", None]],
    )
    rows = standardise(con).order("record_id").fetchall()
    sexes = [r[list(STANDARD_COLUMNS).index("sex")] for r in rows]
    assert sexes == ["M", "F", "X", None, None]


def test_identifier_quality_counts_nulled_values_per_source(con: duckdb.DuckDBPyConnection) -> None:
    con.executemany(
        "INSERT INTO person_record (source, record_id, nhs_number, postcode) VALUES (?, ?, ?, ?)",
        [
            ["ae", "1", "9434765919", "NG1 5AB"],
            ["ae", "2", "9434765918", "junk"],
            ["police", "1", "123", None],
        ],
    )
    quality = {(s, f): n for s, f, _, n in identifier_quality(con, standardise(con)).fetchall()}
    assert quality[("ae", "nhs_number")] == 1
    assert quality[("ae", "postcode")] == 1
    assert quality[("police", "nhs_number")] == 1
    assert quality[("police", "postcode")] == 0


def test_unique_ids_follow_source_and_record_id(con: duckdb.DuckDBPyConnection) -> None:
    con.executemany(
        "INSERT INTO person_record (source, record_id) VALUES (?, ?)",
        [["b", "1"], ["a", "2"], ["a", "10"]],
    )
    rows = standardise(con).order("unique_id").select("unique_id, source, record_id").fetchall()
    assert rows == [(1, "a", "10"), (2, "a", "2"), (3, "b", "1")]


def test_the_first_alias_gives_a_given_and_a_family_name() -> None:
    con = duckdb.connect()
    for statement in model_ddl():
        con.execute(statement)
    con.execute(
        """INSERT INTO person_record (source, record_id, given_name, alias) VALUES
           ('h', '1', 'Kim', 'Zoë Santos-Lee; Kim Jones'), ('h', '2', 'Kim', 'Spider'),
           ('h', '3', 'Kim', 'Mr Jan van der Berg'), ('h', '4', 'Kim', NULL)"""
    )
    rows = standardise(con).select("record_id, alias_given, alias_family").order("record_id")
    assert rows.fetchall() == [
        ("1", "zoe", "santos lee"),
        ("2", "spider", None),
        ("3", "jan", "vanderberg"),
        ("4", None, None),
    ]


def test_a_warehouse_made_before_the_alias_field_gets_it_on_opening(tmp_path) -> None:
    from sectorlink.warehouse import connect

    path = tmp_path / "old.duckdb"
    con = connect(path)
    con.execute("ALTER TABLE person_record DROP COLUMN alias")
    con.execute("INSERT INTO person_record (source, record_id, given_name) VALUES ('a', '1', 'Jo')")
    con.close()
    con = connect(path)
    assert standardise(con).select("alias_given").fetchall() == [(None,)]
