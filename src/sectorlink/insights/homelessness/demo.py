"""The demo's care-coordination step: agreements, alerts and today's digests."""

from __future__ import annotations

from pathlib import Path

from sectorlink.insights.context import InsightError
from sectorlink.insights.homelessness.agreements import register_care_coordination
from sectorlink.insights.homelessness.alerts import AlertRun, raise_alerts
from sectorlink.insights.homelessness.delivery import write_digest
from sectorlink.insights.homelessness.store import utc_now
from sectorlink.registry.db import Registry
from sectorlink.registry.lookup import dataset_by_source


def raise_region_alerts(warehouse: Path, registry: Registry, out_dir: Path) -> AlertRun | None:
    """Register the region's care-coordination agreements, raise the alerts and write
    each provider's digest for today into `out_dir`. None when the warehouse holds no
    A&E, ambulance or homelessness events (nothing to alert on)."""
    agreements = register_care_coordination(registry, warehouse)
    if not agreements.attendance_sources or not agreements.provider_sources:
        return None
    try:
        run = raise_alerts(warehouse, registry, actor="sectorlink demo")
    except InsightError:
        return None
    with registry.session() as session:
        providers = sorted(
            {dataset_by_source(session, s).owner.name for s in agreements.provider_sources}
        )
    for provider in providers:
        write_digest(warehouse, registry, provider, utc_now().date(), out_dir)
    return run
