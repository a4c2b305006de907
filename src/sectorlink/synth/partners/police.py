"""Northshire Police: victims (tab-separated) and the incidents they were victims of.

The victims file holds the person: 'Title Forename Middle Surname', date of birth as
yyyymmdd (a bare year when that is all that was known), an age when no date was given.
The incidents file holds when and where, and refers to the victim by VictimRef.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth import vocab as v
from sectorlink.synth.frames import take
from sectorlink.synth.mess import NO_ADDRESS, Habits
from sectorlink.synth.partners.base import ChunkContext, FileLayout, Partner
from sectorlink.synth.rejects import DateColumn, IdColumn, RejectTargets

SOURCE = "police_northshire"
VICTIMS = "northshire_police_victims"
INCIDENTS = "northshire_police_incidents"
HABITS = Habits(phone=True, age_column=True)
OFFENCE = (
    "Violence with injury",
    "Violence without injury",
    "Domestic abuse",
    "Burglary - residential",
    "Theft",
    "Criminal damage",
    "Robbery",
)
PLACE = (
    "Dwelling",
    "Street/Road",
    "Licensed premises",
    "Workplace",
    "School",
    "Transport",
    "Other",
    "Unknown",
)

VICTIM_SPEC = {
    "file": {"format": "csv", "delimiter": "\t", "encoding": "utf-8"},
    "record_id": "VictimRef",
    "person": {
        "full_name": {"column": "VictimName", "split": "title_forename_middle_surname"},
        "birth_date": {"column": "DateOfBirth", "formats": ["%Y%m%d"]},
        "age_years": "AgeAtOffence",
        "age_at_date": {"column": "ReportedDate", "formats": ["%Y%m%d"]},
        "sex": "Sex",
        "address": "HomeAddress",
        "postcode": "HomePostcode",
        "phone": "ContactNumber",
    },
    "events": [
        {
            "event_type": {"value": "police_victim"},
            "start_time": {"column": "ReportedDate", "formats": ["%Y%m%d"]},
            "attributes": ["CrimeNo", "OffenceGroup"],
        }
    ],
}
INCIDENT_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "events": [
        {
            "event_type": {"value": "police_incident"},
            "record_id": "VictimRef",
            "event_id": "IncidentNo",
            "start_time": {"column": "OffenceDateTime", "formats": ["%d/%m/%Y %H:%M"]},
            "latitude": "Latitude",
            "longitude": "Longitude",
            "postcode": "LocationPostcode",
            "attributes": ["CrimeNo", "OffenceGroup", "LocationType"],
        }
    ],
}


def render(ctx: ChunkContext) -> None:
    f = ctx.streams.get("police")
    order = np.argsort(f["when"], kind="stable")
    f = take(f, order)
    n = len(order)
    rng = ctx.rng
    victim_ids = ctx.ids(VICTIMS, n, "V", 8)
    incident_ids = ctx.ids(INCIDENTS, n, "INC/", 8)
    crime_no = ctx.ids("northshire_crime_numbers", n, "44/", 7)
    ctx.link("police_victim", order, victim_ids)
    ctx.link("police", order, incident_ids)
    # Reported the same day or up to a fortnight later.
    reported = f["when"].astype("datetime64[D]") + np.minimum(rng.geometric(0.5, n) - 1, 14)
    who = ctx.identities(f["pidx"], reported, HABITS)
    ctx.record(SOURCE, VICTIMS, victim_ids, who)
    region = ctx.region
    safe = np.maximum(who.address, 0)
    address = np.where(
        who.address != NO_ADDRESS,
        np.char.add(np.char.add(region.street_line(safe), ", "), region.town(safe)),
        "",
    )
    offence = fmt.choose(f["offence"], OFFENCE)
    ctx.tables[VICTIMS] = pa.table(
        {
            "VictimRef": fmt.text(victim_ids),
            "CrimeNo": fmt.text(crime_no),
            "VictimName": fmt.full_name(who, "title_first"),
            "DateOfBirth": fmt.dob(who, "%Y%m%d"),
            "AgeAtOffence": fmt.age(who),
            "Sex": fmt.text(np.where(who.sex == "", "U", who.sex)),
            "HomeAddress": fmt.text(address),
            "HomePostcode": fmt.text(who.postcode),
            "ContactNumber": fmt.phone(who.phone, "spaced"),
            "ReportedDate": fmt.date(reported, "%Y%m%d"),
            "OffenceGroup": offence,
        }
    )
    ctx.tables[INCIDENTS] = pa.table(
        {
            "IncidentNo": fmt.text(incident_ids),
            "CrimeNo": fmt.text(crime_no),
            "VictimRef": fmt.text(victim_ids),
            "OffenceDateTime": fmt.datetime(f["when"], "%d/%m/%Y %H:%M"),
            "OffenceGroup": offence,
            "LocationType": fmt.choose(
                np.where(f["place_type"] == v.UNKNOWN_PLACE, 7, f["place_type"]), PLACE
            ),
            "Latitude": fmt.number(f["lat"], 4),
            "Longitude": fmt.number(f["lon"], 4),
            "LocationPostcode": fmt.text(f["postcode"]),
        }
    )


PARTNER = Partner(
    source=SOURCE,
    organisation="Northshire Police",
    sector="police",
    files=(
        FileLayout(
            key=VICTIMS,
            file="northshire_police_victims.tsv",
            description="Victims of recorded crime, one row per victim per crime.",
            spec=VICTIM_SPEC,
            delimiter="\t",
            rejects=RejectTargets(
                record="VictimRef",
                fresh=(IdColumn("VictimRef", VICTIMS, "V", 8),),
                birth_date=DateColumn("DateOfBirth", "%Y%m%d"),
                event_date=DateColumn("ReportedDate", "%Y%m%d"),
                changed="ContactNumber",
            ),
        ),
        FileLayout(
            key=INCIDENTS,
            file="northshire_police_incidents.csv",
            description="Recorded crimes: when, where and what, one row per victim; refers to the "
            "victims file by VictimRef.",
            spec=INCIDENT_SPEC,
            person_records=False,
            rejects=RejectTargets(
                record="VictimRef",
                fresh=(IdColumn("IncidentNo", INCIDENTS, "INC/", 8),),
                event_date=DateColumn("OffenceDateTime", "%d/%m/%Y %H:%M"),
                person_ref=IdColumn("VictimRef", VICTIMS, "V", 8),
                changed="LocationType",
            ),
        ),
    ),
    render=render,
)
