"""The mess comes out at the configured rates, and the flags match what the files show."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sectorlink.synth.identifiers import nhs_valid
from sectorlink.synth.names import name_tables

TOLERANCE = 0.035  # several thousand records per rate: about four standard errors
AMBULANCE = "westmoor_ambulance_incidents"  # keys names twice as badly (typo_factor 2)
NHS_FILES = {"northgate_ed_attendances", AMBULANCE, "asc_episodes", "csc_referrals",
             "riverside_gp_patients"}  # fmt: skip
FULL_DOB_FILES = {"northgate_ed_attendances", "northshire_police_victims", "hmis_Client",
                  "asc_episodes", "csc_referrals", "riverside_gp_patients", "law_centre_mlp",
                  "lead_blood_tests"}  # fmt: skip
AGE_COLUMN_FILES = {"northgate_ed_attendances", "northshire_police_victims"}
LOCAL_ID = {"northgate_ed_attendances.csv": "HospitalNo", "asc_episodes.csv": "Person ID",
            "csc_referrals.txt": "CHILD_ID"}  # fmt: skip


@pytest.fixture(scope="module")
def records(messy_region, reader) -> pd.DataFrame:
    rec = pd.DataFrame(reader.truth(messy_region, "person_records"))
    people = pd.DataFrame(reader.truth(messy_region, "people"))
    merged = rec.merge(people, on="person_id", how="left", validate="many_to_one")
    for flag in ("typo_given", "typo_family", "nickname", "maiden_name", "middle_as_first",
                 "name_swap", "missing_dob", "year_only_dob", "day_month_swap",
                 "age_instead_of_dob", "missing_nhs", "invalid_nhs", "postcode_typo",
                 "sex_missing", "no_fixed_abode", "duplicate_record", "new_local_id"):  # fmt: skip
        merged[flag] = merged["mess"].str.split("|").apply(lambda labels, f=flag: f in labels)
    return merged


def _without_planted_dates(frame: pd.DataFrame, messy_region, reader) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """A record with an impossible date planted in it (a field issue: its row loads) shows
    that date instead of what its mess made; test_ingest checks those."""
    planted = pd.DataFrame(reader.truth(messy_region, "expected_field_issues"))
    if planted.empty:
        return frame
    return frame[~frame["record_id"].isin(set(planted["record_id"]))]


def _share(frame: pd.DataFrame, flag: str) -> float:
    assert len(frame) > 300, f"too few eligible records to measure {flag}"
    return float(frame[flag].mean())


@pytest.mark.parametrize(
    ("flag", "rate"),
    [("typo_given", 0.3), ("typo_family", 0.3), ("name_swap", 0.1), ("sex_missing", 0.1),
     ("missing_dob", 0.15)],
)  # fmt: skip
def test_rates_over_every_record(records, flag, rate):
    frame = records[records["file"] != AMBULANCE]
    assert _share(frame, flag) == pytest.approx(rate, abs=TOLERANCE)


def test_nickname_rate_among_names_that_have_one(records):
    t = name_tables()
    has_nickname = {str(n) for n, c in zip(t.given, np.diff(t.nick_start), strict=True) if c > 0}
    eligible = records[records["given_name"].isin(has_nickname)]
    assert _share(eligible, "nickname") == pytest.approx(0.5, abs=TOLERANCE)
    assert not records[~records["given_name"].isin(has_nickname)]["nickname"].any()


def test_maiden_name_rate_among_women_who_changed_surname(records):
    changed = (records["birth_family_name"] != records["family_name"]) & ~records[
        "family_name"
    ].str.contains("-")
    assert _share(records[changed], "maiden_name") == pytest.approx(0.6, abs=TOLERANCE)
    assert not records[~changed & ~records["family_name"].str.contains("-")]["maiden_name"].any()


def test_middle_name_as_first_rate(records):
    eligible = records[(records["middle_name"] != "") & ~records["nickname"]]
    assert _share(eligible, "middle_as_first") == pytest.approx(0.1, abs=TOLERANCE)


def test_birth_date_rates_by_what_partners_record(records):
    full = records[records["file"].isin(FULL_DOB_FILES)]
    assert _share(full, "year_only_dob") == pytest.approx(0.15, abs=TOLERANCE)
    born = pd.to_datetime(full["birth_date"])
    swappable = full[(born.dt.day <= 12) & (born.dt.day != born.dt.month)]
    assert _share(swappable, "day_month_swap") == pytest.approx(0.2, abs=TOLERANCE)
    assert not full[born.dt.day > 12]["day_month_swap"].any()
    with_age = records[records["file"].isin(AGE_COLUMN_FILES)]
    assert _share(with_age, "age_instead_of_dob") == pytest.approx(0.2, abs=TOLERANCE)
    assert not records[~records["file"].isin(AGE_COLUMN_FILES)]["age_instead_of_dob"].any()


def test_nhs_number_rates(records):
    collected = records[records["file"].isin(NHS_FILES)]
    assert _share(collected, "missing_nhs") == pytest.approx(0.3, abs=TOLERANCE)
    present = collected[~collected["missing_nhs"]]
    assert _share(present, "invalid_nhs") == pytest.approx(0.2, abs=TOLERANCE)


def test_postcode_typo_rate(records):
    housed = records[(records["file"] != AMBULANCE) & ~records["no_fixed_abode"]]
    assert _share(housed, "postcode_typo") == pytest.approx(0.2, abs=TOLERANCE)


def test_duplicate_registrations(records):
    gp = records[records["file"] == "riverside_gp_patients"]
    originals = int((~gp["duplicate_record"]).sum())
    assert gp["duplicate_record"].sum() / originals == pytest.approx(0.2, abs=TOLERANCE)
    # A duplicate is the same person under a second id, never a second person.
    dups = gp[gp["duplicate_record"]]
    assert dups["person_id"].isin(gp[~gp["duplicate_record"]]["person_id"]).all()


def test_population_mess(messy_region, reader):
    households = pd.DataFrame(reader.truth(messy_region, "households"))
    assert (households["move_date"] != "").mean() == pytest.approx(0.3, abs=0.04)
    people = pd.DataFrame(reader.truth(messy_region, "people"))
    kids = people[people["role"] == "child"]
    big = kids.groupby("household_id").size()
    big = big[big >= 2].index
    with_twins = kids[kids["twin_of"] != ""]["household_id"].unique()
    assert len(set(with_twins) - set(big)) == 0
    assert len(with_twins) / len(big) == pytest.approx(0.5, abs=0.08)
    twins = kids[kids["twin_of"] != ""].merge(
        people, left_on="twin_of", right_on="person_id", suffixes=("", "_twin")
    )
    assert (twins["birth_date"] == twins["birth_date_twin"]).all()
    assert (twins["household_id"] == twins["household_id_twin"]).all()
    assert (twins["family_name"] == twins["family_name_twin"]).all()
    assert (twins["given_name"] != twins["given_name_twin"]).all()
    sons = people[people["namesake_of"] != ""].merge(
        people, left_on="namesake_of", right_on="person_id", suffixes=("", "_father")
    )
    assert len(sons) > 20
    assert (sons["given_name"] == sons["given_name_father"]).all()
    assert (sons["address_id"] == sons["address_id_father"]).all()


def test_flags_show_in_the_ae_file(messy_region, reader, records):
    entry = next(
        e for e in messy_region.extracts if e.file.endswith("northgate_ed_attendances.csv")
    )
    _, rows = reader.rows(messy_region, entry)
    ae = pd.DataFrame(rows).merge(records, left_on="AttendanceNo", right_on="record_id")
    ae = _without_planted_dates(ae, messy_region, reader)
    assert (ae.loc[ae["missing_dob"], ["DOB", "AgeOnArrival"]] == "").all().all()
    year_only = ae[ae["year_only_dob"]]
    assert year_only["DOB"].str.fullmatch(r"\d{4}").all()
    aged = ae[ae["age_instead_of_dob"]]
    assert (aged["DOB"] == "").all() and (aged["AgeOnArrival"] != "").all()
    swapped = ae[ae["day_month_swap"]]
    for shown, true in zip(swapped["DOB"], swapped["birth_date"], strict=True):
        t = dt.date.fromisoformat(true)
        assert dt.datetime.strptime(shown, "%d/%m/%Y").date() == t.replace(day=t.month, month=t.day)
    clean_dob = ae[
        ~ae[["missing_dob", "year_only_dob", "day_month_swap", "age_instead_of_dob"]].any(axis=1)
    ]
    assert (pd.to_datetime(clean_dob["DOB"], format="%d/%m/%Y").dt.strftime("%Y-%m-%d")
            == clean_dob["birth_date"]).all()  # fmt: skip
    assert (ae.loc[ae["missing_nhs"], "NHSNo"] == "").all()
    invalid = ae[ae["invalid_nhs"]]
    assert not nhs_valid(invalid["NHSNo"].to_numpy()).any()
    valid = ae[~ae["invalid_nhs"] & ~ae["missing_nhs"]]
    assert (valid["NHSNo"] == valid["nhs_number"]).all()
    # The latin-1 file cannot hold 'ś': the hospital system wrote '?' (itself a kind of mess).
    shown = (
        ae["family_name"]
        .str.upper()
        .map(lambda s: s.encode("latin-1", "replace").decode("latin-1"))
    )
    surname = ae["PatientName"].str.split(",").str[0]
    plain = ~ae[["typo_family", "maiden_name", "name_swap"]].any(axis=1)
    assert (surname[plain] == shown[plain]).all()
    typo = ae["typo_family"] & ~ae[["maiden_name", "name_swap"]].any(axis=1)
    assert (surname[typo] != shown[typo]).all()


def test_local_person_ids_repeat_and_split_at_the_rate(messy_region, reader, records):
    """A local person id (hospital number) repeats across one person's records, a repeat
    record is registered under a new one at the configured rate, and no id ever covers
    two people, so the truth still holds."""
    repeats, split = 0, 0
    for name, column in LOCAL_ID.items():
        entry = next(e for e in messy_region.extracts if e.file.endswith(name))
        _, rows = reader.rows(messy_region, entry)
        spec = reader.spec(messy_region, entry)
        assert spec["person"]["local_person_id"] == column
        frame = pd.DataFrame(rows).merge(
            records, left_on=spec["record_id"], right_on="record_id", validate="one_to_one"
        )
        assert (frame.groupby(column)["person_id"].nunique() == 1).all(), name
        # Rows are in date order: a person's first record carries their own id.
        first = frame.groupby("person_id")[column].first()
        later = frame[frame.duplicated("person_id")]
        own = later[column].to_numpy() == first.loc[later["person_id"]].to_numpy()
        assert (own == ~later["new_local_id"].to_numpy()).all(), name
        assert not frame[~frame.duplicated("person_id")]["new_local_id"].any()
        repeats += len(later)
        split += int(later["new_local_id"].sum())
    assert repeats > 300
    assert split / repeats == pytest.approx(0.3, abs=TOLERANCE)


def test_hmis_says_how_good_each_birth_date_is(messy_region, reader, records):
    entry = next(e for e in messy_region.extracts if e.file.endswith("hmis_Client.csv"))
    _, rows = reader.rows(messy_region, entry)
    hmis = pd.DataFrame(rows).merge(records, left_on="PersonalID", right_on="record_id")
    hmis = _without_planted_dates(hmis, messy_region, reader)
    year_only = hmis[hmis["year_only_dob"]]
    assert (year_only["DOBDataQuality"] == "2").all()
    assert year_only["DOB"].str.endswith("-01-01").all()
    missing = hmis[hmis["missing_dob"]]
    assert (missing["DOB"] == "").all() and missing["DOBDataQuality"].isin(["8", "9", "99"]).all()
    rest = hmis[~hmis["year_only_dob"] & ~hmis["missing_dob"]]
    assert (rest["DOBDataQuality"] == "1").all() and (rest["DOB"] != "").all()
