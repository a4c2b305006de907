"""Releasing an aggregate output: access check, disclosure gate and audit in one call."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sectorlink.governance.access import authorise
from sectorlink.governance.audit import append_audit_entry
from sectorlink.governance.disclosure import (
    DisclosureProfile,
    DisclosureRefused,
    ProfileBelowMinimum,
    ProtectedTable,
    apply_disclosure_control,
    get_profile,
)
from sectorlink.registry.db import Registry
from sectorlink.registry.settings import disclosure_minimum


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
    labels: Sequence[Hashable] | None = None,
    counts: Sequence[Hashable] | None = None,
) -> ProtectedTable:
    """Check access (action "publish"), protect `table`, and audit what left the hub.

    Raises `AccessDenied` when no agreement covers publishing from these data sets,
    `ProfileBelowMinimum` when the profile hides less than the region's minimum (set by an
    admin, `sectorlink.registry.settings`), and `DisclosureRefused` when nothing would
    survive the gate; all are audited. The returned table's `audit_head` is the `SEQ:HASH`
    of the entry recording the release: print it with the output, so any partner can
    check the log still holds it (`sectorlink audit verify --expect-head`).
    """
    rules = get_profile(profile)
    with registry.session() as session:
        minimum = disclosure_minimum(session)
    if rules.min_count < minimum:
        reason = (
            f"profile {rules.name} hides only counts 1-{rules.min_count - 1}, below the "
            f"region's minimum (counts 1-{minimum - 1}); only an admin can lower it"
        )
        append_audit_entry(
            registry, actor=actor or organisation, organisation=organisation, action="publish",
            purpose=purpose, datasets=datasets, outcome="withheld", reason=reason,
            detail={"output": name, "profile": rules.name, "minimum": minimum},
        )  # fmt: skip
        raise ProfileBelowMinimum(reason)
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
        protected = apply_disclosure_control(
            table, rules, contributions=contributions, name=name, labels=labels, counts=counts
        )
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
    record = append_audit_entry(
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
        organisation_id=grant.organisation_id,
    )
    protected.audit_head = f"{record.seq}:{record.entry_hash}"
    return protected
