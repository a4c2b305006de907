"""Riverside Primary Care Network: registered patients and their recorded conditions.

The patient list is the GP system's registration table (ISO dates, separate name fields,
a practice code); a patient registered twice (after a move, say) has two PatientIDs.
Conditions come from the disease registers, coded with the practice's own short codes,
dates as yyyymmdd, and refer to patients by PatientID.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth.config import END
from sectorlink.synth.frames import take
from sectorlink.synth.mess import NO_ADDRESS, Habits
from sectorlink.synth.partners.base import ChunkContext, FileLayout, Partner, with_duplicates
from sectorlink.synth.rejects import DateColumn, IdColumn, RejectTargets
from sectorlink.synth.textops import replace

SOURCE = "gp_riverside"
PATIENTS = "riverside_gp_patients"
CONDITIONS = "riverside_gp_conditions"
HABITS = Habits(nhs=True, phone=True)
PRACTICES = np.array(["Y01234", "Y01235", "Y01236", "Y01237"])
CODE = ("AST", "COPD", "DM", "CHD", "HTN", "DEP", "SMI", "ALC", "LEAD")
DESCRIPTION = (
    "Asthma",
    "COPD",
    "Diabetes mellitus",
    "Coronary heart disease",
    "Hypertension",
    "Depression",
    "Severe mental illness",
    "Alcohol/drug misuse",
    "Raised blood lead",
)
EMAIL_DOMAINS = np.array(["example.com", "example.org", "example.net", "example.co.uk"])

PATIENT_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "record_id": "PatientID",
    "person": {
        "local_person_id": "PatientID",
        "title": "Title",
        "given_name": "FirstName",
        "middle_names": "MiddleNames",
        "family_name": "Surname",
        "birth_date": "DateOfBirth",
        "sex": "Sex",
        "address": {"columns": ["AddressLine1", "AddressLine2", "Town"], "join": ", "},
        "postcode": "Postcode",
        "nhs_number": "NHSNumber",
        "phone": "Telephone",
        "email": "Email",
    },
    "events": [
        {
            "event_type": {"value": "gp_registration"},
            "event_id": {"column": "PatientID", "suffix": "-REG"},
            "start_time": "RegisteredDate",
            "site_code": "PracticeCode",
            "attributes": ["PracticeCode"],
        }
    ],
}
CONDITION_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "events": [
        {
            "event_type": {"value": "clinical_condition"},
            "record_id": "PatientID",
            "event_id": "ConditionID",
            "start_time": {"column": "DateRecorded", "formats": ["%Y%m%d"]},
            "attributes": ["Code", "Description"],
            "detail": {
                "clinical_condition": {
                    "condition": {"column": "Code", "codes": {"ALC": "substance_misuse"}},
                    "diagnosis_date": {"column": "DateRecorded", "formats": ["%Y%m%d"]},
                    "severity": "Severity",
                }
            },
        }
    ],
}


def render(ctx: ChunkContext) -> None:
    rng = ctx.rng
    patients = ctx.extras["gp_patients"]
    order = np.argsort(patients["registered"], kind="stable")
    p = take(patients, order)
    later = np.minimum(p["registered"] + rng.integers(200, 2500, len(order)), END)
    pidx, reg, dup = with_duplicates(
        p["pidx"], p["registered"], ctx.mess.duplicate_record, later, rng
    )
    n = len(pidx)
    ids = ctx.ids(PATIENTS, n, "", 9)
    original_ids = ids[: len(order)]
    aligned = np.empty(len(order), dtype=ids.dtype)
    aligned[order] = original_ids
    ctx.links["gp_patients"] = aligned
    # The record shows the person as the practice knows them now (the end of the timeline).
    who = ctx.identities(pidx, np.full(n, END), HABITS)
    who.flags["duplicate_record"] = dup
    ctx.record(SOURCE, PATIENTS, ids, who)
    region = ctx.region
    known = who.address != NO_ADDRESS
    safe = np.maximum(who.address, 0)
    practice = PRACTICES[region.addr_nb(ctx.people.home[pidx]) % len(PRACTICES)]
    adult = ctx.people.age_at(np.full(n, END), pidx) >= 18
    has_email = adult & (rng.random(n) < 0.55)
    local = np.char.lower(np.char.add(np.char.add(who.given, "."), replace(who.family, " ", "")))
    local = replace(replace(local, "'", ""), "-", "")
    email = np.char.add(
        np.char.add(np.char.add(local, rng.integers(1, 99, n).astype(str)), "@"),
        EMAIL_DOMAINS[rng.integers(0, len(EMAIL_DOMAINS), n)],
    )
    ctx.tables[PATIENTS] = pa.table(
        {
            "PatientID": fmt.text(ids),
            "NHSNumber": fmt.text(who.nhs),
            "Title": fmt.text(who.title),
            "FirstName": fmt.text(who.given),
            "MiddleNames": fmt.text(who.middle),
            "Surname": fmt.text(who.family),
            "DateOfBirth": fmt.dob(who, "%Y-%m-%d", year_only="jan1"),
            "Sex": fmt.text(np.where(who.sex == "", "U", who.sex)),
            "AddressLine1": fmt.text(np.where(known, region.street_line(safe), "")),
            "AddressLine2": fmt.text(np.where(known, region.locality(safe), "")),
            "Town": fmt.text(np.where(known, region.town(safe), "")),
            "Postcode": fmt.text(who.postcode),
            "Telephone": fmt.phone(who.phone, "spaced"),
            "Email": fmt.text(np.where(has_email, email, "")),
            "PracticeCode": fmt.text(practice),
            "RegisteredDate": fmt.date(reg, "%Y-%m-%d"),
        }
    )

    c = ctx.streams.get("gp_condition")
    c_order = np.argsort(c["date"], kind="stable")
    c = take(c, c_order)
    c_ids = ctx.ids(CONDITIONS, len(c_order), "C", 9)
    ctx.link("gp_condition", c_order, c_ids)
    patient_of = np.full(
        len(ctx.people), "", dtype=original_ids.dtype if len(original_ids) else "<U9"
    )
    patient_of[p["pidx"]] = original_ids
    ctx.tables[CONDITIONS] = pa.table(
        {
            "ConditionID": fmt.text(c_ids),
            "PatientID": fmt.text(patient_of[c["pidx"]]),
            "Code": fmt.choose(c["condition"], CODE),
            "Description": fmt.choose(c["condition"], DESCRIPTION),
            "DateRecorded": fmt.date(c["date"], "%Y%m%d"),
            "Severity": fmt.text(c["severity"]),
        }
    )


PARTNER = Partner(
    source=SOURCE,
    organisation="Riverside Primary Care Network",
    sector="health care",
    files=(
        FileLayout(
            key=PATIENTS,
            file="riverside_gp_patients.csv",
            spec=PATIENT_SPEC,
            description="Patients registered at the network's practices, one row per registration.",
            rejects=RejectTargets(
                record="PatientID",
                fresh=(IdColumn("PatientID", PATIENTS, "", 9),),
                birth_date=DateColumn("DateOfBirth", "%Y-%m-%d"),
                event_date=DateColumn("RegisteredDate", "%Y-%m-%d"),
                changed="Telephone",
            ),
        ),
        FileLayout(
            key=CONDITIONS,
            file="riverside_gp_conditions.csv",
            spec=CONDITION_SPEC,
            person_records=False,
            description="Long-term and mental-health conditions from the disease registers; "
            "refers to patients by PatientID.",
            rejects=RejectTargets(
                record="PatientID",
                fresh=(IdColumn("ConditionID", CONDITIONS, "C", 9),),
                event_date=DateColumn("DateRecorded", "%Y%m%d"),
                person_ref=IdColumn("PatientID", PATIENTS, "", 9),
                changed="Severity",
            ),
        ),
    ),
    render=render,
)
