"""Request and response bodies. Create, Update and Public are separate on purpose: a
Public schema lists exactly what may leave the server, so a password hash or a token
hash can never leak by accident. Vocabulary (sectors, statuses, ...) is checked by the
library, which answers 422 with the allowed values."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sectorlink.registry.agreements import (
    agreement_party_names,
    agreement_sources,
    agreement_state,
)
from sectorlink.registry.directory import project_organisations
from sectorlink.registry.models import Agreement, Dataset, Organisation, Project, User

Name = Annotated[str, Field(min_length=1, max_length=300)]
ShortText = Annotated[str, Field(max_length=300)]
LongText = Annotated[str, Field(max_length=20_000)]
SourceName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")]
Purpose = Annotated[str, Field(min_length=1, max_length=300)]
FieldRef = Annotated[str, Field(min_length=3, max_length=201, pattern=r"^[a-z_]+\.[a-z0-9_]+$")]
Role = Literal["viewer", "partner", "analyst", "admin"]
PartyRole = Literal["provider", "recipient", "processor"]
Action = Literal["read", "read_identifiers", "export", "publish"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- organisations --------------------------------------------------------------------


class PersonCreate(_Strict):
    name: Name
    role: ShortText = ""
    email: ShortText = ""


class PersonPublic(BaseModel):
    id: int
    name: str
    role: str
    email: str


class OrganisationCreate(_Strict):
    name: Name
    sector: ShortText
    geography: ShortText = ""
    description: LongText = ""
    website: ShortText = ""


class OrganisationUpdate(_Strict):
    name: Name | None = None
    sector: ShortText | None = None
    geography: ShortText | None = None
    description: LongText | None = None
    website: ShortText | None = None


class OrganisationPublic(BaseModel):
    id: int
    name: str
    sector: str
    geography: str
    description: str
    website: str
    people: list[PersonPublic]

    @classmethod
    def of(cls, o: Organisation) -> OrganisationPublic:
        return cls(
            id=o.id,
            name=o.name,
            sector=o.sector,
            geography=o.geography,
            description=o.description,
            website=o.website,
            people=[
                PersonPublic(id=p.id, name=p.name, role=p.role, email=p.email) for p in o.people
            ],
        )


# --- data sets ------------------------------------------------------------------------


class DatasetCreate(_Strict):
    source: SourceName
    owner: Name
    title: ShortText = ""
    sector: ShortText | None = None
    description: LongText = ""
    update_frequency: Annotated[str, Field(max_length=100)] = ""
    coverage: ShortText = ""
    privacy_tier: ShortText = "identifiable"
    standard: ShortText = ""
    fields: list[FieldRef] = Field(default_factory=list, max_length=500)


class DatasetUpdate(_Strict):
    title: Name | None = None
    owner: Name | None = None
    sector: ShortText | None = None
    description: LongText | None = None
    update_frequency: Annotated[str, Field(max_length=100)] | None = None
    coverage: ShortText | None = None
    privacy_tier: ShortText | None = None
    standard: ShortText | None = None
    fields: list[FieldRef] | None = Field(default=None, max_length=500)


class DatasetPublic(BaseModel):
    id: int
    source: str
    title: str
    owner: str
    sector: str
    description: str
    update_frequency: str
    coverage: str
    privacy_tier: str
    standard: str
    fields: list[str]

    @classmethod
    def of(cls, d: Dataset) -> DatasetPublic:
        return cls(
            id=d.id,
            source=d.source,
            title=d.title,
            owner=d.owner.name,
            sector=d.sector,
            description=d.description,
            update_frequency=d.update_frequency,
            coverage=d.coverage,
            privacy_tier=d.privacy_tier,
            standard=d.standard,
            fields=[f"{f.table_name}.{f.field_name}" for f in d.fields],
        )


def split_fields(fields: list[str]) -> list[tuple[str, str]]:
    return [(t, f) for t, _, f in (ref.partition(".") for ref in fields)]


# --- projects -------------------------------------------------------------------------


class Contact(_Strict):
    organisation: Name
    name: Name


class ProjectCreate(_Strict):
    name: Name
    aims: LongText = ""
    population: ShortText = ""
    geography: ShortText = ""
    sectors: list[ShortText] = Field(default_factory=list, max_length=20)
    status: ShortText = "active"
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    outcomes: list[ShortText] = Field(default_factory=list, max_length=50)
    leads: list[Name] = Field(default_factory=list, max_length=100)
    partners: list[Name] = Field(default_factory=list, max_length=200)
    funders: list[Name] = Field(default_factory=list, max_length=100)
    datasets: list[SourceName] = Field(default_factory=list, max_length=200)
    contacts: list[Contact] = Field(default_factory=list, max_length=100)


class ProjectUpdate(_Strict):
    name: Name | None = None
    aims: LongText | None = None
    population: ShortText | None = None
    geography: ShortText | None = None
    sectors: list[ShortText] | None = Field(default=None, max_length=20)
    status: ShortText | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    outcomes: list[ShortText] | None = Field(default=None, max_length=50)
    leads: list[Name] | None = Field(default=None, max_length=100)
    partners: list[Name] | None = Field(default=None, max_length=200)
    funders: list[Name] | None = Field(default=None, max_length=100)
    datasets: list[SourceName] | None = Field(default=None, max_length=200)
    contacts: list[Contact] | None = Field(default=None, max_length=100)


class ProjectPublic(BaseModel):
    id: int
    name: str
    aims: str
    population: str
    geography: str
    sectors: list[str]
    status: str
    start_date: dt.date | None
    end_date: dt.date | None
    outcomes: list[str]
    leads: list[str]
    partners: list[str]
    funders: list[str]
    datasets: list[str]
    contacts: list[Contact]

    @classmethod
    def of(cls, p: Project) -> ProjectPublic:
        return cls(
            id=p.id,
            name=p.name,
            aims=p.aims,
            population=p.population,
            geography=p.geography,
            sectors=list(p.sectors),
            status=p.status,
            start_date=p.start_date,
            end_date=p.end_date,
            outcomes=list(p.outcomes),
            leads=[o.name for o in project_organisations(p, "lead")],
            partners=[o.name for o in project_organisations(p, "partner")],
            funders=[o.name for o in project_organisations(p, "funder")],
            datasets=[link.dataset.source for link in p.dataset_links],
            contacts=[
                Contact(organisation=c.person.organisation.name, name=c.person.name)
                for c in p.contact_links
            ],
        )


class ConnectionPublic(BaseModel):
    project_id: int
    project: str
    score: float
    reasons: list[str]


# --- agreements -----------------------------------------------------------------------


class AgreementCreate(_Strict):
    reference: Annotated[str, Field(min_length=1, max_length=100)]
    title: ShortText = ""
    parties: dict[Name, PartyRole] = Field(min_length=1, max_length=50)
    datasets: list[SourceName] = Field(min_length=1, max_length=200)
    purposes: list[Purpose] = Field(min_length=1, max_length=50)
    legal_basis: LongText = ""
    valid_from: dt.date
    valid_to: dt.date
    conditions: list[ShortText] = Field(default_factory=list, max_length=10)
    notes: LongText = ""


class AgreementUpdate(_Strict):
    title: ShortText | None = None
    parties: dict[Name, PartyRole] | None = Field(default=None, min_length=1, max_length=50)
    datasets: list[SourceName] | None = Field(default=None, min_length=1, max_length=200)
    purposes: list[Purpose] | None = Field(default=None, min_length=1, max_length=50)
    legal_basis: LongText | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    conditions: list[ShortText] | None = Field(default=None, max_length=10)
    notes: LongText | None = None
    revoked: bool | None = None


class AgreementPublic(BaseModel):
    id: int
    reference: str
    title: str
    parties: dict[str, str]
    datasets: list[str]
    purposes: list[str]
    legal_basis: str
    valid_from: dt.date
    valid_to: dt.date
    conditions: list[str]
    notes: str
    revoked: bool
    state: str

    @classmethod
    def of(cls, a: Agreement) -> AgreementPublic:
        return cls(
            id=a.id,
            reference=a.reference,
            title=a.title,
            parties=agreement_party_names(a),
            datasets=agreement_sources(a),
            purposes=list(a.purposes),
            legal_basis=a.legal_basis,
            valid_from=a.valid_from,
            valid_to=a.valid_to,
            conditions=list(a.conditions),
            notes=a.notes,
            revoked=a.revoked,
            state=agreement_state(a, dt.date.today()),
        )


# --- users, search, governance --------------------------------------------------------


class UserCreate(_Strict):
    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=12, max_length=1000)]
    role: Role
    organisation: Name | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    role: str
    organisation: str | None
    active: bool

    @classmethod
    def of(cls, u: User) -> UserPublic:
        org = u.organisation.name if u.organisation else None
        return cls(id=u.id, username=u.username, role=u.role, organisation=org, active=u.active)


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in_days: int


class SearchHitPublic(BaseModel):
    kind: str
    id: int
    name: str
    score: float
    matched: list[str]
    summary: str


class AccessRequest(_Strict):
    organisation: Name | None = None
    purpose: Purpose
    datasets: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(max_length=200)
    action: Action = "read"


class GrantPublic(BaseModel):
    organisation: str
    purpose: str
    action: str
    datasets: list[str]
    basis: dict[str, str]
    conditions: list[str]
    audit_seq: int


class DisclosureMinimumPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_count: int = Field(
        ge=2, le=1000, description="Counts 1..min_count-1 are always hidden; at least 2"
    )


class RevokedPublic(BaseModel):
    username: str
    tokens_revoked: int
    active: bool


class AuditEntryPublic(BaseModel):
    seq: int
    at: str
    event: str
    actor: str
    organisation: str
    organisation_id: int | None
    action: str
    purpose: str
    datasets: list[str]
    outcome: str
    reason: str
    entry_hash: str


class AuditVerificationPublic(BaseModel):
    ok: bool
    entries: int
    head: str
    problems: list[str]


class Problem(BaseModel):
    detail: str
