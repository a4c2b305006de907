"""Westmoor Ambulance Service: one row per patient call-out.

UTF-8 with a byte-order mark (saved from Excel), every value quoted. The dispatch system
keeps UTC, so call times are ISO instants with a Z (an hour behind the clock on the wall in
summer); the spec reads them with %z and file.time_zone. The reporting tool writes a title
and the time it ran above the header, and NULL for every empty value.
Crews record an age, not a date of birth, and key names at the roadside, so typos are
twice as common as elsewhere.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth.frames import take
from sectorlink.synth.mess import Habits
from sectorlink.synth.partners.base import ChunkContext, FileLayout, Partner
from sectorlink.synth.rejects import DateColumn, IdColumn, RejectTargets

SOURCE = "ambulance_westmoor"
KEY = "westmoor_ambulance_incidents"
HABITS = Habits(nhs=True, dob="none", typo_factor=2.0)
REGION_TIME_ZONE = "Europe/London"
WRITTEN = "%Y-%m-%dT%H:%M:%SZ"  # how the file prints a call time (always UTC)
READ = "%Y-%m-%dT%H:%M:%S%z"  # how the spec reads it: Z is the offset +00:00

SPEC = {
    "file": {
        "format": "csv",
        "delimiter": ",",
        "encoding": "utf-8",
        "time_zone": REGION_TIME_ZONE,
    },
    "record_id": "IncidentID",
    "person": {
        "given_name": "PatientForename",
        "family_name": "PatientSurname",
        "age_years": "Age",
        "age_at_date": {"column": "CallReceived", "formats": [READ]},
        "sex": "Gender",
        "postcode": "HomePostcode",
        "nhs_number": "NHSNumber",
    },
    "events": [
        {
            "event_type": {"value": "ambulance_callout"},
            "start_time": {"column": "CallReceived", "formats": [READ]},
            "postcode": "IncidentPostcode",
            "latitude": "IncidentLat",
            "longitude": "IncidentLong",
            "attributes": ["ChiefComplaint", "Priority", "Conveyed", "Destination"],
        }
    ],
}


def render(ctx: ChunkContext) -> None:
    f = ctx.streams.get("ambulance")
    order = np.argsort(f["call"], kind="stable")
    f = take(f, order)
    n = len(order)
    ids = ctx.ids(KEY, n, "WMAS-", 9)
    ctx.link("ambulance", order, ids)
    day = f["call"].astype("datetime64[D]")
    who = ctx.identities(f["pidx"], day, HABITS)
    ctx.record(SOURCE, KEY, ids, who)
    age = np.where(who.flags["missing_dob"], -1, ctx.people.age_at(day, f["pidx"]))
    ctx.tables[KEY] = pa.table(
        {
            "IncidentID": fmt.text(ids),
            "CallReceived": fmt.utc_datetime(f["call"], REGION_TIME_ZONE),
            "PatientForename": fmt.text(who.given),
            "PatientSurname": fmt.text(who.family),
            "Age": fmt.number(age),
            "Gender": fmt.text(
                np.select([who.sex == "M", who.sex == "F"], ["Male", "Female"], "Unknown")
            ),
            "HomePostcode": fmt.text(who.postcode),
            "NHSNumber": fmt.nhs_spaced(who.nhs),
            "ChiefComplaint": fmt.text(f["complaint"]),
            "Priority": fmt.text(np.char.add("C", f["priority"].astype(str))),
            "IncidentLat": fmt.number(f["lat"], 5),
            "IncidentLong": fmt.number(f["lon"], 5),
            "IncidentPostcode": fmt.text(f["postcode"]),
            "Conveyed": fmt.flag(f["conveyed"], "Y", "N"),
            "Destination": fmt.text(np.where(f["conveyed"], "Northgate ED", "")),
        }
    )


PARTNER = Partner(
    source=SOURCE,
    organisation="Westmoor Ambulance Service NHS Trust",
    sector="ambulance",
    files=(
        FileLayout(
            key=KEY,
            file="westmoor_ambulance_incidents.csv",
            description="Ambulance call-outs, one row per patient attended; age instead of date of "
            "birth; incident location as coordinates.",
            spec=SPEC,
            bom=True,
            quote_all=True,
            preamble=(
                "Westmoor Ambulance Service NHS Trust: patient call-outs",
                "Report run by the information team; OFFICIAL-SENSITIVE",
                "",
            ),
            missing="NULL",
            rejects=RejectTargets(
                record="IncidentID",
                fresh=(IdColumn("IncidentID", KEY, "WMAS-", 9),),
                event_date=DateColumn("CallReceived", WRITTEN),
                changed="Priority",
            ),
        ),
    ),
    render=render,
)
