"""Housing status at A&E: the evidence rules on a hand-made context, and the analysis on
the shared linked region against its truth."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sectorlink.insights import run_analysis
from sectorlink.insights.homelessness import StatusRules, attendance_status, frequent_attenders

from .conftest import Hub

PROVIDER = "hmis_test"


def context(
    attendances: list[tuple[str, str, str]],
    enrolments: list[tuple[str, str, str, str | None, str]] = (),  # type: ignore[assignment]
    contacts: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    nfa: dict[str, bool | None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A context with the tables the status reads. attendances: (event_id, person, time);
    enrolments: (person, project type, entry, exit, destination); contacts: (person,
    day, living situation); nfa: event_id -> the hospital's no-fixed-abode flag."""
    con = duckdb.connect(":memory:")
    events = []
    episodes = []
    index = []
    for event_id, person, when in attendances:
        kind = "ambulance_callout" if event_id.startswith("AMB") else "ae_attendance"
        source = "amb" if kind == "ambulance_callout" else "ae"
        attributes = (
            {"Conveyed": "Y", "Destination": "Northgate ED"}
            if source == "amb"
            else {"AttendanceCategory": "Injury"}
        )
        events.append((source, event_id, event_id, kind, when, None, json.dumps(attributes)))
        index.append((source, event_id, person))
    for n, (person, project, entry, exit_, destination) in enumerate(enrolments):
        events.append(
            (PROVIDER, f"E{n}", f"C-{person}", "homeless_project_entry", entry, exit_, "{}")
        )
        episodes.append((PROVIDER, f"E{n}", project, entry, exit_, destination, None))
        index.append((PROVIDER, f"C-{person}", person))
    for n, (person, day, situation) in enumerate(contacts):
        events.append((PROVIDER, f"CLS{n}", f"C-{person}", "homeless_contact", day, None, "{}"))
        episodes.append((PROVIDER, f"CLS{n}", None, None, None, None, situation))
        index.append((PROVIDER, f"C-{person}", person))
    frame = pd.DataFrame(
        events,
        columns=[
            "source",
            "event_id",
            "record_id",
            "event_type",
            "start_time",
            "end_time",
            "attributes",
        ],
    )
    frame["start_time"] = pd.to_datetime(frame["start_time"], format="ISO8601")
    frame["end_time"] = pd.to_datetime(frame["end_time"], format="ISO8601")
    frame["site_code"] = "RNG01"
    con.register("_e", frame)
    con.execute("CREATE TABLE event AS SELECT * REPLACE (attributes::JSON AS attributes) FROM _e")
    ep = pd.DataFrame(
        episodes,
        columns=[
            "source",
            "event_id",
            "project_type",
            "project_start_date",
            "project_exit_date",
            "destination",
            "current_living_situation",
        ],
    )
    for column in ("project_start_date", "project_exit_date"):
        ep[column] = pd.to_datetime(ep[column])
    con.register("_h", ep)
    con.execute("CREATE TABLE housing_episode AS SELECT * FROM _h")
    con.register("_p", pd.DataFrame(index, columns=["source", "record_id", "person_key"]))
    con.execute("CREATE TABLE person_index AS SELECT DISTINCT * FROM _p")
    flags = pd.DataFrame(
        [("ae", k, v) for k, v in (nfa or {}).items()],
        columns=["source", "record_id", "no_fixed_abode"],
    ).astype({"no_fixed_abode": "boolean"})
    con.register("_f", flags)
    con.execute("CREATE TABLE record_flag AS SELECT * FROM _f")
    return con


def status_of(con: duckdb.DuckDBPyConnection, rules: StatusRules | None = None) -> pd.DataFrame:
    status, _ = attendance_status(con, rules)
    return status.set_index("event_id")


def known(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT * FROM hc_known").df().set_index("event_id")


def test_an_open_shelter_enrolment_makes_the_attender_known_from_its_first_day() -> None:
    con = context(
        [
            ("A1", "p", "2024-03-09 23:00"),
            ("A2", "p", "2024-03-10 01:00"),
            ("A3", "p", "2024-05-01"),
        ],
        [("p", "0", "2024-03-10", "2024-04-30", "410")],
    )
    status = status_of(con)
    # the day before the entry: nothing known; on the entry day: in the project
    assert status.at["A1", "status"] == "unknown"
    assert not status.at["A1", "known_to_services"]
    assert status.at["A2", "status"] == "in a homelessness project"
    assert status.at["A2", "evidence"] == "open emergency shelter enrolment"
    assert status.at["A2", "evidence_date"] == pd.Timestamp("2024-03-10")
    assert status.at["A2", "known_to_services"]
    # the day after an exit to a rented home: housed, no longer a client
    assert status.at["A3", "status"] == "housed"
    assert not status.at["A3", "known_to_services"]
    assert list(known(con).index) == ["A2"]
    assert known(con).at["A2", "provider_record_id"] == "C-p"


def test_an_enrolment_exiting_before_it_starts_is_left_out_and_reported() -> None:
    con = context(
        [("A1", "p", "2024-03-15")],
        [("p", "0", "2024-03-10", "2024-03-01", "101")],
    )
    status, bad = attendance_status(con)
    assert list(bad["event_id"]) == ["E0"]
    assert bad.at[0, "exit"] < bad.at[0, "entry"]
    assert not status.set_index("event_id").at["A1", "known_to_services"]


def test_exit_to_the_street_counts_for_a_while_then_only_with_the_hospital_marker() -> None:
    con = context(
        [
            ("A1", "p", "2024-03-01"),  # 60 days after an exit to the street
            ("A2", "p", "2024-12-01"),  # 335 days after, no marker
            ("A3", "q", "2024-12-01"),  # 335 days after, the hospital wrote NFA
        ],
        [
            ("p", "4", "2023-11-01", "2024-01-01", "116"),
            ("q", "4", "2023-11-01", "2024-01-01", "116"),
        ],
        nfa={"A1": False, "A2": False, "A3": True},
    )
    status = status_of(con, StatusRules(exit_homeless_days=180, nfa_days=180))
    assert status.at["A1", "status"] == "literally homeless"
    assert status.at["A1", "known_to_services"]
    assert status.at["A2", "status"] == "housed"  # the hospital's fixed address
    assert not status.at["A2", "known_to_services"]
    assert status.at["A3", "status"] == "literally homeless"
    assert status.at["A3", "known_to_services"]
    # a longer horizon keeps A2 known
    assert status_of(con, StatusRules(exit_homeless_days=400)).at["A2", "known_to_services"]


def test_contacts_prevention_and_the_hospital_marker() -> None:
    con = context(
        [
            ("A1", "p", "2024-06-01"),  # contact 30 days before, on the street
            ("A2", "p", "2024-12-01"),  # last contact 213 days before
            ("A3", "r", "2024-06-01"),  # in a prevention project
            ("A4", "s", "2024-06-01"),  # unknown to HMIS, NFA at the hospital
            ("AMB1", "p", "2024-06-02"),  # conveyed by ambulance
        ],
        [("r", "12", "2024-05-01", None, "")],
        [("p", "2024-05-02", "116")],
        nfa={"A1": None, "A2": None, "A3": False, "A4": True},
    )
    status = status_of(con, StatusRules(contact_days=90))
    assert status.at["A1", "status"] == "literally homeless"
    assert status.at["A1", "known_to_services"]
    assert status.at["A2", "status"] == "unknown"
    assert not status.at["A2", "known_to_services"]
    assert status.at["A3", "status"] == "at risk"
    assert not status.at["A3", "known_to_services"]  # prevention alerts only when asked
    assert status_of(con, StatusRules(prevention_known=True)).at["A3", "known_to_services"]
    assert status.at["A4", "status"] == "literally homeless"
    assert status.at["A4", "evidence"] == "hospital recorded no fixed abode"
    assert not status.at["A4", "known_to_services"]  # the hospital is not a provider
    assert status.at["AMB1", "kind"] == "ambulance"
    assert status.at["AMB1", "site"] == "Northgate ED"
    assert status.at["AMB1", "known_to_services"]


def test_rules_refuse_negative_days() -> None:
    with pytest.raises(ValueError, match="contact_days"):
        StatusRules(contact_days=-1)


def test_frequent_attenders_count_within_a_rolling_window() -> None:
    times = ["2023-01-01", "2023-04-01", "2023-08-01", "2023-12-31", "2024-12-30"]
    con = context([(f"A{i}", "p", t) for i, t in enumerate(times)] + [("B1", "q", "2023-01-01")])
    attendance_status(con)
    period = (dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    found = frequent_attenders(con, period=period, attendances=4, window_days=365)
    assert list(found["person_key"]) == ["p"]
    assert found.at[0, "most_in_window"] == 4
    assert found.at[0, "attendances"] == 5
    assert frequent_attenders(con, period=period, attendances=4, window_days=300).empty
    with pytest.raises(ValueError, match="attendances"):
        frequent_attenders(con, period=period, attendances=0)


@pytest.mark.slow
def test_homeless_care_runs_on_the_region_and_keeps_the_status(hub: Hub, tmp_path: Path) -> None:
    registry = hub.registry()
    try:
        run = run_analysis(
            "homeless-care",
            warehouse=hub.warehouse,
            registry=registry,
            organisation=hub.organisation,
            out_dir=tmp_path / "release",
        )
    finally:
        registry.close()
    assert {"attendances_by_status", "hospital_recording", "attendances_by_month"} <= set(
        run.tables
    )
    assert run.kept == ["homeless_provider_client", "housing_status"]
    summary = json.loads((tmp_path / "release" / "summary.json").read_text())
    assert summary["purpose"] == "analysis/homeless-care"
    con = duckdb.connect(str(hub.warehouse), read_only=True)
    try:
        con.execute(
            f"CREATE TEMP TABLE truth AS SELECT * FROM read_csv('{hub.truth('homeless_ae.csv')}', "
            "all_varchar = true)"
        )
        row = con.execute(
            """SELECT count(*) FILTER (WHERE s.status IN ('in a homelessness project',
                                                        'literally homeless')),
                      count(*), (SELECT count(*) FROM truth)
            FROM truth t LEFT JOIN housing_status s ON s.event_id = t.ae_record_id"""
        ).fetchone()
        columns = {r[0] for r in con.execute("DESCRIBE housing_status").fetchall()}
    finally:
        con.close()
    assert row is not None
    found, joined, truth = row
    assert joined == truth and truth > 0
    assert found / truth >= 0.9  # the attendances while homeless are seen as such
    assert not columns & {"address", "postcode", "nhs_number", "full_name", "birth_date"}
    share = run.output.key_figures["share_of_homeless_attendances_not_recorded_by_hospital"]
    assert share is None or 0 < share < 1
