"""Organisations, people, data sets and projects: create, read, update."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from sectorlink.registry import directory as lib
from sectorlink.registry.connections import find_connections
from sectorlink.registry.lookup import by_id, dataset_by_source
from sectorlink.registry.models import Organisation, Project, User
from sectorlink.web.deps import (
    Analyst,
    EditableDataset,
    ItemId,
    Partner,
    SessionDep,
    Source,
    Viewer,
)
from sectorlink.web.schemas import (
    ConnectionPublic,
    DatasetCreate,
    DatasetPublic,
    DatasetUpdate,
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
    PersonCreate,
    PersonPublic,
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
    split_fields,
)

router = APIRouter()


@router.get("/organisations", response_model=list[OrganisationPublic], tags=["organisations"])
def organisations(_: Viewer, session: SessionDep) -> list[OrganisationPublic]:
    return [OrganisationPublic.of(o) for o in lib.list_organisations(session)]


@router.post(
    "/organisations", response_model=OrganisationPublic, status_code=201, tags=["organisations"]
)
def create_organisation(
    body: OrganisationCreate, _: Analyst, session: SessionDep
) -> OrganisationPublic:
    return OrganisationPublic.of(lib.create_organisation(session, **body.model_dump()))


@router.get("/organisations/{id}", response_model=OrganisationPublic, tags=["organisations"])
def organisation(id: ItemId, _: Viewer, session: SessionDep) -> OrganisationPublic:
    return OrganisationPublic.of(by_id(session, Organisation, id, "organisation"))


def _admin_only(user: User, what: str) -> None:
    if user.role != "admin":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"only an admin may {what}; you are {user.role} (the change is audited)",
        )


@router.patch("/organisations/{id}", response_model=OrganisationPublic, tags=["organisations"])
def update_organisation(
    id: ItemId, body: OrganisationUpdate, user: Analyst, session: SessionDep
) -> OrganisationPublic:
    """Analysts edit an organisation's details; renaming it is for admins (agreements and
    the audit log refer to it by id, but people type its name)."""
    org = by_id(session, Organisation, id, "organisation")
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] != org.name:
        _admin_only(user, "rename an organisation")
    return OrganisationPublic.of(lib.update_organisation(session, org, changes))


@router.post(
    "/organisations/{id}/people",
    response_model=PersonPublic,
    status_code=201,
    tags=["organisations"],
)
def add_person(id: ItemId, body: PersonCreate, _: Analyst, session: SessionDep) -> PersonPublic:
    person = lib.add_person(
        session, by_id(session, Organisation, id, "organisation"), **body.model_dump()
    )
    return PersonPublic(id=person.id, name=person.name, role=person.role, email=person.email)


@router.get("/datasets", response_model=list[DatasetPublic], tags=["datasets"])
def datasets(_: Viewer, session: SessionDep) -> list[DatasetPublic]:
    return [DatasetPublic.of(d) for d in lib.list_datasets(session)]


@router.post("/datasets", response_model=DatasetPublic, status_code=201, tags=["datasets"])
def create_dataset(body: DatasetCreate, _: Analyst, session: SessionDep) -> DatasetPublic:
    values = body.model_dump()
    values["fields"] = split_fields(values["fields"])
    return DatasetPublic.of(lib.create_dataset(session, **values))


@router.get("/datasets/{source}", response_model=DatasetPublic, tags=["datasets"])
def dataset(source: Source, _: Viewer, session: SessionDep) -> DatasetPublic:
    return DatasetPublic.of(dataset_by_source(session, source))


@router.patch("/datasets/{source}", response_model=DatasetPublic, tags=["datasets"])
def update_dataset(
    dataset: EditableDataset, body: DatasetUpdate, user: Partner, session: SessionDep
) -> DatasetPublic:
    """Analysts edit any data set; a partner edits its own organisation's. Only an admin
    changes its owner (ownership passes access checks), audited with old and new owner."""
    changes = body.model_dump(exclude_unset=True)
    if "owner" in changes:
        _admin_only(user, "change a data set's owner")
    if changes.get("fields") is not None:
        changes["fields"] = split_fields(changes["fields"])
    return DatasetPublic.of(lib.update_dataset(session, dataset, changes))


@router.get("/projects", response_model=list[ProjectPublic], tags=["projects"])
def projects(_: Viewer, session: SessionDep) -> list[ProjectPublic]:
    return [ProjectPublic.of(p) for p in lib.list_projects(session)]


@router.post("/projects", response_model=ProjectPublic, status_code=201, tags=["projects"])
def create_project(body: ProjectCreate, _: Analyst, session: SessionDep) -> ProjectPublic:
    return ProjectPublic.of(lib.create_project(session, **body.model_dump()))


@router.get("/projects/{id}", response_model=ProjectPublic, tags=["projects"])
def project(id: ItemId, _: Viewer, session: SessionDep) -> ProjectPublic:
    return ProjectPublic.of(by_id(session, Project, id, "project"))


@router.patch("/projects/{id}", response_model=ProjectPublic, tags=["projects"])
def update_project(
    id: ItemId, body: ProjectUpdate, _: Analyst, session: SessionDep
) -> ProjectPublic:
    project = by_id(session, Project, id, "project")
    changes = body.model_dump(exclude_unset=True)
    return ProjectPublic.of(lib.update_project(session, project, changes))


@router.get("/projects/{id}/connections", response_model=list[ConnectionPublic], tags=["projects"])
def connections(id: ItemId, _: Viewer, session: SessionDep) -> list[ConnectionPublic]:
    """Other projects sharing data sets, partners, population, geography or aims, with why."""
    found = find_connections(session, by_id(session, Project, id, "project"))
    return [
        ConnectionPublic(
            project_id=c.project_id, project=c.project, score=c.score, reasons=list(c.reasons)
        )
        for c in found
    ]
