"""Raising care-coordination alerts: a client of a homelessness provider attended A&E or
was conveyed by ambulance, so the provider hears of it, and only that provider.

`raise_alerts` is idempotent. An alert is keyed by the provider, the attendance's data set
and its event id (the hospital's own attendance number), so rerunning the job, reloading
an extract or re-running the linkage finds the alerts already raised. A run compares what
it finds with what is stored: a new attendance by a client alerts (after `authorise` lets
it out to that provider: `care-coordination`, action `export`, one audited call per
provider and data set per run naming every alert it covers); a stored alert
whose link no longer holds (a linkage split took the attendance away from the client) is
withdrawn, with the reason, and the run says so; one that holds again is reinstated.

What an alert says: the provider's own client id, the hospital, the arrival time and the
attendance category; nothing else of the health record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from sectorlink.governance import AccessDenied, authorise, get_profile
from sectorlink.governance.doors import acting_user
from sectorlink.insights.context import InsightError, build_context, sources_read
from sectorlink.insights.homelessness import store
from sectorlink.insights.homelessness.agreements import PURPOSE
from sectorlink.insights.homelessness.spells import SpellEstimate
from sectorlink.insights.homelessness.status import (
    AE_EVENT_TYPES,
    AMBULANCE_EVENT_TYPES,
    PROVIDER_EVENT_TYPES,
    StatusRules,
    applied_horizon,
    attendance_status,
)
from sectorlink.insights.registry import Analysis
from sectorlink.registry.db import Registry
from sectorlink.registry.lookup import dataset_by_source
from sectorlink.registry.region import HUB_NAME


def _not_an_analysis(_: Any) -> Any:
    raise InsightError("the alert job is not run as an analysis")


# The alert job reads through the insights context (Grant-bound, no identifiers), like an
# analysis, but is not one: it is not registered and publishes nothing.
ALERT_JOB = Analysis(
    name="care-coordination-alerts",
    title="Care-coordination alerts",
    question="Which clients of homelessness providers attended A&E or were conveyed by ambulance?",
    purpose=PURPOSE,
    tables=("event", "housing_episode", "person_index", "record_flag"),
    event_types=AE_EVENT_TYPES + AMBULANCE_EVENT_TYPES + PROVIDER_EVENT_TYPES,
    run=_not_an_analysis,
)


@dataclass
class AlertRun:
    """What one `raise_alerts` call did."""

    linkage_run: str
    candidates: int = 0
    raised: int = 0
    already_raised: int = 0
    withdrawn: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    """'Provider (data set)' -> why those alerts were not let out (audited)."""
    bad_enrolments: int = 0
    hub_audit_seq: int = 0
    horizon: str = ""
    """How long an exit to a homeless situation kept a client known, and why."""
    horizon_days: int = 0
    horizon_source: str = ""
    """`estimated` from the HMIS, the `default`, or `given` (`spells.SpellEstimate`)."""

    def lines(self) -> list[str]:
        """What the run did, in words (the CLI prints these)."""
        out = [
            f"linkage run {self.linkage_run}: {self.candidates} attendance(s) by clients "
            f"known to homeless services",
            f"{self.raised} new alert(s); {self.already_raised} already raised (not again)",
        ]
        if self.withdrawn:
            out.append(
                f"{len(self.withdrawn)} alert(s) withdrawn: the attendance no longer links to "
                f"a client of the provider ({', '.join(self.withdrawn[:5])}"
                f"{', ...' if len(self.withdrawn) > 5 else ''})"
            )
        if self.reinstated:
            out.append(f"{len(self.reinstated)} withdrawn alert(s) hold again: reinstated")
        for organisation, reason in sorted(self.refused.items()):
            out.append(f"no alert for {organisation}: {reason}")
        if self.bad_enrolments:
            out.append(f"{self.bad_enrolments} HMIS enrolment(s) exit before they start: left out")
        if self.horizon:
            out.append(self.horizon)
        return out


def _actor(actor: str | None) -> str:
    return actor or acting_user()


def find_candidates(
    warehouse: Path,
    registry: Registry,
    *,
    rules: StatusRules,
    organisation: str = HUB_NAME,
    actor: str,
) -> tuple[pd.DataFrame, str, int, int, SpellEstimate]:
    """Attendances (A&E, and ambulance call-outs that conveyed the patient) by people
    known to a homelessness provider on the day: one row per attendance and provider,
    with the provider's own record id. Reads under one `authorise` for the hub.

    Returns the candidates, the linkage run, the hub's audit entry, the number of
    enrolments left out (exit before entry) and the exit horizon used."""
    probe = duckdb.connect(":memory:")
    try:
        probe.execute(f"ATTACH '{warehouse!s}' AS wh (READ_ONLY)")
        sources = sources_read(probe, ALERT_JOB)
    finally:
        probe.close()
    if not sources:
        raise InsightError("the warehouse holds no A&E, ambulance or homelessness events")
    grant = authorise(
        registry,
        organisation=organisation,
        purpose=PURPOSE,
        datasets=sources,
        action="read",
        actor=actor,
        detail={"job": ALERT_JOB.name},
    )
    ctx = build_context(
        Path(warehouse), ALERT_JOB, grant, profile=get_profile("suppress-1-7-round-5")
    )
    try:
        _, bad = attendance_status(ctx.con, rules)
        horizon, _ = applied_horizon(ctx.con)
        frame = ctx.sql(
            """SELECT k.provider_source, k.provider_record_id, s.source, s.event_id, s.kind,
                      s.arrival AS arrival_time, s.category, s.site
            FROM hc_known k JOIN hc_status s USING (source, event_id)
            WHERE s.kind = 'ae' OR s.conveyed
            ORDER BY s.arrival, s.source, s.event_id, k.provider_source"""
        )
        return frame, ctx.linkage_run, grant.audit_seq, len(bad), horizon
    finally:
        ctx.con.close()


def _names(registry: Registry, sources: list[str]) -> dict[str, str]:
    """Each data set's owner organisation, by source."""
    with registry.session() as session:
        return {s: dataset_by_source(session, s).owner.name for s in sources}


def raise_alerts(
    warehouse: Path,
    registry: Registry,
    *,
    since: dt.date | None = None,
    rules: StatusRules | None = None,
    organisation: str = HUB_NAME,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> AlertRun:
    """Raise the alerts for attendances on or after `since` (default: all), withdraw
    those whose link no longer holds, and say what was done.

    Args:
        warehouse: the linked warehouse; the `alert` table is made there when missing.
        registry: agreements and the audit log; the hub reads under `care-coordination`,
            each alert leaves for its provider under `care-coordination`, action export.
        since: only attendances from this day on are raised or withdrawn.
        rules: who counts as known to homeless services (`StatusRules`).
        organisation: the hub running the job.

    Raises:
        AccessDenied: the hub may not read the data sets (audited).
        InsightError: nothing linked, or no A&E/ambulance/homelessness data.
    """
    actor = _actor(actor)
    moment = now or store.utc_now()
    found, linkage_run, hub_seq, bad, horizon = find_candidates(
        Path(warehouse),
        registry,
        rules=rules or StatusRules(),
        organisation=organisation,
        actor=actor,
    )
    if since is not None:
        found = found[found["arrival_time"] >= pd.Timestamp(since)]
    run = AlertRun(
        linkage_run=linkage_run,
        hub_audit_seq=hub_seq,
        bad_enrolments=bad,
        horizon=horizon.describe(),
        horizon_days=horizon.days,
        horizon_source=horizon.source,
    )
    owners = _names(registry, sorted(set(found["provider_source"]) | set(found["source"])))
    found = found.assign(
        organisation=found["provider_source"].map(owners),
        hospital=[
            site if kind == "ambulance" and site else owners.get(source, source)
            for kind, site, source in zip(
                found["kind"], found["site"], found["source"], strict=True
            )
        ],
    )
    found["alert_id"] = [
        store.alert_id(o, s, e)
        for o, s, e in zip(found["organisation"], found["source"], found["event_id"], strict=True)
    ]
    # A client registered twice is one client: one alert per provider and attendance.
    found = found.drop_duplicates("alert_id")
    run.candidates = len(found)
    with store.open_store(warehouse) as con:
        stored = store.existing(con)
        known_ids = set(stored["alert_id"])
        new = found[~found["alert_id"].isin(known_ids)]
        run.already_raised = len(found) - len(new)
        let_out = _authorise_each(registry, new, actor=actor, run=run)
        let_out = let_out.assign(created_at=moment, linkage_run=linkage_run, webhook_attempts=0)
        con.execute("BEGIN TRANSACTION").fetchall()
        try:
            run.raised = store.insert(con, let_out)
            in_scope = stored
            if since is not None:
                in_scope = stored[stored["arrival_time"] >= pd.Timestamp(since)]
            current = set(found["alert_id"])
            gone = in_scope[in_scope["withdrawn_at"].isna() & ~in_scope["alert_id"].isin(current)]
            back = in_scope[in_scope["withdrawn_at"].notna() & in_scope["alert_id"].isin(current)]
            run.withdrawn = sorted(gone["alert_id"])
            run.reinstated = sorted(back["alert_id"])
            store.set_withdrawn(
                con,
                run.withdrawn,
                reason=f"the attendance no longer links to a client of the provider "
                f"(linkage run {linkage_run})",
                at=moment,
            )
            store.reinstate(con, run.reinstated)
            con.execute("COMMIT").fetchall()
        except BaseException:
            con.execute("ROLLBACK").fetchall()
            raise
    return run


def _authorise_each(
    registry: Registry, new: pd.DataFrame, *, actor: str, run: AlertRun
) -> pd.DataFrame:
    """The new alerts `authorise` lets out to their providers: one call per provider and
    data set per run, its audit entry naming every alert it covers (each alert keeps that
    entry's number); a refusal holds back all of them, audited with their number."""
    if new.empty:
        return new.assign(audit_seq=pd.Series(dtype="int64"))
    allowed = []
    for (organisation, source), group in new.groupby(["organisation", "source"], sort=True):
        try:
            grant = authorise(
                registry,
                organisation=str(organisation),
                purpose=PURPOSE,
                datasets=[str(source)],
                action="export",
                actor=actor,
                detail={"alerts": sorted(group["alert_id"]), "count": len(group)},
            )
        except AccessDenied as denied:
            run.refused[f"{organisation} ({source})"] = (
                f"{denied.reason}; {len(group)} alert(s) held back (audit entry {denied.audit_seq})"
            )
            continue
        allowed.append(group.assign(audit_seq=grant.audit_seq))
    if not allowed:
        return new.iloc[0:0].assign(audit_seq=pd.Series(dtype="int64"))
    return pd.concat(allowed, ignore_index=True)
