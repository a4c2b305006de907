"""Northshire Citizens Advice: benefits and debt advice contacts.

Collects as little as it can: forename, surname, year of birth, postcode and a phone
number. latin-1, Windows line ends, phone numbers in international form. Saved from Excel,
whose wrapped header cell 'Year of Birth' keeps its line break. The file is the offices'
exports joined, so the header comes again inside it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth.frames import take
from sectorlink.synth.mess import Habits
from sectorlink.synth.partners.base import ChunkContext, FileLayout, Partner
from sectorlink.synth.rejects import DateColumn, IdColumn, RejectTargets

SOURCE = "advice_northshire"
KEY = "citizens_advice_cases"
HABITS = Habits(phone=True, dob="year")
# Indexed like vocab.ADVICE_SUPPORT.
AREA = ("Benefits", "Benefits", "Debt", "Debt", "Crisis support")
SUPPORT = ("Benefit check", "Benefit claim/appeal", "Debt advice", "DRO", "Food bank voucher")

SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "latin-1"},
    "record_id": "CaseNo",
    "person": {
        "given_name": "ClientFirstName",
        "family_name": "ClientLastName",
        # Excel wrapped the header cell: the name holds a line break (LF, inside quotes,
        # while rows end in CR LF); the spec names it as it reads.
        "birth_date": "Year of Birth",
        "sex": "Gender",
        "postcode": "Postcode",
        "phone": "Phone",
    },
    "events": [
        {
            "event_type": {
                "column": "AdviceArea",
                "codes": {
                    "Benefits": "benefits_advice",
                    "Debt": "debt_advice",
                    "Crisis support": "benefits_advice",
                },
            },
            "start_time": {"column": "ContactDate", "formats": ["%d/%m/%Y"]},
            "attributes": ["AdviceArea", "AdviceType"],
            "detail": {
                "benefit_support": {
                    "support_type": {
                        "column": "AdviceType",
                        "codes": {
                            "Benefit claim/appeal": "benefits_claim",
                            "Debt advice": "debt_advice",
                            "Food bank voucher": "crisis_grant",
                        },
                    },
                    "debt_amount": "DebtAmount",
                    "financial_gain": "FinancialGain",
                }
            },
        }
    ],
}


def render(ctx: ChunkContext) -> None:
    f = ctx.streams.get("advice")
    order = np.argsort(f["date"], kind="stable")
    f = take(f, order)
    ids = ctx.ids(KEY, len(order), "CA-", 7)
    ctx.link("advice", order, ids)
    who = ctx.identities(f["pidx"], f["date"], HABITS)
    ctx.record(SOURCE, KEY, ids, who)
    year = ctx.people.dob[f["pidx"]].astype("datetime64[Y]").astype(np.int64) + 1970
    year_text = np.where(who.flags["missing_dob"], "", year.astype(str))
    ctx.tables[KEY] = pa.table(
        {
            "CaseNo": fmt.text(ids),
            "ClientFirstName": fmt.text(who.given),
            "ClientLastName": fmt.text(who.family),
            "Year of\nBirth": fmt.text(year_text),
            "Gender": fmt.text(
                np.select([who.sex == "M", who.sex == "F"], ["Male", "Female"], "Prefer not to say")
            ),
            "Postcode": fmt.text(who.postcode),
            "Phone": fmt.phone(who.phone, "intl"),
            "ContactDate": fmt.date(f["date"], "%d/%m/%Y"),
            "AdviceArea": fmt.choose(f["support"], AREA),
            "AdviceType": fmt.choose(f["support"], SUPPORT),
            "DebtAmount": fmt.number(f["debt"], 2),
            "FinancialGain": fmt.number(f["gain"], 2),
        }
    )


PARTNER = Partner(
    source=SOURCE,
    organisation="Northshire Citizens Advice",
    sector="benefits and debt",
    files=(
        FileLayout(
            key=KEY,
            file="citizens_advice_cases.csv",
            spec=SPEC,
            encoding="latin-1",
            crlf=True,
            header_again=True,
            description="Benefits and debt advice contacts; year of birth only.",
            rejects=RejectTargets(
                record="CaseNo",
                fresh=(IdColumn("CaseNo", KEY, "CA-", 7),),
                event_date=DateColumn("ContactDate", "%d/%m/%Y"),
                changed="FinancialGain",
            ),
        ),
    ),
    render=render,
)
