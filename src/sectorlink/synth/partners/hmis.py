"""Northshire Homelessness Partnership: an HMIS export (clients, enrolments, contacts).

Column names and codes follow the HUD HMIS CSV specification (PersonalID, EntryDate,
LivingSituation 3.917 codes, ...), adapted for the UK: a National Insurance number in
place of the SSN, the legacy HMIS Gender codes (0 = female, 1 = male, which the spec must
map because the built-in crosswalk reads 0 as 'not known'). A birth date known only by
year is exported as 1 January with DOBDataQuality 2, as HMIS does; the spec maps the
quality flag, so the hub keeps only the year of those dates.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth import vocab as v
from sectorlink.synth.config import END
from sectorlink.synth.frames import take
from sectorlink.synth.mess import Habits
from sectorlink.synth.partners.base import ChunkContext, FileLayout, Partner, with_duplicates
from sectorlink.synth.rejects import DateColumn, IdColumn, RejectTargets

SOURCE = "hmis_northshire"
CLIENTS = "hmis_client"
ENROLMENTS = "hmis_enrollment"
CONTACTS = "hmis_current_living_situation"
HABITS = Habits(ni=True, phone=True)
PROJECT_ID = np.full(16, "NS-OTH", dtype="<U10")
PROJECT_ID[[v.HMIS_ES, v.HMIS_TH, v.HMIS_OUTREACH, v.HMIS_PREVENTION, v.HMIS_RRH]] = [
    "NS-ES-01",
    "NS-TH-02",
    "NS-SO-01",
    "NS-HP-01",
    "NS-RRH-01",
]
DOB_MISSING = np.array(["8", "9", "99"])
DOB_MISSING_P = np.array([0.3, 0.1, 0.6])
LOCATIONS = np.array(
    [
        "Bus station",
        "Riverside underpass",
        "Market square",
        "Park",
        "Car park",
        "Church doorway",
        "Railway arches",
    ]
)

CLIENT_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "record_id": "PersonalID",
    "person": {
        "local_person_id": "PersonalID",
        "given_name": "FirstName",
        "middle_names": "MiddleName",
        "family_name": "LastName",
        "birth_date": "DOB",
        "birth_date_quality": "DOBDataQuality",
        "sex": {"column": "Gender", "codes": {"0": "F", "1": "M", "99": "U"}},
        "ni_number": "NINumber",
        "phone": "Phone",
        "postcode": "LastPermanentPostcode",
    },
}
ENROLMENT_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "events": [
        {
            "event_type": {"value": "homeless_project_entry"},
            "record_id": "PersonalID",
            "event_id": "EnrollmentID",
            "start_time": "EntryDate",
            "end_time": "ExitDate",
            "attributes": ["ProjectID"],
            "detail": {
                "housing_episode": {
                    "project_type": "ProjectType",
                    "project_start_date": "EntryDate",
                    "project_exit_date": "ExitDate",
                    "prior_living_situation": "LivingSituation",
                    "move_in_date": "MoveInDate",
                    "destination": "Destination",
                    "reason": "ReasonForPresentation",
                }
            },
        },
        {
            "event_type": {"value": "housing_loss"},
            "when": {"column": "ReasonForPresentation", "in": ["Eviction", "Rent arrears"]},
            "record_id": "PersonalID",
            "event_id": {"column": "EnrollmentID", "suffix": "-HL"},
            "start_time": "EntryDate",
            "attributes": ["ReasonForPresentation"],
        },
    ],
}
CONTACT_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "events": [
        {
            "event_type": {"value": "homeless_contact"},
            "record_id": "PersonalID",
            "event_id": "CurrentLivingSitID",
            "start_time": "InformationDate",
            "attributes": ["EnrollmentID", "LocationDetails"],
            "detail": {"housing_episode": {"current_living_situation": "CurrentLivingSituation"}},
        }
    ],
}


def render(ctx: ChunkContext) -> None:
    rng = ctx.rng
    f = ctx.streams.get("hmis")
    order = np.argsort(f["entry"], kind="stable")
    f = take(f, order)
    n = len(order)

    # Clients: one per person, registered at their first entry; some registered twice.
    people_in, first = np.unique(f["pidx"], return_index=True)
    last = np.zeros(len(people_in), dtype=np.int64)
    np.maximum.at(
        last, np.searchsorted(people_in, f["pidx"]), np.arange(n)
    )  # each client's last entry
    pidx, dates, dup = with_duplicates(
        people_in, f["entry"][first], ctx.mess.duplicate_record, f["entry"][last], rng
    )
    client_ids = ctx.ids(CLIENTS, len(pidx), "", 7)
    who = ctx.identities(pidx, dates, HABITS)
    who.flags["duplicate_record"] = dup
    ctx.record(SOURCE, CLIENTS, client_ids, who)
    # An enrolment of a twice-registered person is filed under either registration.
    own = np.searchsorted(people_in, f["pidx"])
    second = np.full(len(people_in), -1)
    second[np.searchsorted(people_in, pidx[dup])] = np.flatnonzero(dup)
    use_second = (second[own] >= 0) & (rng.random(n) < 0.5)
    enrol_client = np.where(use_second, client_ids[np.maximum(second[own], 0)], client_ids[own])

    year_only = who.birth_year >= 0
    # DOB data quality (3.03): 1 full, 2 partial; a missing date says why (8 client doesn't
    # know, 9 refused, 99 not collected).
    missing = DOB_MISSING[rng.choice(len(DOB_MISSING), len(pidx), p=DOB_MISSING_P)]
    dob_quality = np.select([year_only, np.isnat(who.dob)], ["2", missing], "1")
    postcode = np.where(rng.random(len(pidx)) < 0.7, who.postcode, "")
    created = dates.astype("datetime64[s]") + rng.integers(8 * 3600, 18 * 3600, len(pidx)).astype(
        "timedelta64[s]"
    )
    ctx.tables[CLIENTS] = pa.table(
        {
            "PersonalID": fmt.text(client_ids),
            "FirstName": fmt.text(who.given),
            "MiddleName": fmt.text(who.middle),
            "LastName": fmt.text(who.family),
            "NameDataQuality": fmt.text(np.where(who.flags["nickname"], "2", "1")),
            "DOB": fmt.dob(who, "%Y-%m-%d", year_only="jan1"),
            "DOBDataQuality": fmt.text(dob_quality),
            "NINumber": fmt.text(who.ni),
            "Gender": fmt.text(np.select([who.sex == "F", who.sex == "M"], ["0", "1"], "99")),
            "Phone": fmt.phone(who.phone, "plain"),
            "LastPermanentPostcode": fmt.text(postcode),
            "DateCreated": fmt.datetime(created, "%Y-%m-%d %H:%M:%S"),
        }
    )

    enrol_ids = ctx.ids(ENROLMENTS, n, "", 8)
    ctx.link("hmis", order, enrol_ids)
    project = f["project"]
    ctx.tables[ENROLMENTS] = pa.table(
        {
            "EnrollmentID": fmt.text(enrol_ids),
            "PersonalID": fmt.text(enrol_client),
            "ProjectID": fmt.text(PROJECT_ID[project]),
            "ProjectType": fmt.number(project),
            "EntryDate": fmt.date(f["entry"], "%Y-%m-%d"),
            "ExitDate": fmt.date(f["exit"], "%Y-%m-%d"),
            "LivingSituation": fmt.number(f["prior"]),
            "MoveInDate": fmt.date(f["move_in"], "%Y-%m-%d"),
            "Destination": fmt.number(f["destination"]),
            "ReasonForPresentation": fmt.text(f["reason"]),
        }
    )

    # Current living situation contacts during street outreach enrolments.
    o = np.flatnonzero(project == v.HMIS_OUTREACH)
    hi = np.where(np.isnat(f["exit"][o]), END, f["exit"][o])
    span = np.maximum((hi - f["entry"][o]).astype(np.int64), 0)
    row = np.repeat(o, 1 + rng.poisson(2, len(o)))
    pos = np.searchsorted(o, row)
    info = f["entry"][row] + (rng.random(len(row)) * span[pos]).astype(np.int64)
    sort = np.argsort(info, kind="stable")
    row, info = row[sort], info[sort]
    contact_ids = ctx.ids(CONTACTS, len(row), "CLS", 8)
    situation = np.where(rng.random(len(row)) < 0.8, v.LIVING_STREET, v.LIVING_SHELTER)
    ctx.tables[CONTACTS] = pa.table(
        {
            "CurrentLivingSitID": fmt.text(contact_ids),
            "EnrollmentID": fmt.text(enrol_ids[row]),
            "PersonalID": fmt.text(enrol_client[row]),
            "InformationDate": fmt.date(info, "%Y-%m-%d"),
            "CurrentLivingSituation": fmt.number(situation),
            "LocationDetails": fmt.text(
                np.where(
                    situation == v.LIVING_STREET,
                    LOCATIONS[rng.integers(0, len(LOCATIONS), len(row))],
                    "Night shelter",
                )
            ),
        }
    )


PARTNER = Partner(
    source=SOURCE,
    organisation="Northshire Homelessness Partnership",
    sector="housing/homelessness",
    files=(
        FileLayout(
            key=CLIENTS,
            file="hmis_Client.csv",
            spec=CLIENT_SPEC,
            description="HMIS clients, one row per client registration (HMIS Client.csv).",
            rejects=RejectTargets(
                record="PersonalID",
                fresh=(IdColumn("PersonalID", CLIENTS, "", 7),),
                birth_date=DateColumn("DOB", "%Y-%m-%d"),
                changed="Phone",
            ),
        ),
        FileLayout(
            key=ENROLMENTS,
            file="hmis_Enrollment.csv",
            spec=ENROLMENT_SPEC,
            person_records=False,
            description="HMIS project enrolments (HMIS Enrollment.csv with the project type "
            "and a reason for presentation); refers to clients by PersonalID.",
            rejects=RejectTargets(
                record="PersonalID",
                fresh=(IdColumn("EnrollmentID", ENROLMENTS, "", 8),),
                event_date=DateColumn("EntryDate", "%Y-%m-%d"),
                person_ref=IdColumn("PersonalID", CLIENTS, "", 7),
                changed="ExitDate",
            ),
        ),
        FileLayout(
            key=CONTACTS,
            file="hmis_CurrentLivingSituation.csv",
            spec=CONTACT_SPEC,
            person_records=False,
            description="Street outreach contacts recording the current living situation "
            "(HMIS 4.12).",
            rejects=RejectTargets(
                record="PersonalID",
                fresh=(IdColumn("CurrentLivingSitID", CONTACTS, "CLS", 8),),
                event_date=DateColumn("InformationDate", "%Y-%m-%d"),
                person_ref=IdColumn("PersonalID", CLIENTS, "", 7),
                changed="LocationDetails",
            ),
        ),
    ),
    render=render,
)
