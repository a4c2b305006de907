"""The directory as a network: organisations, projects and data sets, and their links.

`directory_graph` builds it once; `graph_json` (nodes and links, the shape a D3 or
vis.js page reads) and `graph_graphml` (for Gephi, yEd, networkx) only write it out.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from sectorlink.registry.agreements import agreement_state, list_agreements
from sectorlink.registry.directory import list_datasets, list_organisations, list_projects


@dataclass
class DirectoryGraph:
    nodes: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)


def directory_graph(session: Session) -> DirectoryGraph:
    """Nodes `org:ID`, `project:ID`, `dataset:SOURCE`; links owns / lead / partner /
    funder / uses / shares (provider -> recipient, one per agreement and pair)."""
    graph = DirectoryGraph()
    for org in list_organisations(session):
        graph.nodes.append(
            {"id": f"org:{org.id}", "label": org.name, "kind": "organisation", "sector": org.sector}
        )
    for project in list_projects(session):
        graph.nodes.append(
            {
                "id": f"project:{project.id}",
                "label": project.name,
                "kind": "project",
                "status": project.status,
            }
        )
        for member in project.members:
            graph.links.append(
                {
                    "source": f"org:{member.organisation_id}",
                    "target": f"project:{project.id}",
                    "relation": member.role,
                }
            )
        for link in project.dataset_links:
            graph.links.append(
                {
                    "source": f"project:{project.id}",
                    "target": f"dataset:{link.dataset.source}",
                    "relation": "uses",
                }
            )
    for dataset in list_datasets(session):
        graph.nodes.append(
            {
                "id": f"dataset:{dataset.source}",
                "label": dataset.title,
                "kind": "dataset",
                "sector": dataset.sector,
            }
        )
        graph.links.append(
            {
                "source": f"org:{dataset.owner_id}",
                "target": f"dataset:{dataset.source}",
                "relation": "owns",
            }
        )
    today = dt.date.today()
    for agreement in list_agreements(session):
        providers = [p for p in agreement.parties if p.role == "provider"]
        receivers = [p for p in agreement.parties if p.role != "provider"]
        for provider in providers:
            for receiver in receivers:
                graph.links.append(
                    {
                        "source": f"org:{provider.organisation_id}",
                        "target": f"org:{receiver.organisation_id}",
                        "relation": "shares",
                        "agreement": agreement.reference,
                        "state": agreement_state(agreement, today),
                    }
                )
    return graph


def graph_json(session: Session) -> dict[str, Any]:
    graph = directory_graph(session)
    return {"nodes": graph.nodes, "links": graph.links}


def graph_graphml(session: Session) -> str:
    """GraphML text; every attribute a string key declared up front, as the format asks."""
    graph = directory_graph(session)
    ns = "http://graphml.graphdrawing.org/xmlns"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}graphml")
    node_keys = sorted({k for n in graph.nodes for k in n if k != "id"})
    edge_keys = sorted({k for e in graph.links for k in e if k not in ("source", "target")})
    for scope, keys in (("node", node_keys), ("edge", edge_keys)):
        for key in keys:
            ET.SubElement(
                root,
                f"{{{ns}}}key",
                {"id": f"{scope}_{key}", "for": scope, "attr.name": key, "attr.type": "string"},
            )
    body = ET.SubElement(root, f"{{{ns}}}graph", {"id": "directory", "edgedefault": "directed"})
    for node in graph.nodes:
        element = ET.SubElement(body, f"{{{ns}}}node", {"id": node["id"]})
        for key in node_keys:
            if key in node:
                ET.SubElement(element, f"{{{ns}}}data", {"key": f"node_{key}"}).text = node[key]
    for number, link in enumerate(graph.links):
        element = ET.SubElement(
            body,
            f"{{{ns}}}edge",
            {"id": f"e{number}", "source": link["source"], "target": link["target"]},
        )
        for key in edge_keys:
            if key in link:
                ET.SubElement(element, f"{{{ns}}}data", {"key": f"edge_{key}"}).text = link[key]
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
