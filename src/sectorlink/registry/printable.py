"""A printable HTML page of the whole directory (projects with their connections)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from sectorlink.registry.agreements import (
    agreement_party_names,
    agreement_sources,
    agreement_state,
    list_agreements,
)
from sectorlink.registry.connections import find_connections
from sectorlink.registry.directory import (
    list_datasets,
    list_organisations,
    list_projects,
    project_organisations,
)

# Autoescape everywhere: names and aims are typed by people and may hold markup.
_env = Environment(
    loader=PackageLoader("sectorlink.registry", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def directory_html(session: Session, *, title: str = "Directory of data-sharing efforts") -> str:
    today = dt.date.today()
    projects: list[dict[str, Any]] = [
        {
            "id": p.id,
            "name": p.name,
            "status": p.status,
            "geography": p.geography,
            "population": p.population,
            "start_date": p.start_date,
            "end_date": p.end_date,
            "aims": p.aims,
            "outcomes": p.outcomes,
            "leads": [o.name for o in project_organisations(p, "lead")],
            "partners": [o.name for o in project_organisations(p, "partner")],
            "funders": [o.name for o in project_organisations(p, "funder")],
            "datasets": [link.dataset.source for link in p.dataset_links],
            "connections": find_connections(session, p, limit=5),
        }
        for p in list_projects(session)
    ]
    agreements = [
        {
            "reference": a.reference,
            "parties": agreement_party_names(a),
            "datasets": agreement_sources(a),
            "purposes": a.purposes,
            "valid_from": a.valid_from,
            "valid_to": a.valid_to,
            "state": agreement_state(a, today),
            "conditions": a.conditions,
        }
        for a in list_agreements(session)
    ]
    return _env.get_template("directory.html.j2").render(
        title=title,
        generated=today.isoformat(),
        projects=projects,
        organisations=list_organisations(session),
        datasets=list_datasets(session),
        agreements=agreements,
    )
