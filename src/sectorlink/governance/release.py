"""Releasing an aggregate output: access check, disclosure gate and audit in one call."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sectorlink.governance.access import authorise
from sectorlink.governance.audit import append_audit_entry
from sectorlink.governance.disclosure import (
    DisclosureProfile,
    DisclosureRefused,
    ProtectedTable,
    apply_disclosure_control,
    get_profile,
)
from sectorlink.registry.db import Registry


def release_aggregate(
    registry: Registry,
    table: Any,
    *,
    organisation: str,
    purpose: str,
    datasets: Sequence[str],
    profile: str | DisclosureProfile = "suppress-1-7-round-5",
    name: str = "table",
    actor: str | None = None,
    contributions: Mapping[tuple[Hashable, Hashable], Sequence[float]] | None = None,
) -> ProtectedTable:
    """Check access (action "publish"), protect `table`, and audit what left the hub.

    Raises `AccessDenied` when no agreement covers publishing from these data sets, and
    `DisclosureRefused` when nothing would survive the gate; both are audited.
    """
    rules = get_profile(profile)
    grant = authorise(
        registry,
        organisation=organisation,
        purpose=purpose,
        datasets=datasets,
        action="publish",
        actor=actor,
        detail={"output": name},
    )
    try:
        protected = apply_disclosure_control(table, rules, contributions=contributions, name=name)
    except DisclosureRefused as refusal:
        append_audit_entry(
            registry,
            actor=actor or grant.organisation,
            organisation=grant.organisation,
            action="publish",
            purpose=grant.purpose,
            datasets=grant.datasets,
            outcome="withheld",
            reason=str(refusal),
            detail={"output": name, "profile": rules.name, "grant": grant.audit_seq},
        )
        raise
    append_audit_entry(
        registry,
        actor=actor or grant.organisation,
        organisation=grant.organisation,
        action="publish",
        purpose=grant.purpose,
        datasets=grant.datasets,
        outcome="published",
        reason=protected.summary(),
        detail={
            "output": name,
            "profile": rules.name,
            "grant": grant.audit_seq,
            "suppressed": [[str(n.row), str(n.column), n.rule] for n in protected.log],
        },
    )
    return protected
