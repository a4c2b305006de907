"""The catalogue: one definition of every table the hub writes, from which the DDL, the
warehouse's and linkage's tables and the identifier and linkage column lists all come."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from sectorlink.identity.standardise import CHECKED_IDENTIFIERS, SOURCE_COLUMNS, STANDARD_COLUMNS
from sectorlink.linkage import store
from sectorlink.linkage.fields import IDENTIFYING, LINKAGE_FIELDS
from sectorlink.linkage.model import MODEL_COLUMNS
from sectorlink.model import (
    CATALOGUE,
    TABLES,
    FrameMismatch,
    check_frame,
    columns_with_role,
    create_table_sql,
    identifier_columns,
    table_definition,
)
from sectorlink.model.catalogue import tables_of
from sectorlink.model.hub_tables import LINKAGE_INPUT, ROLE_DOCS
from sectorlink.model.types import DUCKDB_TYPES
from sectorlink.pprl.tokens import STD_COLUMNS
from sectorlink.warehouse import ensure_schema


def _described(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[str, str, bool]]:
    return [(r[0], r[1], r[2] == "YES") for r in con.execute(f'DESCRIBE "{name}"').fetchall()]


def _defined(name: str) -> list[tuple[str, str, bool]]:
    return [(f.name, DUCKDB_TYPES[f.type], not f.required) for f in CATALOGUE[name].fields]


def test_every_catalogued_table_is_created_as_defined() -> None:
    con = duckdb.connect()
    for table in CATALOGUE.values():
        con.execute(create_table_sql(table))
        assert _described(con, table.name) == _defined(table.name), table.name
    con.execute("INSERT INTO alert (alert_id, organisation, kind, source, event_id, "
                "provider_source, provider_record_id, arrival_time, created_at) "
                "VALUES ('a', 'o', 'ae', 's', 'e', 'p', 'r', now(), now())")  # fmt: skip
    assert con.execute("SELECT webhook_attempts FROM alert").fetchall() == [(0,)]
    con.execute("INSERT INTO load_authority VALUES ('l', 'o', 'owner', 1, 2, 'me', now())")
    # declared keys: a second row for a key replaces the first
    con.execute(
        "INSERT OR REPLACE INTO load_authority VALUES ('l', 'o', 'DSA-1', 1, 2, 'me', now())"
    )
    assert con.execute("SELECT basis FROM load_authority").fetchall() == [("DSA-1",)]


def test_the_warehouse_and_linkage_make_their_tables_from_the_catalogue() -> None:
    con = duckdb.connect()
    ensure_schema(con)
    store.ensure_tables(con)
    made = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    expected = set(TABLES) | {t.name for t in (*tables_of("warehouse"), *tables_of("linkage"))}
    assert made == expected
    for name in made:
        assert _described(con, name) == _defined(name), name
    store.create_staging(con)
    assert _described(con, store.staging("person_index")) == _defined("person_index")
    store.publish(con)
    assert set(store.TABLE_DOCS) == set(store.REPLACED) | set(store.APPENDED)
    assert {t.name for t in tables_of("linkage")} == set(store.REPLACED) | set(store.APPENDED)


def test_identifier_lists_come_from_the_model_marks() -> None:
    every = identifier_columns()
    assert {"title", "birth_date", "birth_year", "sex"} <= set(every)
    direct = identifier_columns(quasi=False)
    assert set(every) - set(direct) == {"title", "birth_date", "birth_year", "sex"}
    person = TABLES["person_record"]
    assert direct == tuple(f.name for f in person.fields if f.identifier and not f.quasi)
    assert identifier_columns("event") == ()


def test_linkage_column_lists_are_the_linkage_inputs_roles() -> None:
    assert tuple(STANDARD_COLUMNS) == columns_with_role("standardised")
    assert tuple(STANDARD_COLUMNS) == STD_COLUMNS
    assert columns_with_role("model") == MODEL_COLUMNS
    assert columns_with_role("compared") == LINKAGE_FIELDS
    assert columns_with_role("identifying") == IDENTIFYING
    assert set(CHECKED_IDENTIFIERS) == set(columns_with_role("checked"))
    # every compared and identifying field is in what Splink reads; identifying ones compared
    assert set(LINKAGE_FIELDS) <= set(MODEL_COLUMNS)
    assert set(IDENTIFYING) <= set(LINKAGE_FIELDS)
    # sex, postcode and birth year alone describe too many people to identify anyone
    assert not {"sex", "postcode", "birth_year"} & set(IDENTIFYING)
    # standardise reads the person_record columns its output is derived from, in order
    person = TABLES["person_record"].field_names
    assert set(SOURCE_COLUMNS) <= set(person)
    assert list(SOURCE_COLUMNS) == sorted(SOURCE_COLUMNS, key=person.index)
    for f in LINKAGE_INPUT.fields:
        assert f.derived_from and set(f.derived_from) <= set(person), f.name
        assert f.roles <= set(ROLE_DOCS), f.name
    with pytest.raises(KeyError, match="no column"):
        columns_with_role("compard")


def test_a_kept_frame_must_match_its_definition() -> None:
    good = pd.DataFrame(
        {
            "model": ["m"],
            "model_version": ["v1"],
            "as_of": [dt.date(2024, 1, 1)],
            "person_key": ["P1"],
            "score": [0.5],
            "rank": [1],
        }
    )
    check_frame("risk_score", good)
    # a column with no value yet has no type to check; a date may come as a timestamp
    check_frame("risk_score", good.assign(person_key=[None], as_of=pd.Timestamp("2024-01-01")))
    with pytest.raises(FrameMismatch, match="missing rank"):
        check_frame("risk_score", good.drop(columns="rank"))
    with pytest.raises(FrameMismatch, match="not in its definition: extra"):
        check_frame("risk_score", good.assign(extra=1))
    with pytest.raises(FrameMismatch, match="score is VARCHAR, defined as number"):
        check_frame("risk_score", good.assign(score=["high"]))
    with pytest.raises(KeyError, match="no table 'nowhere'"):
        table_definition("nowhere")


def test_keep_refuses_a_frame_that_does_not_match() -> None:
    from sectorlink.insights.context import InsightContext

    ctx = InsightContext.__new__(InsightContext)
    ctx.kept = {}
    with pytest.raises(FrameMismatch, match="table risk_score: missing"):
        ctx.keep("risk_score", pd.DataFrame({"model": ["m"]}))
    ctx.keep("my_own_result", pd.DataFrame({"anything": [1]}))  # not catalogued: kept as is
    assert list(ctx.kept) == ["my_own_result"]


def test_model_tables_lists_the_catalogue_by_layer() -> None:
    from typer.testing import CliRunner

    from sectorlink.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["model", "tables", "--layer", "linkage"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    for table in tables_of("linkage"):
        assert table.name in listed.output
    assert "person_record" not in listed.output
    wrong = runner.invoke(app, ["model", "tables", "--layer", "nowhere"])
    assert wrong.exit_code == 2 and "unknown layer" in wrong.output


def test_every_checked_identifier_is_checked_by_the_standardisation() -> None:
    from sectorlink.identity.standardise import standardised_sql

    sql = standardised_sql()
    invalid = sql[sql.index("list_filter([") : sql.index("AS invalid_identifiers")]
    for name in CHECKED_IDENTIFIERS:
        assert f"'{name}'" in invalid, name
