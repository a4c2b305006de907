"""Creating and updating the directory: organisations, people, projects and data sets.

Every function takes an open `Session` (from `Registry.session()`), validates its input
against the vocabularies in `vocab`, and raises `InvalidInput`, `NotFound` or `Duplicate`
with a message naming what is wrong. Related entries are named, not numbered
(`partners=["Northgate Hospital NHS Trust"]`), so a notebook reads like the directory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sectorlink.registry.errors import Duplicate, InvalidInput
from sectorlink.registry.lookup import (
    dataset_by_source,
    flush_unique,
    organisation_by_name,
)
from sectorlink.registry.models import (
    Dataset,
    DatasetField,
    Organisation,
    Person,
    Project,
    ProjectContact,
    ProjectDataset,
    ProjectOrganisation,
)
from sectorlink.registry.vocab import (
    PROJECT_ROLES,
    clean_text,
    name_key,
    normalise_privacy_tier,
    normalise_sector,
    normalise_source,
    normalise_status,
)


def _text(value: Any, what: str, *, max_length: int = 300, required: bool = False) -> str:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {type(value).__name__}")
    return clean_text(value, what, max_length=max_length)


def _long_text(value: Any, what: str) -> str:
    return _text(value, what, max_length=20_000)


def _text_list(values: Iterable[Any] | None, what: str) -> list[str]:
    return [_text(v, what, required=True) for v in (values or [])]


def _check_dates(start: dt.date | None, end: dt.date | None, what: str) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInput(
            f"{what} ends ({end.isoformat()}) before it starts ({start.isoformat()})"
        )


# Fields a PATCH may change but never empty with an explicit null.
_REQUIRED = {"name", "sector", "status", "sectors", "title", "privacy_tier", "outcomes"}


def _apply(
    target: object, changes: Mapping[str, Any], allowed: Mapping[str, Any], what: str
) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"cannot update {', '.join(unknown)} of {what}; updatable: {', '.join(sorted(allowed))}"
        )
    for key, value in changes.items():
        if value is None and key in _REQUIRED:
            raise InvalidInput(f"{key} of {what} cannot be null (leave it out to keep it)")
        try:
            converted = allowed[key](value)
        except (TypeError, AttributeError):  # a null or a wrong type where text was due
            raise InvalidInput(f"{key} of {what}: {value!r} is not a valid value") from None
        setattr(target, key, converted)


# --- organisations -------------------------------------------------------------------


def create_organisation(
    session: Session,
    *,
    name: str,
    sector: str,
    geography: str = "",
    description: str = "",
    website: str = "",
) -> Organisation:
    """Add an organisation. A name differing only by case or spacing is a `Duplicate`."""
    clean = clean_text(name, "organisation name")
    existing = session.scalar(select(Organisation).where(Organisation.name_key == name_key(clean)))
    if existing is not None:
        raise Duplicate(
            f"organisation {clean!r} already exists as {existing.name!r} "
            "(names are compared ignoring case and spacing)"
        )
    organisation = Organisation(
        name=clean,
        name_key=name_key(clean),
        sector=normalise_sector(sector),
        geography=_text(geography, "geography"),
        description=_long_text(description, "description"),
        website=_text(website, "website"),
    )
    session.add(organisation)
    flush_unique(session, f"organisation {clean!r} already exists")
    return organisation


def _rename_organisation(session: Session, organisation: Organisation, new_name: str) -> str:
    clean = clean_text(new_name, "organisation name")
    clash = session.scalar(select(Organisation).where(Organisation.name_key == name_key(clean)))
    if clash is not None and clash.id != organisation.id:
        raise Duplicate(f"organisation {clean!r} already exists as {clash.name!r}")
    organisation.name_key = name_key(clean)
    return clean


def update_organisation(
    session: Session, organisation: Organisation, changes: Mapping[str, Any]
) -> Organisation:
    """Change some fields of an organisation (`name`, `sector`, `geography`, ...)."""
    allowed = {
        "name": lambda v: _rename_organisation(session, organisation, v),
        "sector": normalise_sector,
        "geography": lambda v: _text(v, "geography"),
        "description": lambda v: _long_text(v, "description"),
        "website": lambda v: _text(v, "website"),
    }
    _apply(organisation, changes, allowed, f"organisation {organisation.name!r}")
    flush_unique(session, f"organisation {organisation.name!r} already exists")
    return organisation


def add_person(
    session: Session, organisation: Organisation, *, name: str, role: str = "", email: str = ""
) -> Person:
    """Record a person at an organisation and their role there."""
    clean = clean_text(name, "person name")
    for person in organisation.people:
        if person.name_key == name_key(clean):
            raise Duplicate(f"{clean!r} is already listed at {organisation.name!r}")
    person = Person(
        name=clean,
        name_key=name_key(clean),
        role=_text(role, "role"),
        email=_text(email, "email"),
    )
    organisation.people.append(person)
    flush_unique(session, f"{clean!r} is already listed at {organisation.name!r}")
    return person


# --- data sets -----------------------------------------------------------------------


def create_dataset(
    session: Session,
    *,
    source: str,
    owner: str,
    title: str = "",
    sector: str | None = None,
    description: str = "",
    update_frequency: str = "",
    coverage: str = "",
    privacy_tier: str = "identifiable",
    standard: str = "",
    fields: Sequence[tuple[str, str]] = (),
) -> Dataset:
    """Add a data set, named by the `source` of its mapping spec and owned by `owner`.

    `fields` lists the common-model fields it fills as (table, field) pairs; `sector`
    defaults to the owner's.
    """
    clean_source = normalise_source(source)
    if session.scalar(select(Dataset).where(Dataset.source == clean_source)) is not None:
        raise Duplicate(f"data set {clean_source!r} already exists")
    owner_org = organisation_by_name(session, owner)
    dataset = Dataset(
        source=clean_source,
        title=_text(title, "title") or clean_source,
        owner=owner_org,
        sector=normalise_sector(sector) if sector else owner_org.sector,
        description=_long_text(description, "description"),
        update_frequency=_text(update_frequency, "update frequency", max_length=100),
        coverage=_text(coverage, "coverage"),
        privacy_tier=normalise_privacy_tier(privacy_tier),
        standard=_text(standard, "standard"),
    )
    session.add(dataset)
    set_dataset_fields(dataset, fields)
    flush_unique(session, f"data set {clean_source!r} already exists")
    return dataset


def set_dataset_fields(dataset: Dataset, fields: Iterable[tuple[str, str]]) -> None:
    """Replace the model fields a data set fills, checking each against the common model."""
    from sectorlink.model import get_table  # the model is the one source of truth

    wanted: list[tuple[str, str]] = []
    for table_name, field_name in fields:
        try:
            table = get_table(table_name)
        except KeyError as error:
            raise InvalidInput(str(error.args[0])) from None
        if field_name not in table.field_names:
            raise InvalidInput(f"model table {table_name!r} has no field {field_name!r}")
        if (table_name, field_name) not in wanted:
            wanted.append((table_name, field_name))
    current = {(f.table_name, f.field_name): f for f in dataset.fields}
    dataset.fields = [
        current.get(pair) or DatasetField(table_name=pair[0], field_name=pair[1]) for pair in wanted
    ]


def update_dataset(session: Session, dataset: Dataset, changes: Mapping[str, Any]) -> Dataset:
    """Change some fields of a data set; its `source` never changes (specs refer to it)."""
    updatable = dict(changes)
    fields = updatable.pop("fields", None)
    owner = updatable.pop("owner", None)
    allowed = {
        "title": lambda v: _text(v, "title", required=True),
        "sector": normalise_sector,
        "description": lambda v: _long_text(v, "description"),
        "update_frequency": lambda v: _text(v, "update frequency", max_length=100),
        "coverage": lambda v: _text(v, "coverage"),
        "privacy_tier": normalise_privacy_tier,
        "standard": lambda v: _text(v, "standard"),
    }
    _apply(dataset, updatable, allowed, f"data set {dataset.source!r}")
    if owner is not None:
        dataset.owner = organisation_by_name(session, owner)
    if fields is not None:
        set_dataset_fields(dataset, [tuple(pair) for pair in fields])
    session.flush()
    return dataset


# --- projects ------------------------------------------------------------------------


def _set_members(session: Session, project: Project, role: str, names: Sequence[str]) -> None:
    if role not in PROJECT_ROLES:
        raise InvalidInput(f"unknown project role {role!r}; expected one of {PROJECT_ROLES}")
    organisations = [organisation_by_name(session, n) for n in names]
    # Existing rows are reused, not replaced: the unique key would otherwise see the new
    # row inserted before the old one is deleted.
    current = {m.organisation_id: m for m in project.members if m.role == role}
    kept = [m for m in project.members if m.role != role]
    seen: set[int] = set()
    for organisation in organisations:
        if organisation.id not in seen:
            seen.add(organisation.id)
            kept.append(
                current.get(organisation.id)
                or ProjectOrganisation(organisation=organisation, role=role)
            )
    project.members = kept


def _set_datasets(session: Session, project: Project, sources: Sequence[str]) -> None:
    datasets = {d.id: d for d in (dataset_by_source(session, s) for s in sources)}
    current = {link.dataset_id: link for link in project.dataset_links}
    project.dataset_links = [
        current.get(i) or ProjectDataset(dataset=d) for i, d in datasets.items()
    ]


def _set_contacts(
    session: Session, project: Project, contacts: Sequence[Mapping[str, str]]
) -> None:
    """Contacts are named as {"organisation": ..., "name": ...}; unknown people are added."""
    current = {link.person_id: link for link in project.contact_links}
    links: list[ProjectContact] = []
    for contact in contacts:
        organisation = organisation_by_name(session, contact["organisation"])
        wanted = name_key(contact["name"])
        person = next((p for p in organisation.people if p.name_key == wanted), None)
        if person is None:
            person = add_person(
                session, organisation, name=contact["name"], role=contact.get("role", "")
            )
        if all(link.person_id != person.id for link in links):
            links.append(current.get(person.id) or ProjectContact(person=person))
    project.contact_links = links


def create_project(
    session: Session,
    *,
    name: str,
    aims: str = "",
    population: str = "",
    geography: str = "",
    sectors: Sequence[str] = (),
    status: str = "active",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    outcomes: Sequence[str] = (),
    leads: Sequence[str] = (),
    partners: Sequence[str] = (),
    funders: Sequence[str] = (),
    datasets: Sequence[str] = (),
    contacts: Sequence[Mapping[str, str]] = (),
) -> Project:
    """Add a project or initiative. Partners, funders and data sets are named."""
    clean = clean_text(name, "project name")
    existing = session.scalar(select(Project).where(Project.name_key == name_key(clean)))
    if existing is not None:
        raise Duplicate(f"project {clean!r} already exists as {existing.name!r}")
    _check_dates(start_date, end_date, f"project {clean!r}")
    project = Project(
        name=clean,
        name_key=name_key(clean),
        aims=_long_text(aims, "aims"),
        population=_text(population, "population"),
        geography=_text(geography, "geography"),
        sectors=sorted({normalise_sector(s) for s in sectors}),
        status=normalise_status(status),
        start_date=start_date,
        end_date=end_date,
        outcomes=_text_list(outcomes, "outcome"),
    )
    session.add(project)
    for role, names in (("lead", leads), ("partner", partners), ("funder", funders)):
        _set_members(session, project, role, names)
    _set_datasets(session, project, datasets)
    _set_contacts(session, project, contacts)
    flush_unique(session, f"project {clean!r} already exists")
    return project


def update_project(session: Session, project: Project, changes: Mapping[str, Any]) -> Project:
    """Change some fields of a project; `partners=[...]` etc. replace the whole list."""
    updatable = dict(changes)
    for key in ("leads", "partners", "funders", "datasets", "contacts"):
        if key in updatable and updatable[key] is None:
            raise InvalidInput(
                f"{key} of project {project.name!r} cannot be null: send [] to empty the list"
            )
    relations = {k: updatable.pop(k) for k in ("leads", "partners", "funders") if k in updatable}
    sources = updatable.pop("datasets", None)
    contacts = updatable.pop("contacts", None)

    def rename(value: str) -> str:
        clean = clean_text(value, "project name")
        clash = session.scalar(select(Project).where(Project.name_key == name_key(clean)))
        if clash is not None and clash.id != project.id:
            raise Duplicate(f"project {clean!r} already exists as {clash.name!r}")
        project.name_key = name_key(clean)
        return clean

    allowed = {
        "name": rename,
        "aims": lambda v: _long_text(v, "aims"),
        "population": lambda v: _text(v, "population"),
        "geography": lambda v: _text(v, "geography"),
        "sectors": lambda v: sorted({normalise_sector(s) for s in v}),
        "status": normalise_status,
        "start_date": lambda v: v,
        "end_date": lambda v: v,
        "outcomes": lambda v: _text_list(v, "outcome"),
    }
    _apply(project, updatable, allowed, f"project {project.name!r}")
    _check_dates(project.start_date, project.end_date, f"project {project.name!r}")
    for key, names in relations.items():
        _set_members(session, project, key.removesuffix("s"), names)
    if sources is not None:
        _set_datasets(session, project, sources)
    if contacts is not None:
        _set_contacts(session, project, contacts)
    flush_unique(session, f"project {project.name!r} already exists")
    return project


def project_organisations(project: Project, role: str) -> list[Organisation]:
    return [m.organisation for m in project.members if m.role == role]


def project_datasets(project: Project) -> list[Dataset]:
    return [link.dataset for link in project.dataset_links]


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name_key)))


def list_projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.name_key)))


def list_datasets(session: Session) -> list[Dataset]:
    return list(session.scalars(select(Dataset).order_by(Dataset.source)))
