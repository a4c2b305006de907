"""The whole directory as YAML, and back.

Entries refer to each other by name (organisations), source (data sets) and reference
(agreements), never by database id, so a file moves between registries and reads well
in a review. Users, tokens and the audit log are not part of it: they belong to one
installation. Importing updates what exists and adds what does not, so importing the
same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from sectorlink.registry.agreements import (
    agreement_party_names,
    agreement_sources,
    create_agreement,
    list_agreements,
    update_agreement,
)
from sectorlink.registry.db import Registry
from sectorlink.registry.directory import (
    add_person,
    create_dataset,
    create_organisation,
    create_project,
    list_datasets,
    list_organisations,
    list_projects,
    project_organisations,
    update_dataset,
    update_organisation,
    update_project,
)
from sectorlink.registry.errors import InvalidInput
from sectorlink.registry.models import Agreement, Dataset, Organisation, Project
from sectorlink.registry.vocab import name_key

FORMAT_VERSION = 1


def directory_to_dict(session: Session) -> dict[str, Any]:
    """The directory as plain data, in a stable order."""
    return {
        "sectorlink_directory": FORMAT_VERSION,
        "organisations": [
            {
                "name": o.name,
                "sector": o.sector,
                "geography": o.geography,
                "description": o.description,
                "website": o.website,
                "people": [{"name": p.name, "role": p.role, "email": p.email} for p in o.people],
            }
            for o in list_organisations(session)
        ],
        "datasets": [
            {
                "source": d.source,
                "title": d.title,
                "owner": d.owner.name,
                "sector": d.sector,
                "description": d.description,
                "update_frequency": d.update_frequency,
                "coverage": d.coverage,
                "privacy_tier": d.privacy_tier,
                "standard": d.standard,
                "fields": [f"{f.table_name}.{f.field_name}" for f in d.fields],
            }
            for d in list_datasets(session)
        ],
        "projects": [
            {
                "name": p.name,
                "aims": p.aims,
                "population": p.population,
                "geography": p.geography,
                "sectors": list(p.sectors),
                "status": p.status,
                "start_date": p.start_date,
                "end_date": p.end_date,
                "outcomes": list(p.outcomes),
                "leads": [o.name for o in project_organisations(p, "lead")],
                "partners": [o.name for o in project_organisations(p, "partner")],
                "funders": [o.name for o in project_organisations(p, "funder")],
                "datasets": [link.dataset.source for link in p.dataset_links],
                "contacts": [
                    {"organisation": c.person.organisation.name, "name": c.person.name}
                    for c in p.contact_links
                ],
            }
            for p in list_projects(session)
        ],
        "agreements": [
            {
                "reference": a.reference,
                "title": a.title,
                "parties": agreement_party_names(a),
                "datasets": agreement_sources(a),
                "purposes": list(a.purposes),
                "legal_basis": a.legal_basis,
                "valid_from": a.valid_from,
                "valid_to": a.valid_to,
                "conditions": list(a.conditions),
                "notes": a.notes,
                "revoked": a.revoked,
            }
            for a in list_agreements(session)
        ],
    }


def export_directory(registry: Registry, path: Path | None = None) -> str:
    """Write the directory as YAML to `path` (if given) and return the text."""
    with registry.session() as session:
        text = yaml.safe_dump(
            directory_to_dict(session), sort_keys=False, allow_unicode=True, width=100
        )
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def _date(value: Any, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None


def _fields(values: list[str], source: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        table, dot, name = str(value).partition(".")
        if not dot:
            raise InvalidInput(f"data set {source!r}: field {value!r} is not table.field")
        pairs.append((table, name))
    return pairs


def _import_organisations(
    session: Session, items: list[Mapping[str, Any]], result: ImportResult
) -> None:
    for item in items:
        org = session.scalar(
            select(Organisation).where(Organisation.name_key == name_key(item["name"]))
        )
        values = {
            k: item[k] for k in ("sector", "geography", "description", "website") if k in item
        }
        if org is None:
            org = create_organisation(session, name=item["name"], **values)
            result.created.append(f"organisation {org.name}")
        else:
            update_organisation(session, org, values)
            result.updated.append(f"organisation {org.name}")
        known = {p.name_key for p in org.people}
        for person in item.get("people") or []:
            if name_key(person["name"]) not in known:
                add_person(
                    session,
                    org,
                    name=person["name"],
                    role=person.get("role", ""),
                    email=person.get("email", ""),
                )


def _import_datasets(
    session: Session, items: list[Mapping[str, Any]], result: ImportResult
) -> None:
    for item in items:
        values = {
            k: item[k]
            for k in (
                "title",
                "sector",
                "description",
                "update_frequency",
                "coverage",
                "privacy_tier",
                "standard",
            )
            if k in item
        }
        pairs = _fields(item.get("fields") or [], item["source"])
        dataset = session.scalar(select(Dataset).where(Dataset.source == item["source"]))
        if dataset is None:
            create_dataset(
                session, source=item["source"], owner=item["owner"], fields=pairs, **values
            )
            result.created.append(f"data set {item['source']}")
        else:
            update_dataset(session, dataset, {**values, "owner": item["owner"], "fields": pairs})
            result.updated.append(f"data set {item['source']}")


def _import_projects(
    session: Session, items: list[Mapping[str, Any]], result: ImportResult
) -> None:
    keys = (
        "aims",
        "population",
        "geography",
        "sectors",
        "status",
        "outcomes",
        "leads",
        "partners",
        "funders",
        "datasets",
        "contacts",
    )
    for item in items:
        values: dict[str, Any] = {k: item[k] for k in keys if k in item and item[k] is not None}
        for key in ("start_date", "end_date"):
            if key in item:
                values[key] = _date(item[key], f"project {item['name']!r} {key}")
        project = session.scalar(select(Project).where(Project.name_key == name_key(item["name"])))
        if project is None:
            create_project(session, name=item["name"], **values)
            result.created.append(f"project {item['name']}")
        else:
            update_project(session, project, values)
            result.updated.append(f"project {item['name']}")


def _import_agreements(
    session: Session, items: list[Mapping[str, Any]], result: ImportResult
) -> None:
    for item in items:
        ref = item["reference"]
        values: dict[str, Any] = {
            k: item[k]
            for k in (
                "title",
                "legal_basis",
                "notes",
                "purposes",
                "conditions",
                "parties",
                "datasets",
            )
            if k in item
        }
        values["valid_from"] = _date(item.get("valid_from"), f"agreement {ref!r} valid_from")
        values["valid_to"] = _date(item.get("valid_to"), f"agreement {ref!r} valid_to")
        if values["valid_from"] is None or values["valid_to"] is None:
            raise InvalidInput(f"agreement {ref!r} needs valid_from and valid_to")
        agreement = session.scalar(
            select(Agreement).where(Agreement.reference_key == name_key(ref))
        )
        if agreement is None:
            agreement = create_agreement(session, reference=ref, **values)
            if item.get("revoked"):
                agreement.revoked = True
            result.created.append(f"agreement {ref}")
        else:
            update_agreement(session, agreement, {**values, "revoked": bool(item.get("revoked"))})
            result.updated.append(f"agreement {ref}")


def directory_from_dict(session: Session, data: Mapping[str, Any]) -> ImportResult:
    if not isinstance(data, Mapping) or data.get("sectorlink_directory") != FORMAT_VERSION:
        raise InvalidInput(
            f"not a sectorlink directory file (expected 'sectorlink_directory: {FORMAT_VERSION}')"
        )
    result = ImportResult()
    try:
        _import_organisations(session, list(data.get("organisations") or []), result)
        _import_datasets(session, list(data.get("datasets") or []), result)
        _import_projects(session, list(data.get("projects") or []), result)
        _import_agreements(session, list(data.get("agreements") or []), result)
    except (KeyError, TypeError) as error:
        raise InvalidInput(f"directory file is missing or mistypes a value: {error}") from None
    return result


def import_directory(registry: Registry, path: Path) -> ImportResult:
    """Load a directory YAML file: all of it, in one transaction, or nothing."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InvalidInput(f"{path} is not valid YAML: {error}") from None
    with registry.session() as session:
        return directory_from_dict(session, data)
