"""Registering a (synthetic or real) region from its manifest of partner extracts.

A region folder holds `manifest.json`:

    {"region": "Northgate", "geography": "Northgate city region",
     "extracts": [{"source": "ae_northgate", "partner": "Northgate Hospital NHS Trust",
                   "sector": "health care", "spec": "specs/ae.yaml",
                   "file": "extracts/ae.csv", "description": "..."}, ...]}

Paths are relative to the manifest's folder; an extract may add `"identifiers": "encoded"`
when its identifiers arrive PPRL-encoded. `register_region` records each partner, each
data set (with the model fields its spec maps), the hub, one collaborative project and,
per partner, an agreement sharing its data sets with the hub for linkage and analysis.
Running it again changes nothing that is already there.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sectorlink.registry.agreements import create_agreement
from sectorlink.registry.db import Registry
from sectorlink.registry.directory import (
    create_dataset,
    create_organisation,
    create_project,
    set_dataset_fields,
)
from sectorlink.registry.errors import InvalidInput
from sectorlink.registry.models import (
    Agreement,
    AgreementDataset,
    Dataset,
    Organisation,
    Project,
    ProjectDataset,
    ProjectOrganisation,
)
from sectorlink.registry.vocab import name_key
from sectorlink.sources import MappingSpec, SourceError, load_spec

HUB_NAME = "Regional Analytics Hub"
HUB_PURPOSES = ("linkage", "analysis", "direct-care", "safeguarding", "care-coordination")
LEGAL_BASIS = "UK GDPR Article 6(1)(e) public task; Article 9(2)(h) health and social care"


@dataclass
class RegionRegistration:
    """What `register_region` found and what it added (names, in manifest order)."""

    hub: str
    project: str
    organisations: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    agreements: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def spec_fields(spec: MappingSpec) -> list[tuple[str, str]]:
    """The (table, field) pairs of the common model that a mapping spec fills."""
    return spec.model_fields()


def _standard(pairs: list[tuple[str, str]]) -> str:
    from sectorlink.model import get_table

    standards = sorted({s for t, _ in pairs if (s := get_table(t).standard)})
    return "; ".join(standards)


def _privacy_tier(pairs: list[tuple[str, str]]) -> str:
    from sectorlink.model import get_table

    identifying = any(get_table(t).field(f).identifier for t, f in pairs)
    return "identifiable" if identifying else "pseudonymised"


def _read_manifest(manifest_path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"no region manifest at {manifest_path}") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{manifest_path} is not valid JSON: {error}") from None
    extracts = manifest.get("extracts") if isinstance(manifest, dict) else None
    if not isinstance(extracts, list) or not extracts:
        raise InvalidInput(f'{manifest_path} lists no extracts (expected "extracts": [...])')
    for number, extract in enumerate(extracts, start=1):
        missing = [k for k in ("source", "partner", "sector", "spec") if not extract.get(k)]
        if missing:
            raise InvalidInput(f"{manifest_path}: extract {number} has no {', '.join(missing)}")
    return dict(manifest)


def _by_source(
    folder: Path, extracts: list[dict[str, Any]]
) -> dict[str, list[tuple[dict[str, Any], MappingSpec]]]:
    """Each source's extracts with their validated specs, in manifest order."""
    grouped: dict[str, list[tuple[dict[str, Any], MappingSpec]]] = {}
    for extract in extracts:
        try:
            spec = load_spec(folder / extract["spec"])
        except SourceError as error:
            raise InvalidInput(f"cannot read the spec of {extract['source']!r}: {error}") from None
        grouped.setdefault(str(extract["source"]), []).append((extract, spec))
    return grouped


def _organisation(
    session: Session, name: str, sector: str, geography: str, out: RegionRegistration
) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.name_key == name_key(name)))
    if found is None:
        found = create_organisation(session, name=name, sector=sector, geography=geography)
        out.created.append(f"organisation {found.name}")
    if found.name not in out.organisations:
        out.organisations.append(found.name)
    return found


def _slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", text.upper()).strip("-")[:60]


def register_region(
    registry: Registry,
    manifest_path: Path,
    *,
    hub: str = HUB_NAME,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> RegionRegistration:
    """Register a region's partners, data sets, hub, project and agreements.

    Args:
        manifest_path: the region's `manifest.json`.
        hub: the analytics hub's name; it receives every data set.
        valid_from, valid_to: the agreements' period (default: from 1 January last year
            to 31 December four years on), used only when an agreement is created.

    Returns:
        What is registered for the region, and what this call added (`created`).

    Example:
        >>> result = register_region(open_registry(), Path("demo-output/region/manifest.json"))
        >>> result.agreements
        ['DSA-NORTHGATE-HOSPITAL-NHS-TRUST', ...]
    """
    manifest_path = Path(manifest_path)
    manifest = _read_manifest(manifest_path)
    folder = manifest_path.parent
    region = str(manifest.get("region") or folder.name.replace("-", " ").replace("_", " ").title())
    # The synthetic generator's "geography" is a section of map files, not a place name.
    place = manifest.get("geography")
    geography = place if isinstance(place, str) and place.strip() else region
    today = dt.date.today()
    start = valid_from or dt.date(today.year - 1, 1, 1)
    end = valid_to or dt.date(today.year + 4, 12, 31)
    project_name = str(manifest.get("project") or f"{region} community health data collaborative")
    result = RegionRegistration(hub=hub, project=project_name)

    with registry.session() as session:
        hub_org = _organisation(session, hub, "research and analytics", geography, result)
        by_partner: dict[str, list[Dataset]] = {}
        encoded: set[str] = set()
        for source, extracts in _by_source(folder, manifest["extracts"]).items():
            first, spec = extracts[0]
            # A source may arrive as several files (patients.csv and conditions.csv), each
            # with its own spec: the data set fills the union of their fields.
            pairs = list(dict.fromkeys(p for _, sp in extracts for p in spec_fields(sp)))
            owner = _organisation(session, first["partner"], first["sector"], geography, result)
            dataset = session.scalar(select(Dataset).where(Dataset.source == source))
            if dataset is None:
                description = str(first.get("description") or spec.description or "")
                dataset = create_dataset(
                    session,
                    source=source,
                    owner=owner.name,
                    title=str(first.get("title") or description or source)[:300],
                    sector=first["sector"],
                    description=description,
                    update_frequency=str(first.get("update_frequency") or "monthly"),
                    coverage=str(first.get("coverage") or geography),
                    privacy_tier=_privacy_tier(pairs),
                    standard=str(first.get("standard") or _standard(pairs)),
                    fields=pairs,
                )
                result.created.append(f"data set {dataset.source}")
            else:
                set_dataset_fields(dataset, pairs)  # the specs may have grown; keep in step
            result.datasets.append(dataset.source)
            by_partner.setdefault(owner.name, []).append(dataset)
            if any(str(e.get("identifiers", "")).lower() == "encoded" for e, _ in extracts):
                encoded.add(owner.name)

        _project(session, result, hub_org, manifest, geography, by_partner)
        for partner, datasets in by_partner.items():
            _agreement(session, result, partner, hub_org, datasets, start, end, partner in encoded)
    return result


def _project(
    session: Session,
    result: RegionRegistration,
    hub_org: Organisation,
    manifest: Mapping[str, Any],
    geography: str,
    by_partner: Mapping[str, list[Dataset]],
) -> None:
    project = session.scalar(select(Project).where(Project.name_key == name_key(result.project)))
    if project is None:
        sectors = sorted({d.sector for ds in by_partner.values() for d in ds})
        create_project(
            session,
            name=result.project,
            aims=str(
                manifest.get("aims")
                or "Link partners' records across sectors to find residents whose needs span "
                "services, map violence hotspots, coordinate care for people experiencing "
                "homelessness and show the value of the collaboration."
            ),
            population=str(
                manifest.get("population") or "residents in contact with partner services"
            ),
            geography=geography,
            sectors=sectors,
            leads=[hub_org.name],
            partners=list(by_partner),
            datasets=[d.source for ds in by_partner.values() for d in ds],
        )
        result.created.append(f"project {result.project}")
        return
    members = {(m.organisation_id, m.role) for m in project.members}
    for partner in by_partner:
        organisation = session.scalar(
            select(Organisation).where(Organisation.name_key == name_key(partner))
        )
        if organisation is not None and (organisation.id, "partner") not in members:
            project.members.append(ProjectOrganisation(organisation=organisation, role="partner"))
    linked = {link.dataset_id for link in project.dataset_links}
    for datasets in by_partner.values():
        for dataset in datasets:
            if dataset.id not in linked:
                project.dataset_links.append(ProjectDataset(dataset=dataset))
    session.flush()


def _agreement(
    session: Session,
    result: RegionRegistration,
    partner: str,
    hub_org: Organisation,
    datasets: list[Dataset],
    start: dt.date,
    end: dt.date,
    encoded: bool,
) -> None:
    # Person-level data never leaves the hub under these agreements; a partner whose
    # identifiers arrive encoded (PPRL) also forbids reading identifiers in the clear.
    conditions = ["aggregate_outputs_only"] + (["encoded_identifiers_only"] if encoded else [])
    reference = f"DSA-{_slug(partner)}"
    agreement = session.scalar(
        select(Agreement).where(Agreement.reference_key == name_key(reference))
    )
    if agreement is None:
        create_agreement(
            session,
            reference=reference,
            title=f"{partner} shares extracts with the {hub_org.name}",
            parties={partner: "provider", hub_org.name: "recipient"},
            datasets=[d.source for d in datasets],
            purposes=list(HUB_PURPOSES),
            valid_from=start,
            valid_to=end,
            legal_basis=LEGAL_BASIS,
            conditions=conditions,
        )
        result.created.append(f"agreement {reference}")
    else:
        linked = {link.dataset_id for link in agreement.dataset_links}
        for dataset in datasets:
            if dataset.id not in linked:
                agreement.dataset_links.append(AgreementDataset(dataset=dataset))
        session.flush()
    result.agreements.append(reference)
