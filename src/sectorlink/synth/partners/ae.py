"""Northgate Hospital A&E: one row per attendance, ISTV assault fields filled for assaults.

Semicolon-separated, latin-1, Windows line ends (an export from an old PAS). Names as
'SURNAME, Forename Middle'; dates dd/mm/yyyy; sex as NHS codes 1/2/9; no fixed abode
written as 'NFA' with the NHS pseudo-postcode ZZ99 3VZ.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth import vocab as v
from sectorlink.synth.frames import take
from sectorlink.synth.mess import NO_ADDRESS, Habits
from sectorlink.synth.partners.base import ChunkContext, FileLayout, Partner, local_person_ids
from sectorlink.synth.rejects import DateColumn, IdColumn, RejectTargets

SOURCE = "ae_northgate"
KEY = "northgate_ed_attendances"
HOSPITAL_NUMBERS = "northgate_hospital_numbers"
HABITS = Habits(nhs=True, age_column=True)
DT = "%d/%m/%Y %H:%M"
CATEGORY = ("Illness", "Injury", "Assault", "Self harm", "MH Crisis")
METHOD = ("Punch/Kick", "Blunt object", "Knife", "Bottle/Glass", "Firearm", "Other", "Not known")
PLACE = (
    "Home",
    "Street",
    "Pub/Club",
    "Workplace",
    "School",
    "Public transport",
    "Other",
    "Not known",
)
OTHER_METHODS = np.array(["Bitten", "Pushed over", "Strangled", "Hit by vehicle", "Burned"])

SPEC = {
    "file": {"format": "csv", "delimiter": ";", "encoding": "latin-1"},
    "record_id": "AttendanceNo",
    "person": {
        "local_person_id": "HospitalNo",
        "full_name": {"column": "PatientName", "split": "surname_comma_forename"},
        "birth_date": {"column": "DOB", "formats": ["%d/%m/%Y"]},
        "age_years": "AgeOnArrival",
        "age_at_date": {"column": "ArrivalDT", "formats": [DT]},
        "sex": "Gender",
        "address": "Address",
        "postcode": "PostCode",
        "nhs_number": "NHSNo",
    },
    "events": [
        {
            "event_type": {
                "column": "AttendanceCategory",
                "codes": {"Assault": "ae_assault", "MH Crisis": "mental_health_crisis"},
                "default": "ae_attendance",
            },
            "event_id": "AttendanceNo",
            "start_time": {"column": "ArrivalDT", "formats": [DT]},
            "postcode": "AssaultPostcode",
            "site_code": {"value": "RNG01"},
            "attributes": ["AttendanceCategory", "ArrivalMode", "PresentingComplaint"],
            "detail": {
                "violence": {
                    "when": {"column": "AttendanceCategory", "in": ["Assault"]},
                    "assault_datetime": {"column": "AssaultDT", "formats": [DT]},
                    "arrival_datetime": {"column": "ArrivalDT", "formats": [DT]},
                    "assault_method": {
                        "column": "AssaultMethod",
                        "codes": {"Punch/Kick": "01", "Blunt object": "02", "Bottle/Glass": "04"},
                    },
                    "assault_method_other": "AssaultMethodOther",
                    "assault_location_type": {
                        "column": "AssaultLocationType",
                        "codes": {"Pub/Club": "03", "Workplace": "04", "Public transport": "06"},
                    },
                    "assault_location_description": "AssaultLocation",
                    "reporting_period": "SubmissionPeriod",
                    "reported_to_police": "PoliceInformed",
                }
            },
        }
    ],
}


def render(ctx: ChunkContext) -> None:
    f = ctx.streams.get("ae")
    order = np.argsort(f["arrival"], kind="stable")
    f = take(f, order)
    n = len(order)
    rng = ctx.rng
    ids = ctx.ids(KEY, n, "NGH", 8)
    ctx.link("ae", order, ids)
    day = f["arrival"].astype("datetime64[D]")
    nfa = f["homeless"] & (rng.random(n) < 0.6)
    who = ctx.identities(f["pidx"], day, HABITS, homeless=nfa)
    hospital_no, who.flags["new_local_id"] = local_person_ids(
        ctx, HOSPITAL_NUMBERS, f["pidx"], ctx.mess.new_local_id, "K", 7
    )
    ctx.record(SOURCE, KEY, ids, who)
    ctx.link("ae_nfa", order, who.flags["no_fixed_abode"])
    region = ctx.region
    known = who.address != NO_ADDRESS
    safe = np.maximum(who.address, 0)
    address = np.where(
        known,
        np.char.add(np.char.add(region.street_line(safe), ", "), region.locality(safe)),
        np.where(rng.random(n) < 0.5, "NFA", "No fixed abode"),
    )
    postcode = np.where(known, who.postcode, np.where(rng.random(n) < 0.7, "ZZ99 3VZ", ""))
    assault = f["category"] == v.ASSAULT
    method_other = np.where(
        assault & (f["method"] == v.OTHER_METHOD),
        OTHER_METHODS[rng.integers(0, len(OTHER_METHODS), n)],
        "",
    )
    police = np.where(f["told_police"] == 1, "Y", np.where(f["told_police"] == 0, "N", ""))
    ctx.tables[KEY] = pa.table(
        {
            "AttendanceNo": fmt.text(ids),
            "HospitalNo": fmt.text(hospital_no),
            "PatientName": fmt.full_name(who, "surname_comma", upper_surname=True),
            "DOB": fmt.dob(who, "%d/%m/%Y"),
            "AgeOnArrival": fmt.age(who),
            "Gender": fmt.text(np.select([who.sex == "M", who.sex == "F"], ["1", "2"], "9")),
            "Address": fmt.text(address),
            "PostCode": fmt.text(postcode),
            "NHSNo": fmt.text(who.nhs),
            "ArrivalDT": fmt.datetime(f["arrival"], DT),
            "ArrivalMode": fmt.text(np.where(f["ambulance"], "Ambulance", "Walk-in")),
            "AttendanceCategory": fmt.choose(f["category"], CATEGORY),
            "PresentingComplaint": fmt.text(f["complaint"]),
            "AssaultDT": fmt.datetime(f["assault_time"], DT),
            "AssaultMethod": fmt.choose(np.where(assault, f["method"], -1), METHOD),
            "AssaultMethodOther": fmt.text(method_other),
            "AssaultLocationType": fmt.choose(np.where(assault, f["place_type"], -1), PLACE),
            "AssaultLocation": fmt.text(np.where(assault, f["place_desc"], "")),
            "AssaultPostcode": fmt.text(np.where(assault, f["assault_postcode"], "")),
            "PoliceInformed": fmt.text(np.where(assault, police, "")),
            "SubmissionPeriod": fmt.datetime(f["arrival"], "%Y-%m"),
        }
    )


PARTNER = Partner(
    source=SOURCE,
    organisation="Northgate Hospital NHS Trust",
    sector="health care",
    files=(
        FileLayout(
            key=KEY,
            file="northgate_ed_attendances.csv",
            description="Emergency department attendances, one row per attendance, with the ISTV "
            "assault fields (ISB 1594) for assaults.",
            spec=SPEC,
            delimiter=";",
            encoding="latin-1",
            crlf=True,
            rejects=RejectTargets(
                record="AttendanceNo",
                fresh=(IdColumn("AttendanceNo", KEY, "NGH", 8),),
                birth_date=DateColumn("DOB", "%d/%m/%Y"),
                event_date=DateColumn("ArrivalDT", DT),
                changed="PresentingComplaint",
            ),
        ),
    ),
    render=render,
)
