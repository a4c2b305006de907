"""The directory in the browser beyond search: a page per organisation and data set, and
the network of who shares what with whom drawn in the page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from sectorlink.registry.agreements import (
    agreement_party_names,
    agreement_sources,
    agreement_state,
    list_agreements,
)
from sectorlink.registry.directory import list_projects
from sectorlink.registry.graph import graph_json
from sectorlink.registry.lookup import by_id
from sectorlink.registry.models import Dataset, Organisation
from sectorlink.reports.network import network_svg
from sectorlink.web.deps import RegistryDep
from sectorlink.web.routes.hub_pages import PageUser, _needs, _page

router = APIRouter(include_in_schema=False)


def _agreement_rows(session: Any, keep: Any) -> list[dict[str, Any]]:
    today = dt.date.today()
    return [
        {
            "id": a.id,
            "reference": a.reference,
            "parties": agreement_party_names(a),
            "datasets": agreement_sources(a),
            "state": agreement_state(a, today),
        }
        for a in list_agreements(session)
        if keep(a)
    ]


@router.get("/organisations/{id:int}/page", response_class=HTMLResponse)
def organisation_page(id: int, request: Request, user: PageUser, registry: RegistryDep) -> Response:
    viewer = _needs(user, "viewer")
    with registry.session() as session:
        org = by_id(session, Organisation, id, "organisation")
        projects = [
            {"id": p.id, "name": p.name, "role": m.role}
            for p in list_projects(session)
            for m in p.members
            if m.organisation_id == org.id
        ]
        datasets = [{"id": d.id, "source": d.source, "title": d.title} for d in org.datasets]
        agreements = _agreement_rows(
            session, lambda a: any(p.organisation_id == org.id for p in a.parties)
        )
        view = {
            "name": org.name, "sector": org.sector, "geography": org.geography,
            "description": org.description, "website": org.website,
        }  # fmt: skip
    return _page(
        request,
        "organisation.html",
        viewer,
        title=view["name"],
        org=view,
        projects=projects,
        datasets=datasets,
        agreements=agreements,
    )


@router.get("/datasets/{id:int}/page", response_class=HTMLResponse)
def dataset_page(id: int, request: Request, user: PageUser, registry: RegistryDep) -> Response:
    viewer = _needs(user, "viewer")
    with registry.session() as session:
        dataset = by_id(session, Dataset, id, "data set")
        view = {
            "source": dataset.source, "title": dataset.title,
            "description": dataset.description, "owner": dataset.owner.name,
            "owner_id": dataset.owner_id, "sector": dataset.sector,
            "privacy_tier": dataset.privacy_tier, "standard": dataset.standard,
            "update_frequency": dataset.update_frequency, "coverage": dataset.coverage,
            "fields": [(f.table_name, f.field_name) for f in dataset.fields],
        }  # fmt: skip
        projects = [
            {"id": p.id, "name": p.name}
            for p in list_projects(session)
            if any(link.dataset_id == dataset.id for link in p.dataset_links)
        ]
        agreements = _agreement_rows(session, lambda a: dataset.source in agreement_sources(a))
    return _page(
        request,
        "dataset.html",
        viewer,
        title=view["title"] or view["source"],
        dataset=view,
        projects=projects,
        agreements=agreements,
    )


@router.get("/network", response_class=HTMLResponse)
def network_page(request: Request, user: PageUser, registry: RegistryDep) -> Response:
    viewer = _needs(user, "viewer")
    with registry.session() as session:
        graph = graph_json(session)
        ids = {d.source: d.id for d in session.query(Dataset).all()}
    for node in graph["nodes"]:
        kind, _, key = node["id"].partition(":")
        if kind == "org":
            node["href"] = f"/organisations/{key}/page"
        elif kind == "project":
            node["href"] = f"/projects/{key}/page"
        elif kind == "dataset" and key in ids:
            node["href"] = f"/datasets/{ids[key]}/page"
    svg = Markup(network_svg(graph["nodes"], graph["links"]))  # every label escaped
    return _page(
        request,
        "network.html",
        viewer,
        title="The network",
        svg=svg,
        nodes=len(graph["nodes"]),
        links=len(graph["links"]),
    )
