"""The directory and governance section: who shares what with whom, and the audit chain."""

from __future__ import annotations

import datetime as dt

from sectorlink.governance import read_audit_log, verify_audit_log
from sectorlink.registry import Registry, list_agreements, list_datasets, list_organisations
from sectorlink.registry.agreements import agreement_party_names, agreement_sources, agreement_state
from sectorlink.reports.render import ReportSection, render_section


def governance_section(registry: Registry, *, recent: int = 15) -> ReportSection:
    """Organisations, data sets and agreements from the registry; the audit log's state."""
    today = dt.date.today()
    with registry.session() as session:
        organisations = [(o.name, o.sector) for o in list_organisations(session)]
        datasets = [
            (d.source, d.owner.name, d.privacy_tier, d.standard or "")
            for d in list_datasets(session)
        ]
        agreements = [
            {
                "reference": a.reference,
                "parties": ", ".join(f"{n} ({r})" for n, r in agreement_party_names(a).items()),
                "datasets": ", ".join(agreement_sources(a)),
                "purposes": ", ".join(a.purposes),
                "conditions": ", ".join(a.conditions) or "none",
                "valid": f"{a.valid_from} to {a.valid_to}",
                "state": agreement_state(a, today),
            }
            for a in list_agreements(session)
        ]
    verification = verify_audit_log(registry)
    entries = read_audit_log(registry, limit=100_000)
    body = render_section(
        "governance.html.j2",
        organisations=organisations,
        datasets=datasets,
        agreements=agreements,
        verification=verification,
        entries=entries[-recent:],
        refused=sum(1 for e in entries if e.outcome == "refused"),
    )
    headline = {
        "data-sharing agreements": f"{len(agreements):,}",
        "audit entries (chain intact)"
        if verification.ok
        else "audit entries (CHAIN BROKEN)": f"{verification.entries:,}",
    }
    return ReportSection("Directory and governance", body, anchor="governance", headline=headline)
