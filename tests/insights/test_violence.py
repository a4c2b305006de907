"""violence-hotspots: incidents, ISTV quality, hotspots, the release and its bad inputs."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from sectorlink.governance import AccessDenied, Grant, read_audit_log
from sectorlink.insights import InsightRun, NothingToPublish, UnknownAnalysis, run_analysis
from sectorlink.insights.violence.events import AttributeRule, EventRuleError, collect_events
from sectorlink.insights.violence.hotspots import HotspotRules, benjamini_hochberg, gi_star
from sectorlink.insights.violence.incidents import IncidentRules, build_incidents
from sectorlink.insights.violence.profiles import monthly_flags, peak_window

from .conftest import Hub

FAST = {"permutations": "999"}


def _run(hub: Hub, out: Path | None, **kwargs: Any) -> InsightRun:
    registry = hub.registry()
    try:
        params = {**FAST, **kwargs.pop("params", {})}
        return run_analysis(
            "violence-hotspots",
            warehouse=hub.warehouse,
            registry=registry,
            organisation=kwargs.pop("organisation", hub.organisation),
            out_dir=out,
            params=params,
            **kwargs,
        )
    finally:
        registry.close()


@dataclass
class Released:
    hub: Hub
    out: Path
    run: InsightRun


@pytest.fixture(scope="module")
def released(linked_region: Hub, tmp_path_factory: pytest.TempPathFactory) -> Released:
    """One default run on a private copy of the shared region, read by several tests."""
    folder = tmp_path_factory.mktemp("violence")
    shutil.copy(linked_region.warehouse, folder / "warehouse.duckdb")
    shutil.copy(linked_region.registry_path, folder / "registry.db")
    hub = Hub(linked_region.region_dir, folder / "warehouse.duckdb", folder / "registry.db")
    out = folder / "release"
    return Released(hub, out, _run(hub, out))


def _kept(hub: Hub, table: str) -> pd.DataFrame:
    con = duckdb.connect(str(hub.warehouse), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table}").df()
    finally:
        con.close()


def _truth_events(hub: Hub) -> pd.DataFrame:
    truth = pd.read_csv(hub.truth("assaults.csv"), dtype=str)
    parts = []
    for column, source in (
        ("ae_record_id", "ae_source"),
        ("police_incident_id", "police_source"),
        ("ambulance_incident_id", "ambulance_source"),
    ):
        part = truth[truth[column].notna()][["assault_id", source, column]]
        parts.append(part.set_axis(["assault_id", "source", "event_id"], axis=1))
    return pd.concat(parts, ignore_index=True)


def _pairs(frame: pd.DataFrame, key: str) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for _, group in frame.groupby(key):
        out.update(itertools.combinations(sorted(group["source"] + ":" + group["event_id"]), 2))
    return out


# -- the release -----------------------------------------------------------------------------


def test_the_release_holds_every_table_map_and_figure(released: Released) -> None:
    summary = json.loads((released.out / "summary.json").read_text())
    assert summary["analysis"] == "violence-hotspots"
    assert summary["purpose"] == "analysis/violence-hotspots"
    assert set(summary["data_sets"]) == {"ae_northgate", "ambulance_westmoor", "police_northshire"}
    for name in (
        "incidents_by_area",
        "hotspots",
        "incidents_by_place_type",
        "incidents_by_hour_of_week",
        "method_by_place_type",
        "unknown_to_police",
        "istv_quality",
    ):
        assert name in summary["tables"], name
        assert (released.out / summary["tables"][name]["csv"]).is_file()
    # A small region's monthly counts may all be small: then withheld, and said so.
    assert "monthly_trend" in summary["tables"] or "monthly_trend" in summary["withheld"]
    for name in summary["tables"]:
        columns = pd.read_csv(released.out / f"{name}.csv", nrows=0).columns
        assert not any(str(c).startswith("level_") for c in columns), name
    assert set(summary["maps"]) == {"incidents_map", "hotspots_map"}
    assert {"incidents_map", "hotspots_map", "hour_of_week"} <= set(summary["figures"])
    assert summary["person_level_tables"] == ["violence_incident", "violence_incident_event"]
    page = (released.out / "summary.html").read_text()
    assert "unknown" in page and "<svg" in page
    figures = summary["key_figures"]
    assert figures["incidents"] > 0
    assert 0 < figures["share_ae_unknown_to_police"] < 1
    # Counts through the gate: every shown count a multiple of 5 under the default profile.
    hours = pd.read_csv(released.out / "incidents_by_hour_of_week.csv", dtype=str)
    shown = hours.drop(columns="day").to_numpy().ravel()
    assert all(int(v) % 5 == 0 for v in shown if v != "[c]")


def test_each_event_is_in_one_incident_and_incidents_match_the_truth(released: Released) -> None:
    incidents = _kept(released.hub, "violence_incident")
    events = _kept(released.hub, "violence_incident_event")
    assert list(events.columns) == ["incident_id", "source", "event_id"]
    assert not events.duplicated(["source", "event_id"]).any()
    assert incidents["incident_id"].is_unique
    assert set(events["incident_id"]) == set(incidents["incident_id"])
    assert incidents["events"].sum() == len(events)
    # Pairwise F1 of events grouped into incidents against the planted assaults.
    truth = _truth_events(released.hub)
    known = set(truth["source"] + ":" + truth["event_id"])
    assert known <= set(events["source"] + ":" + events["event_id"])
    true_pairs = _pairs(truth, "assault_id")
    found = {p for p in _pairs(events, "incident_id") if p[0] in known or p[1] in known}
    hit = len(true_pairs & found)
    precision, recall = hit / len(found), hit / len(true_pairs)
    assert 2 * precision * recall / (precision + recall) >= 0.95


def test_the_share_unknown_to_police_is_close_to_the_truth(released: Released) -> None:
    truth = pd.read_csv(released.hub.truth("violence_hotspots.csv"), dtype=str)
    planted = float(truth.loc[truth["hotspot_id"] == "ALL", "share_ae_not_reported"].iloc[0])
    estimate = released.run.summary["key_figures"]["share_ae_unknown_to_police"]
    assert abs(estimate - planted) <= 0.03


def test_planted_hotspots_are_found(released: Released) -> None:
    truth = pd.read_csv(released.hub.truth("violence_hotspots.csv"), dtype=str)
    planted = set(truth.loc[truth["hotspot_id"].str.startswith("H"), "small_area"])
    table = pd.read_csv(released.out / "hotspots.csv", dtype=str)
    flagged = set(table.loc[table["hotspot"] == "True", "area"])
    assert len(planted & flagged) / len(planted) >= 0.75
    assert len(flagged - planted) <= 1


def test_a_small_area_with_few_assaults_is_hidden_on_the_table_and_the_map(
    released: Released,
) -> None:
    incidents = _kept(released.hub, "violence_incident")
    counts = incidents.dropna(subset=["area"]).groupby("area").size()
    small = set(counts[(counts >= 1) & (counts <= 7)].index)
    assert small, "the region should have an area with 1-7 assaults"
    table = pd.read_csv(released.out / "incidents_by_area.csv", dtype=str).set_index("area")
    assert all(table.at[a, "incidents"] == "[c]" for a in small)
    features = json.loads((released.out / "incidents_map.geojson").read_text())["features"]
    for feature in features:
        if feature["properties"]["code"] in small:
            assert feature["properties"]["incidents"] is None
            assert feature["properties"]["suppressed"] is True
    svg = (released.out / "incidents_map.svg").read_text()
    assert "suppressed" in svg


# -- bad input ---------------------------------------------------------------------------------


def test_a_period_with_no_assaults_publishes_nothing(hub: Hub, tmp_path: Path) -> None:
    out = tmp_path / "release"
    with pytest.raises(NothingToPublish, match="no assault"):
        _run(hub, out, period=(dt.date(1990, 1, 1), dt.date(1990, 12, 31)))
    assert not out.exists()
    registry = hub.registry()
    assert read_audit_log(registry, limit=100_000)[-1].outcome == "withheld"
    registry.close()


def test_an_organisation_without_agreement_is_refused_and_audited(hub: Hub, tmp_path: Path) -> None:
    out = tmp_path / "release"
    with pytest.raises(AccessDenied):
        _run(hub, out, organisation="Northshire Police")
    assert not out.exists()
    registry = hub.registry()
    last = read_audit_log(registry, limit=100_000)[-1]
    assert last.outcome == "refused" and last.purpose == "analysis/violence-hotspots"
    registry.close()


def test_an_unknown_analysis_name_lists_the_names(hub: Hub) -> None:
    registry = hub.registry()
    try:
        with pytest.raises(UnknownAnalysis, match="violence-hotspots"):
            run_analysis(
                "violence-hotspot",
                warehouse=hub.warehouse,
                registry=registry,
                organisation=hub.organisation,
            )
    finally:
        registry.close()


@pytest.mark.slow
def test_bad_places_and_a_site_without_istv_fields_are_reported(hub: Hub, tmp_path: Path) -> None:
    con = duckdb.connect(str(hub.warehouse))
    try:
        # A second A&E site that sends no ISTV fields for its assaults.
        moved = con.execute(
            """UPDATE event SET site_code = 'RNG02' WHERE event_type = 'ae_assault'
               AND event_id IN (SELECT event_id FROM event WHERE event_type = 'ae_assault'
                                ORDER BY event_id LIMIT 40)"""
        ).fetchone()
        con.execute(
            "DELETE FROM violence WHERE event_id IN "
            "(SELECT event_id FROM event WHERE site_code = 'RNG02')"
        )
        # Police coordinates far outside the region, with no postcode to fall back on.
        con.execute(
            """UPDATE event SET latitude = 10.0, longitude = 10.0, postcode = NULL
               WHERE event_type = 'police_incident' AND event_id IN (
                   SELECT event_id FROM event WHERE event_type = 'police_incident'
                   ORDER BY event_id LIMIT 60)"""
        )
        # A&E assault postcodes the lookup does not hold.
        con.execute(
            """UPDATE event SET postcode = 'ZZ1 9ZZ' WHERE event_type = 'ae_assault'
               AND postcode IS NOT NULL AND event_id IN (
                   SELECT event_id FROM event WHERE event_type = 'ae_assault'
                   AND postcode IS NOT NULL ORDER BY event_id DESC LIMIT 15)"""
        )
    finally:
        con.close()
    assert moved and moved[0] == 40
    run = _run(hub, tmp_path / "release")
    notes = " ".join(run.notes)
    assert "RNG02 sent no ISTV fields" in notes
    assert "outside the region" in notes
    assert "postcode the lookup does not hold" in notes
    quality = run.tables["istv_quality"].table
    site = quality.loc[quality.index.get_level_values("site") == "RNG02"]
    assert len(site)
    # Months with few attendances are hidden by the gate; any shown say nothing recorded.
    assert (site["pct_method"].dropna() == 0).all()
    placement = run.tables["placement"].table
    assert "outside" in placement.index or "unplaced" in placement.index


def test_windows_are_parameters(linked_region: Hub) -> None:
    from sectorlink.governance import get_profile
    from sectorlink.insights import build_context, get_analysis
    from sectorlink.insights.context import sources_read
    from sectorlink.insights.run import _attach

    analysis = get_analysis("violence-hotspots")
    probe = _attach(linked_region.warehouse)
    sources = tuple(sources_read(probe, analysis))
    probe.close()
    grant = Grant(
        organisation="hub",
        purpose=analysis.purpose,
        action="read",
        datasets=sources,
        basis={s: "test" for s in sources},
        audit_seq=0,
        granted_at="",
    )
    ctx = build_context(
        linked_region.warehouse, analysis, grant, profile=get_profile("suppress-1-7-round-5")
    )
    try:
        collect_events(ctx.con)
        wide = build_incidents(ctx.con)
        narrow = build_incidents(ctx.con, IncidentRules(ambulance_hours=0.01, police_days=0.001))
    finally:
        ctx.con.close()
    assert wide["events"] == narrow["events"]
    assert narrow["incidents"] > wide["incidents"]
    assert narrow["ae_and_police"] < wide["ae_and_police"]
    assert narrow["ae_and_ambulance"] < wide["ae_and_ambulance"]
    with pytest.raises(ValueError, match="police_days must be positive"):
        IncidentRules(police_days=0)


# -- the pieces -----------------------------------------------------------------------------------


def test_benjamini_hochberg_matches_the_textbook() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert np.allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])


def test_peak_window_wraps_midnight() -> None:
    hours = np.zeros(24)
    hours[[22, 23, 0, 1]] = 10
    hours[12] = 3
    start, end, share = peak_window(hours, 4)
    assert (start, end) == (22, 2)
    assert share == pytest.approx(40 / 43)


def test_monthly_flags_mark_a_month_above_its_past_year() -> None:
    months = pd.date_range("2023-01-01", periods=14, freq="MS")
    counts = pd.DataFrame({"ae": [10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 12, 40, 10]}, months)
    flags = monthly_flags(counts)
    assert list(flags.loc[flags["above"], "month"]) == [months[12]]


def test_attribute_rules_are_read_or_refused() -> None:
    rule = AttributeRule.parse("ChiefComplaint=Assault|Stabbing", what="ambulance_rule")
    assert rule.values == ("Assault", "Stabbing")
    with pytest.raises(EventRuleError, match="ATTRIBUTE=value"):
        AttributeRule.parse("Assault", what="ambulance_rule")


def _square(x: int, y: int) -> str:
    ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def test_gi_star_finds_a_planted_hot_area_and_not_its_neighbours() -> None:
    codes = [f"A{x}{y}" for x in range(7) for y in range(7)]
    areas = pd.DataFrame(
        {"code": codes, "geometry": [_square(x, y) for x in range(7) for y in range(7)]}
    )
    rng = np.random.default_rng(3)
    counts = pd.Series(rng.poisson(10, len(codes)), index=codes)
    counts["A33"] = 60
    residents = pd.Series(1000, index=codes)
    result, _ = gi_star(areas, counts, residents, HotspotRules(permutations=999))
    result = result.set_index("area")
    assert list(result.index[result["hotspot"]]) == ["A33"]
    assert result.at["A33", "z"] > 0
    assert result.at["A33", "neighbours"] == 8


def test_istv_quality_flags_a_month_below_the_sites_recent_level() -> None:
    from sectorlink.insights.violence.quality import istv_quality

    con = duckdb.connect(":memory:")
    try:
        con.execute(
            """CREATE TABLE v_event AS
            SELECT 'ae' AS source, 'E' || i AS event_id, 'ae' AS kind, 'RNG01' AS site_code,
                   TIMESTAMP '2024-01-05' + INTERVAL (i // 10) MONTH AS arrival
            FROM range(80) t(i)"""
        )
        # Every field recorded for seven months; the eighth month loses method and place.
        con.execute(
            """CREATE TABLE violence AS
            SELECT source, event_id, arrival AS assault_datetime, arrival AS arrival_datetime,
                   CASE WHEN arrival >= TIMESTAMP '2024-08-01' THEN NULL ELSE '01' END
                       AS assault_method,
                   CASE WHEN event_id = 'E3' THEN 'other text' END AS assault_method_other,
                   CASE WHEN arrival >= TIMESTAMP '2024-08-01' THEN '98' ELSE '02' END
                       AS assault_location_type,
                   'Mill Lane' AS assault_location_description
            FROM v_event"""
        )
        quality = istv_quality(con, (dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
    finally:
        con.close()
    assert len(quality) == 8
    assert list(quality["below_recent_level"]) == [False] * 7 + [True]
    last = quality.iloc[-1]
    assert last["pct_method"] == 0 and last["pct_location_type"] == 0
    assert last["mean_completeness"] == pytest.approx(0.6)


# -- places and the expectation ---------------------------------------------------------------


def test_a_place_on_an_area_edge_is_counted_whole_in_the_area_holding_most_of_it() -> None:
    from sectorlink.insights.violence.places import PLACE_TABLE, attribute_to_places

    rng = np.random.default_rng(5)
    # Areas A (west) and B (east) meet at longitude 0; a pub 30 m west of the boundary
    # whose incidents scatter 60 m about it, and a few incidents at homes far inside B.
    metres = 1 / 111_200
    east = rng.normal(-30, 60, 80) * metres
    north = 54 + rng.normal(0, 60, 80) * metres
    homes_east = np.array([900.0, 1300.0, 1700.0]) * metres
    frame = pd.DataFrame(
        {
            "incident_id": [f"I{i}" for i in range(83)],
            "lat": np.concatenate([north, [54.0, 54.004, 53.996]]),
            "lon": np.concatenate([east, homes_east]) / np.cos(np.radians(54)),
        }
    )
    frame["area"] = np.where(frame["lon"] < 0, "A", "B")
    spilled = int(((frame["area"] == "B") & (frame.index < 80)).sum())
    assert spilled >= 10  # the pub spills into B as the services record it
    con = duckdb.connect(":memory:")
    try:
        con.register("frame", frame)
        con.execute("CREATE TABLE inc AS SELECT * FROM frame")
        moved = attribute_to_places(con, "inc", radius_m=150)
        places = con.execute(f"SELECT * FROM {PLACE_TABLE}").df().set_index("incident_id")
    finally:
        con.close()
    pub = places.reindex([f"I{i}" for i in range(80)])["place_area"]
    # Nearly all the pub's incidents are counted in A (a few far out keep their own area).
    assert (pub == "A").mean() >= 0.9
    assert moved >= spilled - 3
    assert list(places.reindex(["I80", "I81", "I82"])["place_area"]) == ["B", "B", "B"]


def _grid_areas(size: int) -> pd.DataFrame:
    codes = [f"A{x}{y}" for x in range(size) for y in range(size)]
    return pd.DataFrame(
        {"code": codes, "geometry": [_square(x, y) for x in range(size) for y in range(size)]}
    )


def test_the_expectation_follows_where_the_victims_live() -> None:
    """An estate whose residents suffer many assaults at home is not a hotspot; a place
    that draws victims from everywhere is, whatever the residents' count says."""
    areas = _grid_areas(7)
    codes = list(areas["code"])
    rng = np.random.default_rng(11)
    at_home = pd.Series(rng.poisson(8, len(codes)), index=codes)
    at_home["A11"] = 45  # repeat victims on one estate, assaulted at home
    rows = [{"home_area": c, "area": c, "incidents": int(n)} for c, n in at_home.items()]
    # The hotspot's 40 victims live all over the region.
    visitors = rng.choice(codes, 40)
    rows += [{"home_area": c, "area": "A44", "incidents": 1} for c in visitors]
    flows = pd.DataFrame(rows).groupby(["home_area", "area"], as_index=False)["incidents"].sum()
    counts = flows.groupby("area")["incidents"].sum()
    residents = pd.Series(400, index=codes)
    rules = HotspotRules(permutations=199)
    by_victims, test = gi_star(areas, counts, residents, rules, flows=flows)
    assert list(by_victims.loc[by_victims["hotspot"], "area"]) == ["A44"]
    assert test is not None and test.shares["at_home_area"] > 0.9
    # Against the residents alone the estate looks like a hotspot too.
    by_residents, _ = gi_star(areas, counts, residents, rules)
    assert set(by_residents.loc[by_residents["hotspot"], "area"]) == {"A11", "A44"}


def test_over_dispersed_counts_raise_no_false_hotspot_and_a_real_one_stays() -> None:
    from sectorlink.insights.violence.expected import area_test, upper_tail

    rng = np.random.default_rng(2)
    n, mean, dispersion = 300, 20.0, 3.0
    # NB1 counts: mean 20, variance 3 x 20 (a Poisson test flags many of them).
    y = rng.negative_binomial(mean / (dispersion - 1), 1 / dispersion, n).astype(float)
    y[7] = 120
    result = area_test(y, lambda keep: (np.ones(n), {}), 0.05)
    assert 2.0 <= result.dispersion <= 4.5
    assert list(np.flatnonzero(result.hotspot)) == [7]
    # A Poisson test of the same counts against the same expectation flags many more.
    poisson = benjamini_hochberg(upper_tail(y, result.expected, 1.0))
    assert ((poisson <= 0.05) & (y > result.expected)).sum() >= 5
