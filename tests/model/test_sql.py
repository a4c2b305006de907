"""The shared SQL helpers: what they build runs in DuckDB and means what it says."""

from __future__ import annotations

import duckdb

from sectorlink.model.sql import integer_array, literal_list, quote_ident, quote_literal, scalar


def test_literal_lists_match_what_they_list_and_nothing_when_empty() -> None:
    con = duckdb.connect()
    values = ["a", "O'Brien", 'say "hi"']
    for value in values:
        assert scalar(con, f"SELECT {quote_literal(value)} IN {literal_list(values)}") is True
    assert scalar(con, f"SELECT 'b' IN {literal_list(values)}") is False
    # an empty list is valid SQL that matches nothing (IN () is a syntax error)
    assert scalar(con, f"SELECT count(*) FROM range(3) WHERE 'a' IN {literal_list([])}") == 0


def test_integer_array_is_a_sorted_distinct_integer_list() -> None:
    con = duckdb.connect()
    assert integer_array([14, 3, 14]) == "[3, 14]::INTEGER[]"
    assert scalar(con, f"SELECT list_contains({integer_array({22, 14})}, 14)") is True
    assert scalar(con, f"SELECT len({integer_array([])})") == 0


def test_quoted_identifiers_hold_any_name() -> None:
    con = duckdb.connect()
    name = 'a "b" c'
    con.execute(f"CREATE TABLE t ({quote_ident(name)} INTEGER)")
    assert con.execute("DESCRIBE t").fetchall()[0][0] == name
