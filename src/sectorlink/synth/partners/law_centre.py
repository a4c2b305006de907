"""Northshire Law Centre: the medical-legal partnership's case workbook (.xlsx).

One row per I-HELP screening at a Riverside practice, with the referral, legal intake
and outcome filled in as the case goes on. The case system is American-made, so dates
are mm/dd/yyyy. The workbook opens on a notes sheet; the data is on the sheet 'Cases'.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth.frames import take
from sectorlink.synth.mess import Habits
from sectorlink.synth.partners.base import ChunkContext, FileLayout, Partner
from sectorlink.synth.rejects import DateColumn, IdColumn, RejectTargets

SOURCE = "mlp_lawcentre"
KEY = "law_centre_mlp"
HABITS = Habits(phone=True)
US = "%m/%d/%Y"
ISSUE = (
    "Welfare benefits",
    "Housing conditions",
    "Employment",
    "Immigration",
    "Literacy",
    "Family/DV",
)
OUTCOME = ("Resolved - favourable", "Advice only", "Unsuccessful", "Closed - no contact", "Open")
FLAG_COLUMNS = ("Income", "Housing", "Education", "Legal Status", "Literacy", "Personal Safety")
FLAG_FIELDS = ("income", "housing", "education", "legal_status", "literacy", "personal_safety")

SPEC = {
    "file": {"format": "excel", "sheet": "Cases"},
    "record_id": "Screen ID",
    "person": {
        "full_name": {"column": "Patient Name", "split": "forename_surname"},
        "birth_date": {"column": "DOB", "formats": [US]},
        "postcode": "Postcode",
        "phone": "Phone",
    },
    "events": [
        {
            "event_type": {"value": "mlp_screening"},
            "start_time": {"column": "Screen Date", "formats": [US]},
            "site_code": "Clinic",
            "detail": {
                "mlp_screening": {
                    "screen_date": {"column": "Screen Date", "formats": [US]},
                    **{
                        field: column
                        for field, column in zip(FLAG_FIELDS, FLAG_COLUMNS, strict=True)
                    },
                }
            },
        },
        {
            "event_type": {"value": "legal_referral"},
            "when": {"column": "Referred", "in": ["Yes"]},
            "event_id": {"column": "Screen ID", "suffix": "-R"},
            "start_time": {"column": "Referral Date", "formats": [US]},
            "attributes": ["Legal Issue", "Outcome"],
            "detail": {
                "legal_referral": {
                    "referral_date": {"column": "Referral Date", "formats": [US]},
                    "domain": {
                        "column": "Legal Issue",
                        "codes": {
                            "Welfare benefits": "income",
                            "Literacy": "literacy",
                            "Family/DV": "personal_safety",
                        },
                    },
                    "intake_date": {"column": "Intake Date", "formats": [US]},
                    "outcome": {
                        "column": "Outcome",
                        "codes": {
                            "Resolved - favourable": "need_addressed",
                            "Advice only": "advice_given",
                            "Unsuccessful": "not_addressed",
                            "Closed - no contact": "withdrawn",
                            "Open": "open",
                        },
                    },
                    "outcome_date": {"column": "Outcome Date", "formats": [US]},
                    "financial_benefit": "Amount Recovered",
                }
            },
        },
    ],
}
COVER = (
    "Northshire Law Centre - medical-legal partnership case extract. "
    "One row per I-HELP screening; referral, intake and outcome columns are filled as the case "
    "progresses. Data on the sheet 'Cases'. OFFICIAL-SENSITIVE: share only under the data sharing "
    "agreement."
)


def render(ctx: ChunkContext) -> None:
    f = ctx.streams.get("mlp")
    order = np.argsort(f["screen"], kind="stable")
    f = take(f, order)
    n = len(order)
    ids = ctx.ids(KEY, n, "MLP-", 6)
    ctx.link("mlp", order, ids)
    who = ctx.identities(f["pidx"], f["screen"], HABITS)
    ctx.record(SOURCE, KEY, ids, who)
    practice = np.array(["Riverside Health Centre", "Canal Street Surgery"])[
        ctx.rng.integers(0, 2, n)
    ]
    columns: dict[str, pa.Array] = {
        "Screen ID": fmt.text(ids),
        "Patient Name": fmt.full_name(who, "first_last"),
        "DOB": fmt.dob(who, US),
        "Postcode": fmt.text(who.postcode),
        "Phone": fmt.phone(who.phone, "spaced"),
        "Clinic": fmt.text(practice),
        "Screen Date": fmt.date(f["screen"], US),
    }
    for column, field in zip(FLAG_COLUMNS, FLAG_FIELDS, strict=True):
        columns[column] = fmt.flag(f[field], "Yes", "No")
    columns.update(
        {
            "Referred": fmt.flag(f["referred"], "Yes", "No"),
            "Referral Date": fmt.date(f["referral"], US),
            "Legal Issue": fmt.choose(f["domain"], ISSUE),
            "Intake Date": fmt.date(f["intake"], US),
            "Outcome": fmt.choose(f["outcome"], OUTCOME),
            "Outcome Date": fmt.date(f["outcome_date"], US),
            "Amount Recovered": pa.array(f["benefit"], pa.float64(), from_pandas=True),
        }
    )
    ctx.tables[KEY] = pa.table(columns)


PARTNER = Partner(
    source=SOURCE,
    organisation="Northshire Law Centre",
    sector="legal",
    files=(
        FileLayout(
            key=KEY,
            file="law_centre_mlp.xlsx",
            spec=SPEC,
            format="excel",
            sheet="Cases",
            cover_sheet=COVER,
            description="Medical-legal partnership: I-HELP screenings, referrals, legal intake "
            "and outcomes, one row per screening (Excel).",
            rejects=RejectTargets(
                record="Screen ID",
                fresh=(IdColumn("Screen ID", KEY, "MLP-", 6),),
                birth_date=DateColumn("DOB", US),
                event_date=DateColumn("Screen Date", US),
                changed="Phone",
            ),
        ),
    ),
    render=render,
)
