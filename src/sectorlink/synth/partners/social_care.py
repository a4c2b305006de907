"""Northshire County Council social care: adults (CSV) and children (pipe-delimited).

Two systems, two layouts. Adult social care writes 'Title Forename Middle Surname',
dd-Mon-yyyy dates, NHS numbers in 3-3-4 groups and the address over three columns.
Children's services export fixed upper-case text with '|' between fields.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth.frames import take
from sectorlink.synth.mess import NO_ADDRESS, Habits
from sectorlink.synth.partners.base import ChunkContext, FileLayout, Partner, local_person_ids
from sectorlink.synth.rejects import DateColumn, IdColumn, RejectTargets

ASC_SOURCE, CSC_SOURCE = "asc_northshire", "csc_northshire"
ASC, CSC = "asc_episodes", "csc_referrals"
ASC_PEOPLE, CSC_CHILDREN = "asc_person_ids", "csc_child_ids"
ASC_HABITS = Habits(nhs=True)
CSC_HABITS = Habits(nhs=True)
ASC_SERVICE = ("Assessment", "Safeguarding (S42)", "Long-term support")
CSC_SERVICE = ("EH", "CIN", "CP", "CLA")
CSC_NEED = {
    "Abuse or neglect": "N1",
    "Child's disability": "N2",
    "Parental illness": "N3",
    "Family in acute stress": "N4",
    "Family dysfunction": "N5",
    "Socially unacceptable behaviour": "N6",
    "Absent parenting": "N8",
}
MON = "%d-%b-%Y"

ASC_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "record_id": "Episode Ref",
    "person": {
        "local_person_id": "Person ID",
        "full_name": {"column": "Client Name", "split": "title_forename_middle_surname"},
        "birth_date": {"column": "Date of Birth", "formats": [MON]},
        "sex": "Gender",
        "address": {"columns": ["Address Line 1", "Address Line 2", "Town"], "join": ", "},
        "postcode": "Post Code",
        "nhs_number": "NHS Number",
    },
    "events": [
        {
            "event_type": {"value": "adult_social_care"},
            "start_time": {"column": "Start Date", "formats": [MON]},
            "end_time": {"column": "End Date", "formats": [MON]},
            "attributes": ["Service", "Primary Support Reason"],
            "detail": {
                "social_care_episode": {
                    "service": {
                        "column": "Service",
                        "codes": {
                            "Assessment": "adult_assessment",
                            "Safeguarding (S42)": "adult_safeguarding",
                            "Long-term support": "adult_care_package",
                        },
                    },
                    "start_date": {"column": "Start Date", "formats": [MON]},
                    "end_date": {"column": "End Date", "formats": [MON]},
                    "reason": "Primary Support Reason",
                }
            },
        }
    ],
}
CSC_SPEC = {
    "file": {"format": "csv", "delimiter": "|", "encoding": "utf-8"},
    "record_id": "REFERRAL_ID",
    "person": {
        "local_person_id": "CHILD_ID",
        "given_name": "CHILD_FORENAME",
        "family_name": "CHILD_SURNAME",
        "birth_date": {"column": "CHILD_DOB", "formats": ["%d/%m/%Y"]},
        "sex": "CHILD_GENDER",
        "address": "ADDRESS",
        "postcode": "POSTCODE",
        "nhs_number": "NHS_NO",
    },
    "events": [
        {
            "event_type": {"value": "children_social_care"},
            "start_time": {"column": "REFERRAL_DATE", "formats": ["%d/%m/%Y"]},
            "end_time": {"column": "CLOSURE_DATE", "formats": ["%d/%m/%Y"]},
            "attributes": ["CATEGORY", "PRIMARY_NEED"],
            "detail": {
                "social_care_episode": {
                    "service": "CATEGORY",
                    "start_date": {"column": "REFERRAL_DATE", "formats": ["%d/%m/%Y"]},
                    "end_date": {"column": "CLOSURE_DATE", "formats": ["%d/%m/%Y"]},
                    "reason": "PRIMARY_NEED",
                }
            },
        }
    ],
}


def render_asc(ctx: ChunkContext) -> None:
    f = ctx.streams.get("asc")
    order = np.argsort(f["start"], kind="stable")
    f = take(f, order)
    ids = ctx.ids(ASC, len(order), "ASC", 7)
    ctx.link("asc", order, ids)
    who = ctx.identities(f["pidx"], f["start"], ASC_HABITS)
    person_no, who.flags["new_local_id"] = local_person_ids(
        ctx, ASC_PEOPLE, f["pidx"], ctx.mess.new_local_id, "", 7
    )
    ctx.record(ASC_SOURCE, ASC, ids, who)
    region = ctx.region
    known = who.address != NO_ADDRESS
    safe = np.maximum(who.address, 0)
    ctx.tables[ASC] = pa.table(
        {
            "Episode Ref": fmt.text(ids),
            "Person ID": fmt.text(person_no),
            "Client Name": fmt.full_name(who, "title_first"),
            "Date of Birth": fmt.dob(who, MON, year_only="jan1"),
            "Gender": fmt.text(np.select([who.sex == "M", who.sex == "F"], ["Male", "Female"], "")),
            "Address Line 1": fmt.text(np.where(known, region.street_line(safe), "")),
            "Address Line 2": fmt.text(np.where(known, region.locality(safe), "")),
            "Town": fmt.text(np.where(known, region.town(safe), "")),
            "Post Code": fmt.text(who.postcode),
            "NHS Number": fmt.nhs_spaced(who.nhs),
            "Service": fmt.choose(f["service"], ASC_SERVICE),
            "Start Date": fmt.date(f["start"], MON),
            "End Date": fmt.date(f["end"], MON),
            "Primary Support Reason": fmt.text(f["reason"]),
        }
    )


def render_csc(ctx: ChunkContext) -> None:
    f = ctx.streams.get("csc")
    order = np.argsort(f["start"], kind="stable")
    f = take(f, order)
    ids = ctx.ids(CSC, len(order), "CR", 8)
    ctx.link("csc", order, ids)
    who = ctx.identities(f["pidx"], f["start"], CSC_HABITS)
    child_no, who.flags["new_local_id"] = local_person_ids(
        ctx, CSC_CHILDREN, f["pidx"], ctx.mess.new_local_id, "", 8
    )
    ctx.record(CSC_SOURCE, CSC, ids, who)
    region = ctx.region
    known = who.address != NO_ADDRESS
    safe = np.maximum(who.address, 0)
    address = np.where(
        known, np.char.add(np.char.add(region.street_line(safe), ", "), region.town(safe)), ""
    )
    need = np.char.add(np.char.add(fmt.lookup(f["reason"], CSC_NEED, "N9"), " "), f["reason"])
    ctx.tables[CSC] = pa.table(
        {
            "REFERRAL_ID": fmt.text(ids),
            "CHILD_ID": fmt.text(child_no),
            "CHILD_FORENAME": fmt.text(np.char.upper(who.given)),
            "CHILD_SURNAME": fmt.text(np.char.upper(who.family)),
            "CHILD_DOB": fmt.dob(who, "%d/%m/%Y"),
            "CHILD_GENDER": fmt.text(np.where(who.sex == "", "U", who.sex)),
            "ADDRESS": fmt.text(np.char.upper(address)),
            "POSTCODE": fmt.text(who.postcode),
            "NHS_NO": fmt.text(who.nhs),
            "CATEGORY": fmt.choose(f["service"], CSC_SERVICE),
            "REFERRAL_DATE": fmt.date(f["start"], "%d/%m/%Y"),
            "CLOSURE_DATE": fmt.date(f["end"], "%d/%m/%Y"),
            "PRIMARY_NEED": fmt.text(need),
        }
    )


ASC_PARTNER = Partner(
    source=ASC_SOURCE,
    organisation="Northshire County Council (Adult Social Care)",
    sector="social care",
    files=(
        FileLayout(
            key=ASC,
            file="asc_episodes.csv",
            spec=ASC_SPEC,
            description="Adult social care episodes: assessments, safeguarding enquiries, "
            "long-term support; one row per episode.",
            rejects=RejectTargets(
                record="Episode Ref",
                fresh=(IdColumn("Episode Ref", ASC, "ASC", 7),),
                birth_date=DateColumn("Date of Birth", MON),
                event_date=DateColumn("Start Date", MON),
                changed="End Date",
            ),
        ),
    ),
    render=render_asc,
)
CSC_PARTNER = Partner(
    source=CSC_SOURCE,
    organisation="Northshire County Council (Children's Services)",
    sector="social care",
    files=(
        FileLayout(
            key=CSC,
            file="csc_referrals.txt",
            spec=CSC_SPEC,
            delimiter="|",
            # The case system's report writer closes the file with a blank line and a count.
            footer=("", "TOTAL REFERRALS: {rows}", "*** END OF REPORT ***"),
            description="Children's social care referrals and their outcome category (early "
            "help, child in need, child protection, looked after).",
            rejects=RejectTargets(
                record="REFERRAL_ID",
                fresh=(IdColumn("REFERRAL_ID", CSC, "CR", 8),),
                birth_date=DateColumn("CHILD_DOB", "%d/%m/%Y"),
                event_date=DateColumn("REFERRAL_DATE", "%d/%m/%Y"),
                changed="CLOSURE_DATE",
            ),
        ),
    ),
    render=render_csc,
)
