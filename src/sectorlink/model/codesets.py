"""The code sets of the common model, each with a crosswalk from common partner codings.

A partner's local code is folded (case, spacing) and looked up in the code set's
crosswalk, then in the mapping spec's own `codes:` table. A code found in neither is
reported as unmapped, never guessed.
"""

from __future__ import annotations

from sectorlink.model.types import Code, CodeSet

SEX = CodeSet(
    name="sex",
    description="Sex as recorded by the partner (NHS Data Dictionary person stated gender codes).",
    codes=(
        Code("M", "Male", ("1", "male", "man", "boy", "m.")),
        Code("F", "Female", ("2", "female", "woman", "girl", "f.")),
        Code("X", "Indeterminate or other", ("other", "indeterminate", "i", "o")),
        Code(
            "U",
            "Not known or not stated",
            ("0", "9", "unknown", "not known", "not stated", "u", "prefer not to say", "n/k"),
        ),
    ),
)

EVENT_TYPE = CodeSet(
    name="event_type",
    description="The kind of contact a person had with a service.",
    codes=(
        Code("ae_attendance", "Emergency department attendance", ("a&e", "ed"), ("physical",)),
        Code(
            "ae_assault",
            "Emergency department attendance for assault",
            ("assault attendance",),
            ("physical",),
        ),
        Code("ambulance_callout", "Ambulance call-out", ("ambulance",), ("physical",)),
        Code("police_victim", "Recorded as a victim of crime", ("victim",), ("social",)),
        Code("police_incident", "Police incident", ("incident",), ("social",)),
        Code(
            "homeless_project_entry",
            "Entry to a homelessness or housing project (HMIS project start)",
            ("hmis entry", "project entry"),
            ("social", "financial"),
        ),
        Code(
            "homeless_contact",
            "Contact recording a current living situation (HMIS 4.12)",
            ("outreach contact",),
            ("social",),
        ),
        Code(
            "housing_loss",
            "Loss of housing (eviction, repossession)",
            ("eviction",),
            ("social", "financial"),
        ),
        Code("adult_social_care", "Adult social care episode", ("asc",), ("social",)),
        Code("children_social_care", "Children's social care episode", ("csc",), ("social",)),
        Code("benefits_advice", "Benefits advice contact", ("welfare rights",), ("financial",)),
        Code("debt_advice", "Debt advice contact", ("debt",), ("financial",)),
        Code("gp_registration", "Registration with a general practice", (), ("clinical",)),
        Code(
            "clinical_condition", "Diagnosis of a recorded condition", ("diagnosis",), ("clinical",)
        ),
        Code(
            "mental_health_crisis",
            "Mental-health crisis attendance or referral",
            ("mh crisis",),
            ("clinical",),
        ),
        Code(
            "mlp_screening",
            "Medical-legal partnership screening (I-HELP)",
            (),
            ("social", "financial"),
        ),
        Code("legal_referral", "Referral to legal aid", (), ("social", "financial")),
        Code("lead_test", "Blood lead test", ("blood lead",), ("physical", "clinical")),
    ),
)

NEED_DOMAIN = CodeSet(
    name="need_domain",
    description="The domains of need an event speaks to.",
    codes=(
        Code("social", "Social"),
        Code("financial", "Financial"),
        Code("physical", "Physical"),
        Code("clinical", "Clinical"),
    ),
)

ISTV_ASSAULT_METHOD = CodeSet(
    name="istv_assault_method",
    description="ISTV (ISB 1594) assault method.",
    standard="ISB 1594 Information Sharing to Tackle Violence",
    codes=(
        Code(
            "01", "Body part (fist, feet, head)", ("body", "hit", "punch", "kick", "bodily force")
        ),
        Code("02", "Blunt object", ("blunt", "bat", "club")),
        Code("03", "Sharp object (knife, blade)", ("knife", "stab", "blade", "sharp", "stabbing")),
        Code("04", "Glass or bottle", ("glass", "bottle", "glassing")),
        Code("05", "Firearm", ("gun", "shooting", "firearm")),
        Code("06", "Other (described in free text)", ("other",)),
        Code("98", "Not known", ("unknown", "not known", "nk")),
    ),
)

ISTV_LOCATION_TYPE = CodeSet(
    name="istv_location_type",
    description="ISTV (ISB 1594) assault location type.",
    standard="ISB 1594 Information Sharing to Tackle Violence",
    codes=(
        Code("01", "Home", ("house", "dwelling", "private residence")),
        Code("02", "Street or other public place", ("street", "public place", "road", "park")),
        Code("03", "Licensed premises (pub, bar, club)", ("pub", "bar", "club", "nightclub")),
        Code("04", "Workplace", ("work",)),
        Code("05", "School or educational establishment", ("school", "college")),
        Code("06", "Public transport", ("bus", "train", "station")),
        Code("07", "Other (described in free text)", ("other",)),
        Code("98", "Not known", ("unknown", "not known", "nk")),
    ),
)

HMIS_PROJECT_TYPE = CodeSet(
    name="hmis_project_type",
    description="HUD HMIS project type (element 2.02.6).",
    standard="HUD HMIS Data Standards FY2024",
    codes=(
        Code("0", "Emergency Shelter - Entry Exit", ("es-ee", "es entry exit")),
        Code("1", "Emergency Shelter - Night-by-Night", ("es-nbn", "night shelter")),
        Code("2", "Transitional Housing", ("th",)),
        Code("3", "PH - Permanent Supportive Housing", ("psh",)),
        Code("4", "Street Outreach", ("so", "outreach")),
        Code("6", "Services Only", ("sso",)),
        Code("7", "Other", ()),
        Code("8", "Safe Haven", ("sh",)),
        Code("9", "PH - Housing Only", ("ph-ho",)),
        Code("10", "PH - Housing with Services", ("ph-hs",)),
        Code("11", "Day Shelter", ("day",)),
        Code("12", "Homelessness Prevention", ("hp", "prevention")),
        Code("13", "PH - Rapid Re-Housing", ("rrh", "rapid rehousing")),
        Code("14", "Coordinated Entry", ("ce",)),
    ),
)

HMIS_LIVING_SITUATION = CodeSet(
    name="hmis_living_situation",
    description="HUD HMIS living situation (elements 3.917 prior and 4.12 current).",
    standard="HUD HMIS Data Standards FY2024",
    codes=(
        Code("116", "Place not meant for habitation", ("street", "rough sleeping", "unsheltered")),
        Code("101", "Emergency shelter", ("shelter", "es")),
        Code("118", "Safe Haven", ()),
        Code("215", "Foster care home or foster care group home", ("foster care",)),
        Code(
            "206", "Hospital or other residential non-psychiatric medical facility", ("hospital",)
        ),
        Code("207", "Jail, prison or juvenile detention facility", ("jail", "prison")),
        Code("225", "Long-term care facility or nursing home", ("nursing home",)),
        Code("204", "Psychiatric hospital or other psychiatric facility", ("psychiatric",)),
        Code("205", "Substance abuse treatment facility or detox center", ("detox",)),
        Code("302", "Transitional housing for homeless persons", ("transitional",)),
        Code("329", "Residential project or halfway house with no homeless criteria", ()),
        Code(
            "314", "Hotel or motel paid for without emergency shelter voucher", ("hotel", "motel")
        ),
        Code("332", "Host Home (non-crisis)", ()),
        Code("312", "Staying or living with family, temporary tenure", ("sofa surfing family",)),
        Code("313", "Staying or living with friends, temporary tenure", ("sofa surfing",)),
        Code("422", "Staying or living with family, permanent tenure", ()),
        Code("423", "Staying or living with friends, permanent tenure", ()),
        Code("410", "Rental by client, no ongoing housing subsidy", ("private rent", "rented")),
        Code("435", "Rental by client, with ongoing housing subsidy", ("social rent",)),
        Code("411", "Owned by client, no ongoing housing subsidy", ("owner", "owned")),
        Code("8", "Client doesn't know", ("don't know",)),
        Code("9", "Client prefers not to answer", ("refused",)),
        Code("99", "Data not collected", ("not collected",)),
    ),
)

LEAD_SAMPLE_TYPE = CodeSet(
    name="lead_sample_type",
    description=(
        "Blood lead sample type; capillary results above the reference value need venous "
        "confirmation."
    ),
    codes=(
        Code("venous", "Venous", ("v", "ven")),
        Code(
            "capillary",
            "Capillary (finger or heel stick)",
            ("c", "cap", "fingerstick", "heelstick"),
        ),
        Code("unknown", "Unknown", ("u", "unk", "not known")),
    ),
)

IHELP_DOMAIN = CodeSet(
    name="ihelp_domain",
    description="I-HELP screening domains for medical-legal partnership.",
    standard="I-HELP (Income, Housing, Education, Legal status, Literacy, Personal safety)",
    codes=(
        Code("income", "Income and insurance", ("i", "benefits", "money")),
        Code("housing", "Housing and utilities", ("h", "housing conditions", "utilities")),
        Code("education", "Education and employment", ("e", "employment", "school")),
        Code("legal_status", "Legal status", ("l", "immigration", "status")),
        Code("literacy", "Literacy", ("lit",)),
        Code(
            "personal_safety",
            "Personal and family stability and safety",
            ("p", "safety", "domestic abuse"),
        ),
    ),
)

MLP_OUTCOME = CodeSet(
    name="mlp_outcome",
    description="Outcome of a medical-legal partnership legal referral.",
    codes=(
        Code("need_addressed", "Legal need addressed", ("resolved", "won", "addressed")),
        Code("advice_given", "Advice given, need partly addressed", ("advice",)),
        Code("not_addressed", "Need not addressed", ("lost", "unresolved")),
        Code(
            "withdrawn",
            "Client withdrew or lost contact",
            ("withdrew", "lost contact", "no contact"),
        ),
        Code("open", "Case still open", ("ongoing", "pending")),
    ),
)

SOCIAL_CARE_SERVICE = CodeSet(
    name="social_care_service",
    description="Social care episode kind.",
    codes=(
        Code("adult_assessment", "Adult care needs assessment", ("assessment",)),
        Code("adult_safeguarding", "Adult safeguarding enquiry", ("s42", "safeguarding adult")),
        Code("adult_care_package", "Adult long-term care package", ("care package", "home care")),
        Code("child_in_need", "Child in need", ("cin",)),
        Code("child_protection", "Child protection plan", ("cp", "cpp")),
        Code("looked_after_child", "Looked-after child", ("lac", "cla", "in care")),
        Code("early_help", "Early help", ("eh",)),
    ),
)

SUPPORT_TYPE = CodeSet(
    name="support_type",
    description="Benefits and debt support kind.",
    codes=(
        Code("benefits_check", "Benefits entitlement check", ("benefit check", "welfare check")),
        Code("benefits_claim", "Help with a benefits claim or appeal", ("claim", "appeal")),
        Code("debt_advice", "Debt advice", ("debt",)),
        Code("debt_relief", "Debt relief or insolvency option", ("dro", "iva", "bankruptcy")),
        Code("crisis_grant", "Crisis grant or food bank referral", ("food bank", "grant")),
    ),
)

CONDITION = CodeSet(
    name="condition",
    description="Recorded long-term and mental-health conditions (QOF register groups).",
    codes=(
        Code("asthma", "Asthma", ("ast",)),
        Code("copd", "Chronic obstructive pulmonary disease", ()),
        Code("diabetes", "Diabetes mellitus", ("dm", "t2dm", "t1dm")),
        Code("chd", "Coronary heart disease", ("ihd",)),
        Code("hypertension", "Hypertension", ("htn", "high blood pressure")),
        Code("depression", "Depression", ("dep",)),
        Code("smi", "Severe mental illness", ("psychosis", "schizophrenia", "bipolar")),
        Code("substance_misuse", "Drug or alcohol misuse", ("alcohol", "drugs", "substance")),
        Code("mh_crisis", "Mental-health crisis", ("crisis",)),
        Code("lead_poisoning", "Elevated blood lead", ("lead",)),
    ),
)

PROPERTY_CONDITION = CodeSet(
    name="property_condition",
    description="Housing inspector's overall condition rating.",
    codes=(
        Code("good", "Good", ("g", "1")),
        Code("fair", "Fair", ("f", "2")),
        Code("poor", "Poor", ("p", "3")),
        Code("dilapidated", "Dilapidated", ("d", "4", "very poor")),
    ),
)

BIRTH_DATE_QUALITY = CodeSet(
    name="birth_date_quality",
    description=(
        "How exact a birth date is (after HUD HMIS 3.03 DOB data quality). An approximate "
        "date keeps only its year: ingest moves it to birth_year and leaves birth_date empty."
    ),
    standard="HUD HMIS Data Standards FY2024 (3.03)",
    codes=(
        Code("full", "Full date of birth reported", ("1", "full dob reported", "exact")),
        Code(
            "approximate",
            "Approximate or partial date of birth reported",
            ("2", "approximate or partial dob reported", "partial", "estimated"),
        ),
        Code(
            "unknown",
            "Not known, refused or not collected",
            ("8", "9", "99", "client doesn't know", "client refused", "data not collected"),
        ),
    ),
)

TENURE = CodeSet(
    name="tenure",
    description="Housing tenure of a property.",
    codes=(
        Code("owner_occupied", "Owner-occupied", ("owner", "owned", "oo")),
        Code("private_rented", "Privately rented", ("private rent", "prs", "private")),
        Code(
            "social_rented",
            "Socially rented (council or housing association)",
            ("social rent", "council", "housing association", "ha", "la"),
        ),
        Code("other", "Other or unknown", ("unknown",)),
    ),
)

CODE_SETS: dict[str, CodeSet] = {
    cs.name: cs
    for cs in (
        SEX,
        EVENT_TYPE,
        NEED_DOMAIN,
        ISTV_ASSAULT_METHOD,
        ISTV_LOCATION_TYPE,
        HMIS_PROJECT_TYPE,
        HMIS_LIVING_SITUATION,
        LEAD_SAMPLE_TYPE,
        IHELP_DOMAIN,
        MLP_OUTCOME,
        SOCIAL_CARE_SERVICE,
        SUPPORT_TYPE,
        CONDITION,
        PROPERTY_CONDITION,
        BIRTH_DATE_QUALITY,
        TENURE,
    )
}


def get_code_set(name: str) -> CodeSet:
    try:
        return CODE_SETS[name]
    except KeyError:
        known = ", ".join(sorted(CODE_SETS))
        raise KeyError(f"unknown code set {name!r}; known code sets: {known}") from None


EVENT_TYPE_DOMAINS: dict[str, tuple[str, ...]] = {c.code: c.domains for c in EVENT_TYPE.codes}
"""The need domains each event type speaks to, used when a spec does not map `domains`."""
