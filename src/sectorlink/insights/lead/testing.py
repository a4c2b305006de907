"""Small hand-made lead tables in a context's shape, for tests and notebooks trying the
method on a few rows (see tests/insights/test_lead_*.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

SOURCE = "lead_x"


def lead_con(
    tests: Sequence[dict[str, Any]],
    *,
    properties: Sequence[dict[str, Any]] = (),
    inspections: Sequence[dict[str, Any]] = (),
    people: Sequence[dict[str, Any]] = (),
) -> duckdb.DuckDBPyConnection:
    """An in-memory database with `event`, `lead_test`, `property`,
    `property_inspection` and `person` as a lead-risk context holds them. Each test is
    {id, child, date, result, type, property, unit (optional)}."""
    con = duckdb.connect(":memory:")
    event = pd.DataFrame(
        {
            "source": SOURCE,
            "event_id": [t["id"] for t in tests],
            "person_key": [t.get("child") for t in tests],
            "area": [t.get("area") for t in tests],
            "attributes": [
                None if t.get("unit") is None else f'{{"Unit": "{t["unit"]}"}}' for t in tests
            ],
            "start_time": [pd.Timestamp(t["date"]) for t in tests],
        }
    )
    lead = pd.DataFrame(
        {
            "source": SOURCE,
            "event_id": [t["id"] for t in tests],
            "sample_date": [pd.Timestamp(t["date"]) for t in tests],
            "result_ug_dl": [t.get("result") for t in tests],
            "sample_type": [t.get("type", "venous") for t in tests],
            "property_id": [t.get("property") for t in tests],
        }
    )
    props = pd.DataFrame(
        list(properties),
        columns=["property_id", "small_area", "year_built", "condition", "tenure", "rented"],
    ).assign(source=SOURCE)
    insp = pd.DataFrame(
        list(inspections),
        columns=[
            "inspection_id",
            "property_id",
            "inspection_date",
            "lead_hazard_found",
            "violation_count",
        ],
    ).assign(source=SOURCE)
    insp["inspection_date"] = pd.to_datetime(insp["inspection_date"])
    persons = pd.DataFrame(list(people), columns=["person_key", "birth_month"])
    persons["birth_month"] = pd.to_datetime(persons["birth_month"])
    for name, frame in (
        ("event", event),
        ("lead_test", lead),
        ("property", props),
        ("property_inspection", insp),
        ("person", persons),
    ):
        con.register("_f", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _f")
        con.unregister("_f")
    con.execute("ALTER TABLE property ALTER year_built TYPE INTEGER")
    con.execute("ALTER TABLE property_inspection ALTER violation_count TYPE INTEGER")
    con.execute("ALTER TABLE property_inspection ALTER lead_hazard_found TYPE BOOLEAN")
    con.execute("ALTER TABLE lead_test ALTER result_ug_dl TYPE DOUBLE")
    return con


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
