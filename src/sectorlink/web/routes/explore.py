"""Search, the network graph, the DCAT catalogue and the YAML export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from sectorlink.registry.dcat import dcat_catalog
from sectorlink.registry.graph import graph_graphml, graph_json
from sectorlink.registry.search import search_directory
from sectorlink.registry.yamlio import directory_to_dict
from sectorlink.web.deps import Analyst, SessionDep, Viewer
from sectorlink.web.schemas import SearchHitPublic

router = APIRouter(tags=["directory"])
Filter = Annotated[str | None, Query(max_length=300)]
Kind = Literal["project", "organisation", "dataset"]


@router.get("/search", response_model=list[SearchHitPublic])
def search(
    _: Viewer,
    session: SessionDep,
    q: Annotated[str, Query(max_length=500, description="Words to find; all must match")] = "",
    sector: Filter = None,
    geography: Filter = None,
    population: Filter = None,
    status: Filter = None,
    kind: Annotated[list[Kind] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[SearchHitPublic]:
    hits = search_directory(
        session,
        q,
        sector=sector,
        geography=geography,
        population=population,
        status=status,
        kinds=kind or ("project", "organisation", "dataset"),
        limit=limit,
    )
    return [
        SearchHitPublic(
            kind=h.kind,
            id=h.id,
            name=h.name,
            score=h.score,
            matched=list(h.matched),
            summary=h.summary,
        )
        for h in hits
    ]


@router.get("/graph")
def graph(_: Viewer, session: SessionDep) -> dict[str, Any]:
    """Nodes (organisations, projects, data sets) and links, for a web page."""
    return graph_json(session)


@router.get(
    "/graph.graphml",
    response_class=Response,
    responses={200: {"content": {"application/graphml+xml": {}}}},
)
def graphml(_: Viewer, session: SessionDep) -> Response:
    return Response(graph_graphml(session), media_type="application/graphml+xml")


@router.get("/catalog.jsonld", responses={200: {"content": {"application/ld+json": {}}}})
def catalog(_: Viewer, session: SessionDep) -> Response:
    """The data sets as a DCAT catalogue (JSON-LD)."""
    import json

    body = json.dumps(dcat_catalog(session), ensure_ascii=False)
    return Response(body, media_type="application/ld+json")


@router.get(
    "/directory.yaml",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}}},
)
def directory_yaml(_: Analyst, session: SessionDep) -> Response:
    """The whole directory as YAML (import it with `sectorlink registry import`)."""
    import yaml

    text = yaml.safe_dump(directory_to_dict(session), sort_keys=False, allow_unicode=True)
    return Response(text, media_type="application/yaml")
