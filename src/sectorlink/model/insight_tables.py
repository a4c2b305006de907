"""The tables the analyses add to the warehouse.

Most are person-level results an analysis keeps with `ctx.keep` (replaced whole by each
run, never published); `InsightContext.keep` checks a kept frame against its definition
here, so a column added to an analysis without its definition fails at once, naming the
column. `alert` and `vulnerability_dispute` are written by their own code and live across
runs; `geo_area` and `geo_postcode` hold the region's geography.

Kept tables are written from data frames, so none declares NOT NULL. `insights.run`
creates each from its definition here and fills it by name, so a frame's date that came as
a timestamp at midnight (pandas has no date type) or a whole number that came as a double
is stored with the type defined here.
"""

from __future__ import annotations

from sectorlink.model.types import Field, FieldType, Table


def _c(name: str, type_: FieldType, description: str) -> Field:
    return Field(name, type_, description)


def _kept(name: str, description: str, *fields: Field, key: tuple[str, ...] = ()) -> Table:
    return Table(
        name=name,
        kind="hub",
        layer="insights",
        description=description,
        lifecycle="kept by the analysis (`ctx.keep`): replaced whole by each run",
        fields=fields,
        primary_key=key,
    )


_RUN = _c("linkage_run", "string", "The linkage run the person keys come from.")
_PERSON = _c("person_key", "string", "The person (person index); NULL when not linked.")
_SOURCE = _c("source", "string", "The data set of the event.")
_EVENT = _c("event_id", "string", "The partner's own event id.")
_MODEL = _c("model", "string", "The model's name.")
_VERSION = _c("model_version", "string", "The model's version (a hash of its training).")
_AS_OF = _c("as_of", "date", "The day the scores are for.")

# -- homelessness: care coordination ---------------------------------------------------------

HOUSING_STATUS = _kept(
    "housing_status",
    "Housing status at each A&E attendance and ambulance call-out, with its evidence "
    "(homeless-care).",
    _SOURCE,
    _EVENT,
    _c("kind", "string", "ae or ambulance."),
    _c("event_type", "string", "The event type of the attendance."),
    _c("arrival", "datetime", "Arrival (or call) time."),
    _c("category", "string", "Attendance category or call category, as recorded."),
    _c("conveyed", "boolean", "For a call-out: the patient was taken to hospital."),
    _c("site", "string", "The hospital or station."),
    _PERSON,
    _c("status", "string", "Housing status on the day (strongest evidence first)."),
    _c("evidence", "string", "What the status rests on, in words."),
    _c("evidence_date", "datetime", "When that evidence was recorded."),
    _c("evidence_source", "string", "The provider's data set the evidence came from."),
    _c("hospital_nfa", "boolean", "The hospital recorded no fixed abode."),
    _c("known_to_services", "boolean", "A homelessness provider knew the person on the day."),
    _RUN,
    key=("source", "event_id"),
)

HOMELESS_PROVIDER_CLIENT = _kept(
    "homeless_provider_client",
    "Per attendance and provider that knew the person on the day: the provider's own "
    "client id (homeless-care; what an alert names).",
    _SOURCE,
    _EVENT,
    _c("provider_source", "string", "The provider's data set."),
    _c("provider_record_id", "string", "The provider's own client id."),
    _c("status", "string", "The housing status that evidence gives."),
    _c("evidence", "string", "The evidence, in words."),
    _c("evidence_date", "datetime", "When it was recorded."),
    _RUN,
    key=("source", "event_id", "provider_source"),
)

ALERT = Table(
    name="alert",
    kind="hub",
    layer="insights",
    description=(
        "A care-coordination alert: a client known to a homelessness provider attended A&E "
        "or was attended by an ambulance. Keyed by provider and attendance, so a rerun finds "
        "the same alert."
    ),
    lifecycle="inserted once; only delivery, acknowledgement and withdrawal change",
    primary_key=("alert_id",),
    declare_key=True,
    fields=(
        Field("alert_id", "string", "Derived from the provider and the attendance.", required=True),
        Field(
            "organisation", "string", "The homelessness provider the alert is for.", required=True
        ),
        Field("kind", "string", "ae or ambulance.", required=True),
        Field("source", "string", "The attendance's data set.", required=True),
        Field("event_id", "string", "The attendance (the hospital's own id).", required=True),
        Field("provider_source", "string", "The provider's data set.", required=True),
        Field("provider_record_id", "string", "The provider's own client id.", required=True),
        Field("hospital", "string", "The hospital or station."),
        Field("arrival_time", "datetime", "Arrival (or call) time.", required=True),
        Field("category", "string", "Attendance category, as recorded."),
        Field(
            "created_at", "datetime", "When raised (UTC, as are the times below).", required=True
        ),
        Field("delivered_at", "datetime", "First reached the provider (API or webhook)."),
        Field("acknowledged_at", "datetime", "When the provider acknowledged it."),
        Field("acknowledged_by", "string", "Who acknowledged it."),
        Field("withdrawn_at", "datetime", "When withdrawn (its link no longer holds)."),
        Field("withdrawn_reason", "string", "Why it was withdrawn."),
        Field("webhook_sent_at", "datetime", "The webhook answered 2xx: never sent again."),
        Field("webhook_attempts", "int32", "Webhook attempts so far.", required=True, default="0"),
        Field("webhook_error", "string", "The last webhook error."),
        Field("audit_seq", "integer", "The authorise entry that let it out."),
        Field("linkage_run", "string", "The linkage run it was raised on."),
    ),
)

# -- vulnerability ---------------------------------------------------------------------------

VULNERABILITY_FLAG = _kept(
    "vulnerability_flag",
    "A vulnerability flag raised on a person from one event, with its expiry and the "
    "agreement it rests on.",
    _PERSON,
    _c("flag", "string", "The flag's name (the region's vocabulary)."),
    _c("domain", "string", "Its need domain."),
    _c("raised_at", "datetime", "When the event that raised it happened."),
    _c("expires_at", "datetime", "When it lapses."),
    _SOURCE,
    _EVENT,
    _c("agreement", "string", "The agreement (or `owner`) the event is read under."),
    _c("status", "string", "active, held (disputed), corrected or removed."),
    _RUN,
)

RISK_SCORE = _kept(
    "risk_score",
    "Early-warning score per person: risk of a crisis within six months.",
    _MODEL,
    _VERSION,
    _AS_OF,
    _PERSON,
    _c("score", "number", "Predicted risk."),
    _c("rank", "integer", "Rank by score (1 is highest)."),
)

RISK_EXPLANATION = _kept(
    "risk_explanation",
    "The features that contributed most to each person's early-warning score.",
    _MODEL,
    _VERSION,
    _AS_OF,
    _PERSON,
    _c("position", "integer", "1 for the largest contribution."),
    _c("feature", "string", "The feature."),
    _c("value", "number", "Its value for the person."),
    _c("contribution", "number", "Its contribution to the score."),
    _c("text", "string", "The reason, in words."),
    _c("sources", "string", "The data sets the feature was built from."),
)

VULNERABILITY_MODEL = _kept(
    "vulnerability_model",
    "The early-warning model's card (one row).",
    _MODEL,
    _VERSION,
    _AS_OF,
    _c("trained_at", "datetime", "When it was trained (UTC)."),
    _RUN,
    _c("card", "json", "The model card, as JSON text."),
)

VULNERABILITY_DISPUTE = Table(
    name="vulnerability_dispute",
    kind="hub",
    layer="insights",
    description="A dispute of a vulnerability flag and its decision (upheld, corrected, removed).",
    lifecycle="kept across runs; a decision updates its row",
    primary_key=("dispute_id",),
    fields=(
        Field("dispute_id", "int32", "The dispute."),
        Field("source", "string", "The flag's event's data set."),
        Field("event_id", "string", "The flag's event."),
        Field("flag", "string", "The flag disputed."),
        Field("raised_by", "string", "Who raised the dispute."),
        Field("organisation", "string", "Their organisation."),
        Field("reason", "string", "Why."),
        Field("opened_at", "datetime", "When raised."),
        Field("state", "string", "open or decided."),
        Field("decided_by", "string", "Who decided."),
        Field("decided_at", "datetime", "When decided."),
        Field("decision_reason", "string", "Why so decided."),
        Field("corrected_expires_at", "date", "A corrected flag's new expiry."),
    ),
)

# -- violence ------------------------------------------------------------------------------

VIOLENCE_INCIDENT = _kept(
    "violence_incident",
    "One incident per assault, however many services saw it (violence-hotspots).",
    _c("incident_id", "string", "The incident."),
    _PERSON,
    _c("incident_time", "datetime", "Best estimate of when it happened."),
    _c("month", "date", "Its month (first day)."),
    _c("weekday", "int32", "0 Monday to 6 Sunday."),
    _c("hour", "int32", "Hour of the day."),
    _c("hour_of_week", "int32", "Hour of the week (0 is Monday 00:00)."),
    _c("area", "string", "Small area it is placed in."),
    _c("area_by", "string", "How it was placed (given, coordinates, postcode)."),
    _c("lat", "number", "Latitude, where known."),
    _c("lon", "number", "Longitude, where known."),
    _c("place_type", "string", "ISTV location type."),
    _c("method", "string", "ISTV assault method."),
    _c("description", "string", "Location description."),
    _c("site_code", "string", "The ED site."),
    _c("seen_by_ae", "boolean", "An A&E attendance belongs to it."),
    _c("seen_by_ambulance", "boolean", "An ambulance call-out belongs to it."),
    _c("seen_by_police", "boolean", "A police record belongs to it."),
    _c("told_police", "boolean", "The patient said it was reported to police."),
    _c("events", "int32", "Events joined into it."),
    key=("incident_id",),
)

VIOLENCE_INCIDENT_EVENT = _kept(
    "violence_incident_event",
    "Which events make up each incident.",
    _c("incident_id", "string", "The incident."),
    _SOURCE,
    _EVENT,
    key=("source", "event_id"),
)

# -- lead ----------------------------------------------------------------------------------

LEAD_INSPECTION_LIST = _kept(
    "lead_inspection_list",
    "Homes ranked for a lead-hazard inspection, with the reasons (lead-risk).",
    _c("rank", "integer", "1 is inspected first."),
    _c("source", "string", "The property's data set."),
    _c("property_id", "string", "The partner's property id."),
    _c("score", "number", "The home's score."),
    _c("child_risk", "number", "Risk from the children living there."),
    _c("hazard_risk", "number", "Risk of a hazard in the home."),
    _c("known_hazard", "boolean", "A hazard was found there before."),
    _c("lead_assessed", "boolean", "It had a lead assessment before."),
    _c("reasons", "string", "Why, in words."),
    _AS_OF,
    key=("source", "property_id"),
)

LEAD_RISK_CHILD = _kept(
    "lead_risk_child",
    "Children scored for an elevated blood lead level, by person key only.",
    _PERSON,
    _c("source", "string", "The property's data set."),
    _c("property_id", "string", "The home."),
    _c("score", "number", "The child's score."),
    _c("reasons", "string", "Why, in words."),
    _AS_OF,
)

LEAD_RISK_MODEL = _kept(
    "lead_risk_model",
    "The lead-risk model artefact and its card (one row).",
    _c("trained_at", "string", "When it was trained (ISO 8601 text, UTC)."),
    _c("reference_value", "number", "The blood lead reference value it was trained on (µg/dL)."),
    _c("trained_from", "date", "First sample date trained on."),
    _c("trained_to", "date", "Last sample date trained on."),
    _c("artefact", "json", "The model, as JSON text."),
    _c("card", "string", "The model card (Markdown)."),
)

LEAD_FIELD_ISSUE = _kept(
    "lead_field_issue",
    "Blood lead results left out of the model, and why, by the partner's own event id.",
    _SOURCE,
    _EVENT,
    _c("field", "string", "The field at fault."),
    _c("value", "string", "Its value, as text."),
    _c("issue", "string", "What is wrong."),
)

# -- geography ---------------------------------------------------------------------------

GEO_AREA = Table(
    name="geo_area",
    kind="hub",
    layer="insights",
    description="The region's small areas and neighbourhoods, with their outlines.",
    lifecycle="replaced whole by `load_geography`",
    primary_key=("code",),
    fields=(
        Field("code", "string", "Area code."),
        Field("name", "string", "Area name."),
        Field("parent", "string", "The area it lies in (a neighbourhood), if any."),
        Field("geometry", "json", "Outline as GeoJSON geometry text."),
    ),
)

GEO_POSTCODE = Table(
    name="geo_postcode",
    kind="hub",
    layer="insights",
    description="Postcode lookup: each postcode's small area, neighbourhood and centroid.",
    lifecycle="replaced whole by `load_geography`",
    primary_key=("postcode_key",),
    fields=(
        Field("postcode_key", "string", "The postcode compacted for matching."),
        Field("postcode", "string", "The postcode, upper case."),
        Field("small_area", "string", "Its small area."),
        Field("neighbourhood", "string", "Its neighbourhood."),
        Field("latitude", "number", "Centroid latitude.", unit="degree"),
        Field("longitude", "number", "Centroid longitude.", unit="degree"),
    ),
)

INSIGHT_TABLES = (
    HOUSING_STATUS,
    HOMELESS_PROVIDER_CLIENT,
    ALERT,
    VULNERABILITY_FLAG,
    RISK_SCORE,
    RISK_EXPLANATION,
    VULNERABILITY_MODEL,
    VULNERABILITY_DISPUTE,
    VIOLENCE_INCIDENT,
    VIOLENCE_INCIDENT_EVENT,
    LEAD_INSPECTION_LIST,
    LEAD_RISK_CHILD,
    LEAD_RISK_MODEL,
    LEAD_FIELD_ISSUE,
    GEO_AREA,
    GEO_POSTCODE,
)
