"""value-case: cost arithmetic on a hand-checked fixture, the unit-cost and assumption
files and their bad input, the per-partner report, and the gate on every table."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sectorlink.governance import Grant, ProtectedTable, get_profile
from sectorlink.insights import get_analysis, run_analysis
from sectorlink.insights.context import InsightContext
from sectorlink.insights.value.assumptions import AssumptionError, load_assumptions
from sectorlink.insights.value.costs import (
    cost_by_cohort,
    cost_by_event_type,
    cost_concentration,
    cost_events,
)
from sectorlink.insights.value.overlap import build_known
from sectorlink.insights.value.partners import partner_records
from sectorlink.insights.value.savings import estimated_savings
from sectorlink.insights.value.unit_costs import (
    UnitCostError,
    UnitCostMissing,
    load_unit_costs,
)
from sectorlink.model import EVENT_TYPE_DOMAINS

PROFILE = get_profile("suppress-1-7-round-5")

# Hand-made events: (source, event_id, record_id, event_type, day, person)
EVENTS = [
    ("ae_northgate", "A1", "RA1", "ae_attendance", "2024-02-01", "P1"),
    ("ae_northgate", "A2", "RA1", "ae_attendance", "2024-03-01", "P1"),
    ("ambulance_westmoor", "B1", "RB1", "ambulance_callout", "2024-03-01", "P1"),
    ("ae_northgate", "A3", "RA2", "ae_assault", "2024-05-01", "P2"),
    ("police_northshire", "C1", "RC2", "police_incident", "2024-05-01", "P2"),
    ("advice_northshire", "D1", "RD3", "benefits_advice", "2024-06-01", "P3"),
    ("ae_northgate", "A4", "RA9", "ae_attendance", "2024-07-01", None),  # not linked
    ("ae_northgate", "A5", "RA3", "ae_attendance", "2023-12-31", "P3"),  # before the period
]
COSTS = """
currency: GBP
price_year: test
costs:
  ae_attendance: {cost: 300, unit: attendance, source: test}
  ae_assault: {cost: 250, unit: attendance, source: test}
  ambulance_callout: {cost: 400, unit: call-out, source: test}
  police_incident: {cost: 200, unit: incident, source: test}
  benefits_advice: {cost: 100, unit: contact, source: test}
"""
ASSUMPTIONS = """
interventions:
  violence_hotspots:
    events: [ae_assault]
    effect: {low: 0.2, central: 0.4, high: 0.5}
    evidence: published
    source: test
  ambulance_users:
    events: [ae_attendance]
    among: [ambulance_callout]
    effect: {low: 0.0, central: 0.1, high: 0.2}
    source: test
"""


def _grant(sources: tuple[str, ...]) -> Grant:
    return Grant(
        organisation="hub",
        purpose="analysis/value-case",
        action="read",
        datasets=sources,
        basis={s: "test" for s in sources},
        audit_seq=0,
        granted_at="",
    )


def _context(events: list[tuple[str, ...]], sources: tuple[str, ...]) -> InsightContext:
    con = duckdb.connect(":memory:")
    frame = pd.DataFrame(
        events, columns=["source", "event_id", "record_id", "event_type", "day", "person_key"]
    )
    con.register("_events", frame)
    con.execute(
        "CREATE TABLE event AS SELECT source, event_id, record_id, event_type, "
        "CAST(day AS TIMESTAMP) AS start_time, person_key FROM _events"
    )
    con.execute(
        "CREATE TABLE person_index AS SELECT DISTINCT source, record_id, person_key "
        "FROM _events WHERE person_key IS NOT NULL"
    )
    con.execute(
        """CREATE TABLE person AS SELECT * FROM (VALUES
            ('P1', 'F', 1980), ('P2', 'M', 2000), ('P3', 'F', 1950))
        t(person_key, sex, birth_year)"""
    )
    con.unregister("_events")
    return InsightContext(
        analysis=get_analysis("value-case"),
        con=con,
        grant=_grant(sources),
        profile=PROFILE,
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 12, 31),
        linkage_run="test",
        sources=sources,
    )


@pytest.fixture
def costed(tmp_path: Path) -> Iterator[InsightContext]:
    sources = tuple(sorted({e[0] for e in EVENTS}))
    ctx = _context(EVENTS, sources)
    (tmp_path / "costs.yaml").write_text(COSTS)
    cost_events(ctx, load_unit_costs(tmp_path / "costs.yaml"))
    yield ctx
    ctx.con.close()


def test_cost_arithmetic_on_a_hand_checked_fixture(costed) -> None:
    by_type = cost_by_event_type(costed.con).set_index("event_type")
    # A4 is counted though not linked; A5 falls before the period.
    assert by_type.loc["ae_attendance", "events"] == 3
    assert by_type.loc["ae_attendance", "total_cost"] == 900
    assert by_type.loc["ae_attendance", "people"] == 1
    assert by_type["total_cost"].sum() == 900 + 400 + 250 + 200 + 100
    build_known(costed)
    services = cost_by_cohort(costed, "services").set_index("services")
    # P1 (A&E, ambulance): 300 + 300 + 400; P2 (A&E, police): 250 + 200; P3 (advice): 100
    assert services.loc["2", "people"] == 2
    assert services.loc["2", "total_cost"] == 1000 + 450
    assert services.loc["2", "cost_per_person"] == 725
    assert services.loc["1", "total_cost"] == 100
    ages = cost_by_cohort(costed, "age_band").set_index("age_band")
    assert ages.loc["65+", "total_cost"] == 100 and ages.loc["18-34", "total_cost"] == 450
    top = cost_concentration(costed.con).set_index("top")
    # 3 residents with a cost: the top 1% and 5% are each one resident, P1
    assert top.loc["top 1%", "people"] == 1
    assert top.loc["top 1%", "share_of_cost"] == pytest.approx(1000 / 1550)
    assert top.loc["top 5%", "cost"] == 1000


def test_savings_apply_each_effect_to_its_baseline(costed, tmp_path: Path) -> None:
    path = tmp_path / "assumptions.yaml"
    path.write_text(ASSUMPTIONS)
    shipped = {a.key for a in load_assumptions()}
    assumptions = [
        a for a in load_assumptions(path) if a.key not in shipped - {"violence_hotspots"}
    ]
    savings = estimated_savings(costed, assumptions).set_index("intervention")
    violence = savings.loc["violence_hotspots"]
    assert violence["baseline_cost"] == 250
    assert (violence["saving_low"], violence["saving_central"], violence["saving_high"]) == (
        pytest.approx(50),
        pytest.approx(100),
        pytest.approx(125),
    )
    # only P1 had an ambulance call-out: their two attendances are the baseline
    users = savings.loc["ambulance_users"]
    assert users["events"] == 2 and users["baseline_cost"] == 600
    assert users["saving_central"] == pytest.approx(60)


def test_a_missing_unit_cost_is_listed_and_zero_only_when_asked(tmp_path: Path) -> None:
    events = [*EVENTS, ("advice_northshire", "D2", "RD3", "new_service", "2024-08-01", "P3")]
    ctx = _context(events, tuple(sorted({e[0] for e in events})))
    (tmp_path / "costs.yaml").write_text(COSTS)
    costs = load_unit_costs(tmp_path / "costs.yaml")
    try:
        with pytest.raises(UnitCostMissing) as missing:
            cost_events(ctx, costs)
        assert missing.value.missing == ["new_service"]
        assert "new_service" in str(missing.value) and "cost_missing_as_zero" in str(missing.value)
        assert cost_events(ctx, costs, missing_as_zero=True) == ["new_service"]
        row = ctx.sql("SELECT cost FROM event_cost WHERE event_type = 'new_service'")
        assert row["cost"].tolist() == [0.0]
    finally:
        ctx.con.close()


def test_the_shipped_tables_cover_every_event_type_and_name_sources() -> None:
    costs = load_unit_costs()
    assert set(EVENT_TYPE_DOMAINS) <= set(costs.table["event_type"])
    assert costs.table["source"].str.len().min() > 3
    assumptions = {a.key: a for a in load_assumptions()}
    assert set(assumptions) == {
        "violence_hotspots",
        "early_warning",
        "homeless_alerts",
        "lead_inspections",
        "legal_help",
    }
    assert assumptions["violence_hotspots"].central == 0.42
    for a in assumptions.values():
        assert 0 <= a.low <= a.central <= a.high <= 1 and a.source


def test_a_region_file_replaces_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "region.yaml"
    path.write_text("costs:\n  ae_attendance: {cost: 999, unit: visit, source: region audit}\n")
    costs = load_unit_costs(path)
    assert costs.cost_of("ae_attendance") == 999
    assert costs.cost_of("ambulance_callout") == load_unit_costs().cost_of("ambulance_callout")
    assert str(path) in costs.where


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("costs:\n  ae_attendance: {cost: -1, source: x}\n", r"costs\.ae_attendance\.cost"),
        ("costs:\n  ae_attendance: {cost: 5}\n", r"ae_attendance\.source"),
        ("costs: [1, 2]\n", "costs:"),
    ],
)
def test_a_bad_unit_cost_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UnitCostError, match=message) as error:
        load_unit_costs(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("effect", "message"),
    [
        ("{low: 0.1, central: 1.4, high: 1.5}", r"effect\.central: effect size 1\.4 is outside"),
        ("{low: -0.1, central: 0.2, high: 0.3}", r"effect\.low: effect size -0\.1 is outside"),
        ("{low: 0.3, central: 0.2, high: 0.4}", "low <= central <= high"),
        ("{low: 0.1, central: 0.2}", r"effect\.high: expected a number"),
    ],
)
def test_an_effect_size_outside_0_1_is_refused(tmp_path: Path, effect: str, message: str) -> None:
    path = tmp_path / "assumptions.yaml"
    path.write_text(
        f"interventions:\n  violence_hotspots:\n    events: [ae_assault]\n"
        f"    effect: {effect}\n    source: test\n"
    )
    with pytest.raises(AssumptionError, match=message) as error:
        load_assumptions(path)
    assert "interventions.violence_hotspots" in str(error.value) and str(path) in str(error.value)


def test_a_partner_with_no_data_in_the_period_is_listed_with_zeros() -> None:
    sources = ("advice_northshire", "ae_northgate", "lead_northshire")
    ctx = _context(EVENTS, sources)
    try:
        records = partner_records(ctx).set_index("partner")
    finally:
        ctx.con.close()
    assert list(records.index) == list(sources)
    assert records.loc["lead_northshire"].tolist() == [0, 0, 0, 0, 0]
    assert records.loc["ae_northgate", "events_in_period"] == 4


def _check_gate(run, stats_support: dict[str, str]) -> None:
    """Every table passed the gate: no count in 1..7 shows in a count table, and no
    statistic shows where its support is under the threshold."""
    for name, table in run.tables.items():
        assert isinstance(table, ProtectedTable), name
        if name in stats_support:
            support = table.table[stats_support[name]].dropna().astype(float)
            assert ((support == 0) | (support >= PROFILE.min_count)).all(), name
            hidden = table.table[stats_support[name]].isna()
            assert table.table[hidden].isna().all().all(), name
            continue
        values = table.table.to_numpy(dtype="float64", na_value=float("nan"))
        shown = values[~pd.isna(values)]
        assert not ((shown > 0) & (shown < PROFILE.min_count)).any(), name
        assert (shown % 5 == 0).all(), name


STATISTICS = {
    "cost_by_event_type": "people",
    "cost_by_services": "people",
    "cost_by_age": "people",
    "cost_by_sex": "people",
    "cost_concentration": "people",
    "estimated_savings": "people",
    "partner_activity": "records",
    "partner_uses": "records",
}


def test_run_publishes_every_table_through_the_gate(hub, tmp_path: Path) -> None:
    registry = hub.registry()
    try:
        run = run_analysis(
            "value-case",
            warehouse=hub.warehouse,
            registry=registry,
            organisation=hub.organisation,
            out_dir=tmp_path / "value",
        )
    finally:
        registry.close()
    assert set(get_analysis("value-case").outputs) == set(run.tables)
    _check_gate(run, STATISTICS)
    summary = json.loads((tmp_path / "value" / "summary.json").read_text())
    assert {"service_upset", "residents_by_services"} <= set(summary["figures"])
    assert (
        0
        < summary["key_figures"]["cost_share_top_1pct"]
        < summary["key_figures"]["cost_share_top_5pct"]
        < 1
    )
    # this run's own read is in the audit log it reports: every partner's data were used
    activity = run.tables["partner_activity"].table
    shown = activity["insight_runs"].dropna()
    assert len(shown) and (shown >= 1).all()
    page = (tmp_path / "value" / "summary.html").read_text()
    assert "Florence" in page and "PSSRU" in page


def test_service_overlap_still_publishes_its_tables_and_the_upset_chart(hub) -> None:
    registry = hub.registry()
    try:
        run = run_analysis(
            "service-overlap",
            warehouse=hub.warehouse,
            registry=registry,
            organisation=hub.organisation,
        )
    finally:
        registry.close()
    assert {"shared_residents", "residents_by_services", "service_combinations"} == set(run.tables)
    _check_gate(run, {})
    assert "<svg" in run.output.body and "UpSet" in run.output.body
    shared = run.tables["shared_residents"].table
    assert shared.index.tolist() == sorted(shared.index.tolist())


def test_the_cli_names_a_bad_assumption_file_and_exits_2(hub, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sectorlink.cli import app

    path = tmp_path / "effects.yaml"
    path.write_text(
        "interventions:\n  legal_help:\n    events: [ae_attendance]\n"
        "    effect: {low: 0.1, central: 2, high: 3}\n    source: test\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "insights", "run", "value-case", "--warehouse", str(hub.warehouse),
            "--registry", hub.registry_url, "--organisation", hub.organisation,
            "--param", f"assumptions={path}",
        ],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "interventions.legal_help.effect.central" in " ".join(result.output.split())
