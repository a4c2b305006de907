"""The registry's tables as SQLAlchemy 2 models.

The schema is created by the Alembic migrations in `migrations/`, never by
`create_all`, so SQLite and PostgreSQL get the same tables by the same path. Every
human-entered name has a `*_key` column (case and spacing folded) carrying the unique
constraint, so near-duplicates are refused by the database itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), unique=True)
    sector: Mapped[str] = mapped_column(String(40))
    geography: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    people: Mapped[list[Person]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Person.id"
    )
    datasets: Mapped[list[Dataset]] = relationship(back_populates="owner", order_by="Dataset.id")


class Person(Base):
    """A named contact at an organisation and their role there."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("organisation_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(300), default="")

    organisation: Mapped[Organisation] = relationship(back_populates="people")


class Project(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300), unique=True)
    aims: Mapped[str] = mapped_column(Text, default="")
    population: Mapped[str] = mapped_column(String(300), default="")
    geography: Mapped[str] = mapped_column(String(300), default="")
    sectors: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="active")
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    outcomes: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    members: Mapped[list[ProjectOrganisation]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectOrganisation.id"
    )
    dataset_links: Mapped[list[ProjectDataset]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectDataset.id"
    )
    contact_links: Mapped[list[ProjectContact]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectContact.id"
    )


class ProjectOrganisation(Base):
    """An organisation taking part in a project: as lead, partner or funder."""

    __tablename__ = "project_organisation"
    __table_args__ = (UniqueConstraint("project_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))

    project: Mapped[Project] = relationship(back_populates="members")
    organisation: Mapped[Organisation] = relationship()


class ProjectDataset(Base):
    __tablename__ = "project_dataset"
    __table_args__ = (UniqueConstraint("project_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))

    project: Mapped[Project] = relationship(back_populates="dataset_links")
    dataset: Mapped[Dataset] = relationship()


class ProjectContact(Base):
    __tablename__ = "project_contact"
    __table_args__ = (UniqueConstraint("project_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))

    project: Mapped[Project] = relationship(back_populates="contact_links")
    person: Mapped[Person] = relationship()


class Dataset(Base):
    """A partner's data set, named by the `source` of its mapping spec."""

    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    sector: Mapped[str] = mapped_column(String(40))
    update_frequency: Mapped[str] = mapped_column(String(100), default="")
    coverage: Mapped[str] = mapped_column(String(300), default="")
    privacy_tier: Mapped[str] = mapped_column(String(20), default="identifiable")
    standard: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner: Mapped[Organisation] = relationship(back_populates="datasets")
    fields: Mapped[list[DatasetField]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="DatasetField.id"
    )


class DatasetField(Base):
    """One field of the common model that a data set fills (read from its mapping spec)."""

    __tablename__ = "dataset_field"
    __table_args__ = (UniqueConstraint("dataset_id", "table_name", "field_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    table_name: Mapped[str] = mapped_column(String(100))
    field_name: Mapped[str] = mapped_column(String(100))

    dataset: Mapped[Dataset] = relationship(back_populates="fields")


class Agreement(Base):
    """A data sharing agreement: parties, data sets, permitted purposes and dates."""

    __tablename__ = "agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(100))
    reference_key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    purposes: Mapped[list[str]] = mapped_column(default=list)
    conditions: Mapped[list[str]] = mapped_column(default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    revoked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    parties: Mapped[list[AgreementParty]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementParty.id"
    )
    dataset_links: Mapped[list[AgreementDataset]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementDataset.id"
    )


class AgreementParty(Base):
    __tablename__ = "agreement_party"
    __table_args__ = (UniqueConstraint("agreement_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[str] = mapped_column(String(20))

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship()


class AgreementDataset(Base):
    __tablename__ = "agreement_dataset"
    __table_args__ = (UniqueConstraint("agreement_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"))

    agreement: Mapped[Agreement] = relationship(back_populates="dataset_links")
    dataset: Mapped[Dataset] = relationship()


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    username_key: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id"), nullable=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()


class ApiToken(Base):
    """A bearer token. Only a keyed hash of it is stored; the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """One entry of the hash-chained audit log (see `sectorlink.governance.audit`).

    `at`, `datasets` and `detail` are stored as text exactly as they were hashed, so
    verification never depends on how a database round-trips timestamps or JSON.
    """

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(300))
    datasets: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Added by migration 0002: the typed event's name, the organisation's stable id, and
    # how `entry_hash` was made ("sha256" before 0002, "hmac-sha256" keyed after).
    event: Mapped[str] = mapped_column(String(60), default="recorded", index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scheme: Mapped[str] = mapped_column(String(20), default="sha256")


class LoginAttempt(Base):
    """One sign-in attempt, by account and address, for the rate limit."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username_key: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    succeeded: Mapped[bool] = mapped_column(default=False)


class RegistrySetting(Base):
    """A setting only an admin changes (e.g. the region's disclosure minimum)."""

    __tablename__ = "registry_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
