"""DCAT (JSON-LD) description of the directory's data sets, for data catalogues.

Only metadata leaves: names, owners, coverage, the model fields filled. The catalogue is
a W3C DCAT v3 `dcat:Catalog`; each data set is identified by `BASE/datasets/SOURCE`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sectorlink.registry.directory import list_datasets

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def dcat_catalog(
    session: Session, *, base_uri: str = "urn:sectorlink:", title: str = "sectorlink data sets"
) -> dict[str, Any]:
    base = base_uri if base_uri.endswith((":", "/")) else base_uri + "/"
    datasets = []
    for d in list_datasets(session):
        entry: dict[str, Any] = {
            "@id": f"{base}datasets/{d.source}",
            "@type": "dcat:Dataset",
            "dct:identifier": d.source,
            "dct:title": d.title,
            "dct:description": d.description,
            "dct:publisher": {
                "@id": f"{base}organisations/{d.owner_id}",
                "@type": "foaf:Organization",
                "foaf:name": d.owner.name,
            },
            "dcat:theme": d.sector,
            "dct:accessRights": d.privacy_tier,
            "dcat:keyword": [f"{f.table_name}.{f.field_name}" for f in d.fields],
        }
        if d.update_frequency:
            entry["dct:accrualPeriodicity"] = d.update_frequency
        if d.coverage:
            entry["dct:spatial"] = d.coverage
        if d.standard:
            entry["dct:conformsTo"] = {"@type": "dct:Standard", "dct:title": d.standard}
        datasets.append(entry)
    return {
        "@context": CONTEXT,
        "@id": f"{base}catalog",
        "@type": "dcat:Catalog",
        "dct:title": title,
        "dcat:dataset": datasets,
    }
