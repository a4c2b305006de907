"""Care-coordination agreements: a hospital's or ambulance service's attendances shared
with the homelessness providers, so that an alert may reach a provider at all.

The demo region's agreements share every data set with the hub only; an alert leaves the
hub for a provider, so `authorise` needs an agreement naming the provider as recipient of
the A&E and ambulance data sets for `care-coordination`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from sectorlink.insights.homelessness.status import (
    AE_EVENT_TYPES,
    AMBULANCE_EVENT_TYPES,
    PROVIDER_EVENT_TYPES,
)
from sectorlink.model.sql import literal_list as _in
from sectorlink.registry.agreements import create_agreement
from sectorlink.registry.db import Registry
from sectorlink.registry.lookup import dataset_by_source, organisation_by_name
from sectorlink.registry.models import Agreement, AgreementDataset
from sectorlink.registry.region import HUB_NAME, LEGAL_BASIS
from sectorlink.registry.vocab import name_key
from sectorlink.warehouse.store import connect

PURPOSE = "care-coordination"


@dataclass
class CareCoordinationAgreements:
    """What `register_care_coordination` found and added."""

    attendance_sources: list[str] = field(default_factory=list)
    provider_sources: list[str] = field(default_factory=list)
    agreements: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def alert_sources(warehouse: Path) -> tuple[list[str], list[str]]:
    """The data sets sending A&E attendances or ambulance call-outs, and those sending
    homelessness enrolments or contacts, as the warehouse holds them."""
    con = connect(warehouse, read_only=True)
    try:

        def sources(types: tuple[str, ...]) -> list[str]:
            rows = con.execute(
                f"SELECT DISTINCT source FROM event WHERE event_type IN {_in(types)} ORDER BY 1"
            ).fetchall()
            return [r[0] for r in rows]

        return sources(AE_EVENT_TYPES + AMBULANCE_EVENT_TYPES), sources(PROVIDER_EVENT_TYPES)
    finally:
        con.close()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", text.upper()).strip("-")[:40]


def register_care_coordination(
    registry: Registry,
    warehouse: Path,
    *,
    hub: str = HUB_NAME,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> CareCoordinationAgreements:
    """For a region: one agreement per (attendance data owner, homelessness provider),
    sharing the owner's A&E and ambulance data sets with the provider (recipient), the hub
    processing, for `care-coordination` only. Running it again adds nothing new.

    Example:
        >>> register_care_coordination(registry, Path("demo-output/warehouse.duckdb"))
    """
    attendance, providers = alert_sources(Path(warehouse))
    result = CareCoordinationAgreements(attendance_sources=attendance, provider_sources=providers)
    today = dt.date.today()
    start = valid_from or dt.date(today.year - 1, 1, 1)
    end = valid_to or dt.date(today.year + 4, 12, 31)
    with registry.session() as session:
        owners: dict[str, list[str]] = {}
        for source in attendance:
            owners.setdefault(dataset_by_source(session, source).owner.name, []).append(source)
        recipients = sorted({dataset_by_source(session, s).owner.name for s in providers})
        hub_name = organisation_by_name(session, hub).name
        for owner, sources in sorted(owners.items()):
            for recipient in recipients:
                reference = f"DSA-CC-{_slug(owner)}-{_slug(recipient)}"
                found = session.scalar(
                    select(Agreement).where(Agreement.reference_key == name_key(reference))
                )
                if found is None:
                    parties = {owner: "provider", recipient: "recipient", hub_name: "processor"}
                    create_agreement(
                        session,
                        reference=reference,
                        title=f"{owner} alerts {recipient} when a client attends",
                        parties=parties,
                        datasets=sources,
                        purposes=[PURPOSE],
                        valid_from=start,
                        valid_to=end,
                        legal_basis=LEGAL_BASIS,
                        notes="Care-coordination alerts: the provider's own client id, the "
                        "hospital, the arrival time and the attendance category only.",
                    )
                    result.created.append(reference)
                else:
                    linked = {link.dataset.source for link in found.dataset_links}
                    for source in sources:
                        if source not in linked:
                            found.dataset_links.append(
                                AgreementDataset(dataset=dataset_by_source(session, source))
                            )
                    session.flush()
                result.agreements.append(reference)
    return result
