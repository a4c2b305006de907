"""The tables of the common model, which partners map their extracts to.

With the hub's own tables (`model.hub_tables`, `model.insight_tables`) they make the
catalogue (`model.catalogue`) that DDL, schemas, docs and the identifier lists come from."""

from __future__ import annotations

from sectorlink.model.types import Field, Table

# Lineage columns the hub adds to every row it loads.
LINEAGE = (
    Field("load_id", "string", "The load that wrote this row (see the `load` table).", system=True),
    Field(
        "source_row",
        "integer",
        "Row number in the partner's file as a spreadsheet shows it (the header is row 1).",
        system=True,
    ),
)


def _key(source_doc: str = "The partner source that sent the row.") -> Field:
    return Field("source", "string", source_doc, required=True)


PERSON_RECORD = Table(
    name="person_record",
    kind="person",
    description=(
        "One row per source record that identifies a person. Identifiers live here and "
        "nowhere else; every other table refers to a person through (source, record_id)."
    ),
    primary_key=("source", "record_id"),
    fields=(
        _key(),
        Field("record_id", "string", "The partner's identifier of this record.", required=True),
        Field(
            "local_person_id",
            "string",
            "The partner's own identifier of the person (hospital number, case number), which "
            "may repeat across the partner's records of one person.",
            identifier=True,
        ),
        Field("full_name", "string", "The full name exactly as received.", identifier=True),
        Field(
            "title",
            "string",
            "Title (Mr, Ms, Dr...) when the partner sent one.",
            identifier=True,
            quasi=True,
        ),
        Field("given_name", "string", "First given name.", identifier=True),
        Field("middle_names", "string", "Other given names, space separated.", identifier=True),
        Field("family_name", "string", "Family name (surname).", identifier=True),
        Field(
            "alias",
            "string",
            "Another name the person is known by (an alias, a street or former name), as one "
            "full name 'Forename Surname'; several separated by ';'. Linkage compares the "
            "first with the other records' given and family names.",
            identifier=True,
        ),
        Field("birth_date", "date", "Full date of birth, when known.", identifier=True, quasi=True),
        Field(
            "birth_year",
            "integer",
            "Year of birth: from the full date, or a partial date that gives the year only.",
            identifier=True,
            quasi=True,
        ),
        Field(
            "birth_date_quality",
            "string",
            "How exact the birth date is, when the partner says.",
            code_set="birth_date_quality",
        ),
        Field(
            "age_years", "integer", "Age in years at `age_at_date`, when no birth date was sent."
        ),
        Field("age_at_date", "date", "The date at which `age_years` was recorded."),
        Field("sex", "string", "Sex.", code_set="sex", identifier=True, quasi=True),
        Field("address", "string", "Address lines as received, comma separated.", identifier=True),
        Field(
            "postcode",
            "string",
            "Postcode or ZIP code as received (trimmed, upper case).",
            identifier=True,
        ),
        Field("nhs_number", "string", "NHS number (10 digits, mod-11 check).", identifier=True),
        Field("ni_number", "string", "National Insurance number.", identifier=True),
        Field("ssn", "string", "US Social Security number.", identifier=True),
        Field("phone", "string", "Telephone number.", identifier=True),
        Field("email", "string", "Email address.", identifier=True),
        *LINEAGE,
    ),
)

EVENT = Table(
    name="event",
    kind="event",
    description="One row per contact a person had with a service.",
    primary_key=("source", "event_id"),
    fields=(
        _key(),
        Field("event_id", "string", "The partner's identifier of this event.", required=True),
        Field(
            "record_id",
            "string",
            "The person record (same source) this event belongs to.",
            required=True,
        ),
        Field("event_type", "string", "Kind of contact.", required=True, code_set="event_type"),
        Field(
            "start_time",
            "datetime",
            "When the contact started (or its date at midnight).",
            required=True,
        ),
        Field(
            "end_time",
            "datetime",
            "When the contact ended (or is planned to end), if it has an end.",
            future=True,
        ),
        Field("postcode", "string", "Where it happened: postcode."),
        Field("latitude", "number", "Where it happened: WGS84 latitude.", unit="degree"),
        Field("longitude", "number", "Where it happened: WGS84 longitude.", unit="degree"),
        Field("small_area", "string", "Where it happened: small-area code (LSOA, census tract)."),
        Field(
            "domains",
            "string_list",
            "Need domains this event speaks to (social, financial, physical, clinical); "
            "from the event type unless the spec maps it.",
            code_set="need_domain",
        ),
        Field("site_code", "string", "The partner site that recorded it (e.g. an ED site code)."),
        Field("attributes", "json", "Other columns the spec chose to carry, as a JSON object."),
        *LINEAGE,
    ),
)


def _detail(name: str, description: str, standard: str | None, *fields: Field) -> Table:
    return Table(
        name=name,
        kind="detail",
        parent="event",
        description=description,
        standard=standard,
        primary_key=("source", "event_id"),
        fields=(
            _key(),
            Field("event_id", "string", "The event this detail belongs to.", required=True),
            *fields,
            *LINEAGE,
        ),
    )


VIOLENCE = _detail(
    "violence",
    "ISTV minimum data set for an assault attendance.",
    "ISB 1594 Information Sharing to Tackle Violence",
    Field("assault_datetime", "datetime", "When the assault happened."),
    Field("arrival_datetime", "datetime", "When the patient arrived at the department."),
    Field("assault_method", "string", "Assault method.", code_set="istv_assault_method"),
    Field("assault_method_other", "string", "Free text when the method is 'other'."),
    Field("assault_location_type", "string", "Location type.", code_set="istv_location_type"),
    Field("assault_location_description", "string", "Location description (street, venue)."),
    Field("reporting_period", "string", "Submission reporting period (YYYY-MM)."),
    Field("reported_to_police", "boolean", "Whether the patient said it was reported to police."),
)

HOUSING_EPISODE = _detail(
    "housing_episode",
    "A homelessness or housing project enrolment (HUD HMIS elements).",
    "HUD HMIS Data Standards FY2024",
    Field("project_type", "string", "HMIS project type (2.02.6).", code_set="hmis_project_type"),
    Field("project_start_date", "date", "Project start date (3.10)."),
    Field("project_exit_date", "date", "Project exit date (3.11)."),
    Field(
        "prior_living_situation",
        "string",
        "Prior living situation (3.917).",
        code_set="hmis_living_situation",
    ),
    Field(
        "current_living_situation",
        "string",
        "Current living situation (4.12).",
        code_set="hmis_living_situation",
    ),
    Field("move_in_date", "date", "Housing move-in date (3.20)."),
    Field("destination", "string", "Destination at exit (3.12).", code_set="hmis_living_situation"),
    Field("reason", "string", "Reason for the episode as recorded (e.g. eviction, rent arrears)."),
)

LEAD_TEST = _detail(
    "lead_test",
    "A blood lead test. Whether a result is elevated depends on the reference value in force "
    "at the sample date (a versioned setting), so it is not stored here.",
    None,
    Field("sample_date", "date", "Date the sample was taken."),
    Field("result_ug_dl", "number", "Blood lead level.", unit="µg/dL"),
    Field("sample_type", "string", "Venous or capillary.", code_set="lead_sample_type"),
    Field("property_id", "string", "The property (same source) where the child lives."),
)

MLP_SCREENING = _detail(
    "mlp_screening",
    "A medical-legal partnership screening; one flag per I-HELP domain screened positive.",
    "I-HELP",
    Field("screen_date", "date", "Date of screening."),
    Field("income", "boolean", "Screened positive: income and insurance."),
    Field("housing", "boolean", "Screened positive: housing and utilities."),
    Field("education", "boolean", "Screened positive: education and employment."),
    Field("legal_status", "boolean", "Screened positive: legal status."),
    Field("literacy", "boolean", "Screened positive: literacy."),
    Field("personal_safety", "boolean", "Screened positive: personal and family safety."),
)

LEGAL_REFERRAL = _detail(
    "legal_referral",
    "A referral to legal aid and what came of it (standard MLP measures).",
    "I-HELP",
    Field("referral_date", "date", "Date referred."),
    Field("domain", "string", "I-HELP domain of the legal need.", code_set="ihelp_domain"),
    Field("intake_date", "date", "Date of legal intake, if reached."),
    Field("outcome", "string", "Outcome.", code_set="mlp_outcome"),
    Field("outcome_date", "date", "Date of the outcome."),
    Field("financial_benefit", "number", "Financial benefit won for the client.", unit="currency"),
)

SOCIAL_CARE_EPISODE = _detail(
    "social_care_episode",
    "An adult or children's social care episode.",
    None,
    Field("service", "string", "Service kind.", code_set="social_care_service"),
    Field("start_date", "date", "Episode start."),
    Field("end_date", "date", "Episode end (planned, for an open episode).", future=True),
    Field("reason", "string", "Reason or primary need as recorded."),
)

BENEFIT_SUPPORT = _detail(
    "benefit_support",
    "Benefits or debt advice given.",
    None,
    Field("support_type", "string", "Kind of support.", code_set="support_type"),
    Field("debt_amount", "number", "Debt owed at first contact.", unit="currency"),
    Field(
        "financial_gain", "number", "Annualised benefit gain or debt written off.", unit="currency"
    ),
)

CLINICAL_CONDITION = _detail(
    "clinical_condition",
    "A recorded long-term or mental-health condition.",
    None,
    Field("condition", "string", "Condition.", code_set="condition"),
    Field("diagnosis_date", "date", "Date first recorded."),
    Field("severity", "string", "Severity or stage, as recorded."),
)

PROPERTY = Table(
    name="property",
    kind="reference",
    description="A residential property known to public health or housing inspection.",
    primary_key=("source", "property_id"),
    fields=(
        _key(),
        Field(
            "property_id",
            "string",
            "The partner's property identifier (UPRN or parcel id).",
            required=True,
        ),
        Field("address", "string", "Address."),
        Field("postcode", "string", "Postcode or ZIP code."),
        Field("latitude", "number", "WGS84 latitude.", unit="degree"),
        Field("longitude", "number", "WGS84 longitude.", unit="degree"),
        Field("small_area", "string", "Small-area code."),
        Field("year_built", "integer", "Year the building was built."),
        Field("condition", "string", "Overall condition.", code_set="property_condition"),
        Field("rented", "boolean", "Privately or socially rented."),
        Field("tenure", "string", "Tenure.", code_set="tenure"),
        *LINEAGE,
    ),
)

PROPERTY_INSPECTION = Table(
    name="property_inspection",
    kind="reference",
    description="A housing or lead-hazard inspection of a property.",
    primary_key=("source", "inspection_id"),
    fields=(
        _key(),
        Field("inspection_id", "string", "The partner's inspection identifier.", required=True),
        Field("property_id", "string", "The property inspected.", required=True),
        Field("inspection_date", "date", "Date of inspection.", required=True),
        Field("lead_hazard_found", "boolean", "A lead hazard (paint, dust, pipes) was found."),
        Field("violation_count", "integer", "Number of housing code violations recorded."),
        Field("outcome", "string", "Outcome as recorded (e.g. notice served, abated)."),
        *LINEAGE,
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        PERSON_RECORD,
        EVENT,
        VIOLENCE,
        HOUSING_EPISODE,
        LEAD_TEST,
        MLP_SCREENING,
        LEGAL_REFERRAL,
        SOCIAL_CARE_EPISODE,
        BENEFIT_SUPPORT,
        CLINICAL_CONDITION,
        PROPERTY,
        PROPERTY_INSPECTION,
    )
}

DETAIL_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.kind == "detail")


def get_table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(sorted(TABLES))
        raise KeyError(f"unknown model table {name!r}; known tables: {known}") from None
