"""The common data model: one definition, DDL/schemas/docs derived from it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from sectorlink.model import (
    CATALOGUE,
    CODE_SETS,
    TABLES,
    create_table_sql,
    data_model_markdown,
    export_schemas,
    fold_code,
    model_ddl,
)

ROOT = Path(__file__).resolve().parents[2]


def test_ddl_creates_every_table_and_can_declare_its_key():
    con = duckdb.connect()
    for statement in model_ddl():
        con.execute(statement)
    names = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert names == set(TABLES)
    con.execute(create_table_sql(TABLES["person_record"], name="keyed", primary_key=True))
    con.execute("INSERT INTO keyed (source, record_id) VALUES ('a', '1')")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO keyed (source, record_id) VALUES ('a', '1')")
    with pytest.raises(duckdb.ConstraintException):  # required fields are NOT NULL
        con.execute("INSERT INTO person_record (source) VALUES ('a')")


def test_identifiers_live_only_in_person_record():
    holders = {t.name for t in TABLES.values() for f in t.fields if f.identifier}
    assert holders == {"person_record"}


def test_every_code_set_reference_exists_and_crosswalks_do_not_collide():
    for table in TABLES.values():
        for f in table.fields:
            if f.code_set:
                assert f.code_set in CODE_SETS, (table.name, f.name)
    for cs in CODE_SETS.values():
        owner: dict[str, str] = {}
        for code in cs.codes:
            for spelling in (code.code, code.label, *code.synonyms):
                key = fold_code(spelling)
                assert owner.setdefault(key, code.code) == code.code, (cs.name, spelling)


def test_sex_crosswalk_covers_common_partner_codings():
    walk = CODE_SETS["sex"].crosswalk()
    for local, common in {
        "M": "M",
        "f": "F",
        "1": "M",
        "2": "F",
        " Male ": "M",
        "FEMALE": "F",
        "unknown": "U",
        "9": "U",
        "0": "U",
    }.items():
        assert walk[fold_code(local)] == common


def test_table_schema_export(tmp_path):
    written = export_schemas(tmp_path)
    assert len(written) == len(CATALOGUE) + len(CODE_SETS)
    schema = json.loads((tmp_path / "person_record.schema.json").read_text())
    assert schema["primaryKey"] == ["source", "record_id"]
    fields = {f["name"]: f for f in schema["fields"]}
    assert fields["birth_date"]["type"] == "date"
    assert fields["sex"]["constraints"]["enum"] == ["M", "F", "X", "U"]
    violence = json.loads((tmp_path / "violence.schema.json").read_text())
    assert violence["foreignKeys"][0]["reference"]["resource"] == "event"
    assert "ISB 1594" in violence["standard"]
    hmis = json.loads((tmp_path / "codesets" / "hmis_living_situation.json").read_text())
    assert {"code": "116", "label": "Place not meant for habitation"}.items() <= hmis["codes"][
        0
    ].items()
    encoded = json.loads((tmp_path / "encoded_person.schema.json").read_text())
    assert encoded["layer"] == "pprl"
    assert [c["prefix"] for c in encoded["columnPatterns"]] == ["bf_", "tok_"]
    kept = json.loads((tmp_path / "risk_score.schema.json").read_text())
    assert kept["layer"] == "insights" and "replaced" in kept["lifecycle"]


def test_data_model_doc_is_current():
    """docs/data-model.md is generated; regenerate with `sectorlink model docs`."""
    assert (ROOT / "docs" / "data-model.md").read_text() == data_model_markdown() + "\n"
