"""The planted signals: truth consistent with the extracts, and strong enough to find."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import numpy as np
import pandas as pd
import pytest

CHANGE = dt.date(2021, 10, 28)


def _frame(reader, manifest, name: str) -> pd.DataFrame:
    return pd.DataFrame(reader.truth(manifest, name))


def _extract(reader, manifest, file_name: str) -> pd.DataFrame:
    entry = next(e for e in manifest.extracts if e.file.endswith(file_name))
    _, rows = reader.rows(manifest, entry)
    return pd.DataFrame(rows)


def _true(series: pd.Series) -> pd.Series:
    return series == "true"


def test_hotspot_counts_match_the_assaults(signals_region, reader):
    assaults = _frame(reader, signals_region, "assaults")
    hotspots = _frame(reader, signals_region, "violence_hotspots").set_index("hotspot_id")
    attended, reported = _true(assaults["attended_ae"]), _true(assaults["reported_to_police"])
    for hid, row in hotspots.iterrows():
        if hid == "ALL":
            mask = pd.Series(True, index=assaults.index)
        elif hid == "BACKGROUND":
            mask = assaults["hotspot_id"] == ""
        else:
            mask = assaults["hotspot_id"] == hid
        assert int(row["assaults"]) == mask.sum()
        assert int(row["ae_assaults"]) == (mask & attended).sum()
        assert int(row["ae_not_reported_to_police"]) == (mask & attended & ~reported).sum()
        assert int(row["police_reports"]) == (mask & reported).sum()
    # Assaults concentrate: each hotspot is a tiny area with a large share of all assaults.
    at_hotspots = (assaults["hotspot_id"] != "").mean()
    assert at_hotspots > 0.25


def test_hotspot_assaults_are_in_the_place_and_the_peak_hours(signals_region, reader):
    assaults = _frame(reader, signals_region, "assaults")
    hotspots = _frame(reader, signals_region, "violence_hotspots")
    spots = hotspots[~hotspots["hotspot_id"].isin(["ALL", "BACKGROUND"])].set_index("hotspot_id")
    hot = assaults[assaults["hotspot_id"] != ""].join(spots, on="hotspot_id", rsuffix="_spot")
    dlat = (hot["latitude"].astype(float) - hot["latitude_spot"].astype(float)) * 111_320
    dlon = (hot["longitude"].astype(float) - hot["longitude_spot"].astype(float)) * 111_320 * 0.59
    assert (np.hypot(dlat, dlon) < 5 * hot["radius_m"].astype(float)).mean() > 0.99
    when = pd.to_datetime(hot["assault_datetime"])
    start = hot["peak_start_hour"].astype(int)
    hours_in = (when.dt.hour - start) % 24
    span = (hot["peak_end_hour"].astype(int) - start) % 24
    assert (hours_in < span).all()
    # The window starts on a peak day (it may run past midnight into the next day).
    start_day = (when - pd.to_timedelta(hours_in, unit="h")).dt.strftime("%a")
    assert all(d in days.split("|") for d, days in zip(start_day, hot["peak_days"], strict=True))


def test_assault_links_point_at_real_rows(signals_region, reader):
    assaults = _frame(reader, signals_region, "assaults")
    ae = _extract(reader, signals_region, "northgate_ed_attendances.csv").set_index("AttendanceNo")
    incidents = _extract(reader, signals_region, "northshire_police_incidents.csv")
    attended = assaults[_true(assaults["attended_ae"])]
    assert (attended["ae_record_id"] != "").all()
    rows = ae.loc[attended["ae_record_id"]]
    assert (rows["AttendanceCategory"] == "Assault").all()
    assert (ae["AttendanceCategory"] == "Assault").sum() == len(attended)
    reported = assaults[_true(assaults["reported_to_police"])]
    assert set(reported["police_incident_id"]) <= set(incidents["IncidentNo"])
    assert (assaults.loc[~_true(assaults["reported_to_police"]), "police_incident_id"] == "").all()


def test_lead_truth_follows_the_reference_value_in_force(signals_region, reader):
    tests = _frame(reader, signals_region, "lead_tests")
    dates = pd.to_datetime(tests["sample_date"]).dt.date
    expected = np.where(dates < CHANGE, 5.0, 3.5)
    assert (tests["reference_value"].astype(float) == expected).all()
    assert (_true(tests["elevated"]) == (tests["result_ug_dl"].astype(float) >= expected)).all()
    assert (dates < CHANGE).any() and (dates >= CHANGE).any()
    extract = _extract(reader, signals_region, "lead_blood_tests.csv").set_index("SpecimenID")
    shown = extract.loc[tests["record_id"]]
    result = shown["Result"].astype(float).to_numpy()  # µmol/L rows converted; placeholders out
    ug_dl = np.where(shown["Unit"] == "umol/L", np.round(result * 20.72, 2), result)
    real = ~np.isin(result, (999.0, -1.0))
    assert (ug_dl[real] == tests["result_ug_dl"].astype(float)[real]).all() and real.mean() > 0.99
    children = _frame(reader, signals_region, "lead_children")
    by_child = tests.assign(el=_true(tests["elevated"])).groupby("person_id")["el"].any()
    assert (
        children.set_index("person_id")["poisoned"].eq("true")
        == by_child.loc[children["person_id"]].to_numpy()
    ).all()


def test_lead_hazard_drives_poisoning_and_is_predictable(signals_region, reader):
    children = _frame(reader, signals_region, "lead_children")
    hazard = _true(children["home_lead_hazard"])
    poisoned = _true(children["poisoned"])
    assert hazard.sum() >= 20 and (~hazard).sum() >= 100
    assert poisoned[hazard].mean() > 4 * poisoned[~hazard].mean()
    props = _frame(reader, signals_region, "lead_properties")
    old = props["year_built"].astype(int) < 1919
    new = props["year_built"].astype(int) >= 1980
    lead = _true(props["lead_hazard"])
    assert lead[old].mean() > 5 * max(lead[new].mean(), 0.001)


def test_crisis_events_exist_where_the_truth_says(signals_region, reader):
    crisis = _frame(reader, signals_region, "crisis")
    cohort = crisis[_true(crisis["in_cohort"])]
    assert len(cohort) > 30 and (~_true(crisis["in_cohort"])).any()
    assert (
        pd.to_datetime(cohort["escalation_start"]) < pd.to_datetime(cohort["crisis_date"])
    ).all()
    assert (cohort["precursor_events"].astype(int) >= 5).all()
    ae = _extract(reader, signals_region, "northgate_ed_attendances.csv").set_index("AttendanceNo")
    mh = crisis[crisis["crisis_type"] == "mental_health_crisis"]
    rows = ae.loc[mh["event_id"]]
    assert (rows["AttendanceCategory"] == "MH Crisis").all()
    arrived = pd.to_datetime(rows["ArrivalDT"], format="%d/%m/%Y %H:%M").dt.strftime("%Y-%m-%d")
    assert (arrived.to_numpy() == mh["crisis_date"].to_numpy()).all()
    enrol = _extract(reader, signals_region, "hmis_Enrollment.csv").set_index("EnrollmentID")
    loss = crisis[crisis["crisis_type"] == "housing_loss"]
    rows = enrol.loc[loss["event_id"].str.removesuffix("-HL")]
    assert rows["ReasonForPresentation"].isin(["Eviction", "Rent arrears"]).all()
    assert (rows["EntryDate"].to_numpy() == loss["crisis_date"].to_numpy()).all()


def test_cohort_contacts_escalate_before_the_crisis(signals_region, reader):
    """Cohort members' records are dense in the escalation window, as planted."""
    crisis = _frame(reader, signals_region, "crisis")
    cohort = crisis[_true(crisis["in_cohort"])]
    records = _frame(reader, signals_region, "person_records")
    per_person = records.groupby("person_id").size()
    everyone = per_person.mean()
    assert per_person.reindex(cohort["person_id"]).fillna(0).mean() > 2 * everyone


def test_homeless_ae_rows_are_attendances_while_homeless(signals_region, reader):
    rows = _frame(reader, signals_region, "homeless_ae")
    assert len(rows) > 20
    arrival = pd.to_datetime(rows["arrival_datetime"]).dt.normalize()
    assert (arrival >= pd.to_datetime(rows["homeless_from"])).all()
    ended = rows["homeless_to"] != ""
    assert (arrival[ended] <= pd.to_datetime(rows.loc[ended, "homeless_to"])).all()
    ae = _extract(reader, signals_region, "northgate_ed_attendances.csv").set_index("AttendanceNo")
    shown = ae.loc[rows["ae_record_id"]]
    nfa = shown["Address"].isin(["NFA", "No fixed abode"]).to_numpy()
    assert (nfa == _true(rows["recorded_no_fixed_abode"]).to_numpy()).all()
    assert _true(rows["known_to_hmis"]).mean() > 0.5


def test_mlp_truth_matches_the_workbook(signals_region, reader):
    truth = _frame(reader, signals_region, "mlp")
    book = _extract(reader, signals_region, "law_centre_mlp.xlsx").set_index("Screen ID")
    rows = book.loc[truth["record_id"]]
    referred = _true(truth["referred"])
    assert ((rows["Referred"] == "Yes").to_numpy() == referred.to_numpy()).all()
    assert (
        truth.loc[referred, "referral_event_id"] == truth.loc[referred, "record_id"] + "-R"
    ).all()
    intake = _true(truth["legal_intake"])
    assert not (intake & ~referred).any()
    assert (truth.loc[referred, "outcome"] != "").all() and (
        truth.loc[~referred, "outcome"] == ""
    ).all()
    for domain in ("income", "housing", "education", "legal_status", "literacy", "personal_safety"):
        chosen = truth["domain"] == domain
        assert _true(truth.loc[chosen, domain]).all()
    assert 0.1 < referred.mean() < 0.6


def test_every_address_lies_in_its_small_area(signals_region, reader):
    geo = signals_region.geography
    areas = json.loads((signals_region.out_dir / geo["small_areas"]).read_text())
    rings = {
        f["properties"]["code"]: np.array(f["geometry"]["coordinates"][0])
        for f in areas["features"]
    }
    assert all((ring[0] == ring[-1]).all() for ring in rings.values())
    addresses = pd.read_csv(signals_region.out_dir / geo["addresses"], dtype={"small_area": str})
    inside = np.zeros(len(addresses), bool)
    for code, group in addresses.groupby("small_area"):
        inside[group.index] = _in_polygon(
            group["longitude"].to_numpy(), group["latitude"].to_numpy(), rings[code]
        )
    assert inside.all()
    postcodes = set(pd.read_csv(signals_region.out_dir / geo["postcodes"])["postcode"])
    assert set(addresses["postcode"]) == postcodes


def _in_polygon(x: np.ndarray, y: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Ray casting: points strictly inside a closed ring."""
    inside = np.zeros(len(x), bool)
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        crosses = (y1 > y) != (y2 > y)
        at = (x2 - x1) * (y - y1) / np.where(y2 == y1, 1e-12, y2 - y1) + x1
        inside ^= crosses & (x < at)
    return inside


@pytest.mark.parametrize(
    "name", ["people", "person_records", "assaults", "lead_tests", "crisis", "mlp"]
)
def test_truth_person_ids_are_people(signals_region, reader, name):
    people = {r["person_id"] for r in reader.truth(signals_region, "people")}
    assert {r["person_id"] for r in reader.truth(signals_region, name)} <= people
