"""The model-level meaning of the small integer codes the event generators use.

Generators speak in these indices; each partner layout turns them into its own local
labels, and its mapping spec maps those labels back to the common model's codes.
"""

from __future__ import annotations

# ISTV (ISB 1594) codes by index.
ISTV_METHOD = ("01", "02", "03", "04", "05", "06", "98")
BODY, BLUNT, SHARP, GLASS, FIREARM, OTHER_METHOD, UNKNOWN_METHOD = range(7)
ISTV_PLACE = ("01", "02", "03", "04", "05", "06", "07", "98")
HOME, STREET, LICENSED, WORK, SCHOOL, TRANSPORT, OTHER_PLACE, UNKNOWN_PLACE = range(8)

AE_CATEGORY = ("illness", "injury", "assault", "self_harm", "mh_crisis")
ILLNESS, INJURY, ASSAULT, SELF_HARM, MH_CRISIS = range(5)

OFFENCE = (
    "violence_with_injury",
    "violence_without_injury",
    "domestic_abuse",
    "burglary",
    "theft",
    "criminal_damage",
    "robbery",
)
VIOLENCE_WITH_INJURY, VIOLENCE_NO_INJURY, DOMESTIC_ABUSE, BURGLARY, THEFT, DAMAGE, ROBBERY = range(
    7
)

CONDITION = (
    "asthma",
    "copd",
    "diabetes",
    "chd",
    "hypertension",
    "depression",
    "smi",
    "substance_misuse",
    "lead_poisoning",
)
ASTHMA, COPD, DIABETES, CHD, HYPERTENSION, DEPRESSION, SMI, SUBSTANCE, LEAD_POISONING = range(9)

ASC_SERVICE = ("adult_assessment", "adult_safeguarding", "adult_care_package")
CSC_SERVICE = ("early_help", "child_in_need", "child_protection", "looked_after_child")

ADVICE_SUPPORT = ("benefits_check", "benefits_claim", "debt_advice", "debt_relief", "crisis_grant")
BENEFITS_CHECK, BENEFITS_CLAIM, DEBT_ADVICE, DEBT_RELIEF, CRISIS_GRANT = range(5)

IHELP = ("income", "housing", "education", "legal_status", "literacy", "personal_safety")
MLP_OUTCOME = ("need_addressed", "advice_given", "not_addressed", "withdrawn", "open")
NEED_ADDRESSED, ADVICE_GIVEN, NOT_ADDRESSED, WITHDRAWN, OPEN = range(5)

SAMPLE_TYPE = ("capillary", "venous")
CAPILLARY, VENOUS = range(2)

# HUD HMIS codes used directly (project type 2.02.6; living situation 3.917 / 4.12).
HMIS_ES, HMIS_TH, HMIS_OUTREACH, HMIS_PREVENTION, HMIS_RRH = 0, 2, 4, 12, 13
LIVING_STREET, LIVING_SHELTER, LIVING_FAMILY, LIVING_FRIENDS = 116, 101, 312, 313
LIVING_RENT, LIVING_SOCIAL_RENT, LIVING_OWNED, LIVING_HOSPITAL, LIVING_JAIL = (
    410,
    435,
    411,
    206,
    207,
)
LIVING_NOT_COLLECTED = 99
