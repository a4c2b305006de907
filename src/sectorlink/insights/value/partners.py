"""The per-partner benefit report: what each partner gave the hub (extracts, records,
events in the period) and got back (its records matched to other sectors' records, the
insights run on its data), and every use of its data in the audit log.

Read from the context's `load`, `person_index` and `event` tables and the registry's audit
log (`sectorlink.governance.read_audit_log`)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from sectorlink.governance import AuditRecord, read_audit_log
from sectorlink.insights.context import InsightContext
from sectorlink.registry.db import Registry

_PAGE = 500


def audit_uses(
    registry: Registry,
    datasets: tuple[str, ...],
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[AuditRecord]:
    """Every audit entry naming one of `datasets`, dated from `since` to `until`
    (inclusive; None: no bound), in chain order."""
    wanted, after = set(datasets), 0
    found: list[AuditRecord] = []
    while True:
        page = read_audit_log(registry, limit=_PAGE, after_seq=after)
        if not page:
            return found
        for record in page:
            day = dt.date.fromisoformat(record.at[:10])
            if (since and day < since) or (until and day > until):
                continue
            if wanted & set(record.datasets):
                found.append(record)
        after = page[-1].seq


def partner_audit(
    registry: Registry,
    source: str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> pd.DataFrame:
    """One partner's own view of every use of its data: `seq, at, organisation, actor,
    action, purpose, outcome, reason, analysis` (for the partner, not for publication)."""
    records = audit_uses(registry, (source,), since=since, until=until)
    return pd.DataFrame(
        [
            {
                "seq": r.seq,
                "at": r.at,
                "organisation": r.organisation,
                "actor": r.actor,
                "action": r.action,
                "purpose": r.purpose,
                "outcome": r.outcome,
                "reason": r.reason,
                "analysis": r.detail.get("analysis"),
            }
            for r in records
        ],
        columns=[
            "seq",
            "at",
            "organisation",
            "actor",
            "action",
            "purpose",
            "outcome",
            "reason",
            "analysis",
        ],
    )


def uses_frame(records: list[AuditRecord], sources: tuple[str, ...]) -> pd.DataFrame:
    """The audit entries as one row per (partner, entry): `partner, seq, at,
    organisation, action, purpose, outcome, analysis`."""
    rows = [
        {
            "partner": source,
            "seq": r.seq,
            "at": r.at,
            "organisation": r.organisation,
            "action": r.action,
            "purpose": r.purpose,
            "outcome": r.outcome,
            "analysis": r.detail.get("analysis") or "",
        }
        for r in records
        for source in r.datasets
        if source in sources
    ]
    columns = ["partner", "seq", "at", "organisation", "action", "purpose", "outcome", "analysis"]
    return pd.DataFrame(rows, columns=columns)


def partner_records(ctx: InsightContext) -> pd.DataFrame:
    """Per partner (every granted source, whether or not it sent anything in the
    period): `partner, records, matched_records` (its records whose person is also in
    another partner's records), `people, people_matched, events_in_period`."""
    ctx.con.register("_partners", pd.DataFrame({"partner": list(ctx.sources)}))
    try:
        return ctx.sql(
            f"""WITH per_person AS (
                SELECT person_key, count(DISTINCT source) AS sources FROM person_index
                GROUP BY person_key
            ), recs AS (
                SELECT p.source AS partner, count(*) AS records,
                       count(*) FILTER (WHERE pp.sources > 1) AS matched_records,
                       count(DISTINCT p.person_key) AS people,
                       count(DISTINCT p.person_key) FILTER (WHERE pp.sources > 1)
                           AS people_matched
                FROM person_index p JOIN per_person pp USING (person_key) GROUP BY ALL
            ), evs AS (
                SELECT source AS partner, count(*) AS events_in_period FROM event
                WHERE {ctx.period_sql("start_time")} GROUP BY ALL
            )
            SELECT x.partner, coalesce(r.records, 0) AS records,
                   coalesce(r.matched_records, 0) AS matched_records,
                   coalesce(r.people, 0) AS people,
                   coalesce(r.people_matched, 0) AS people_matched,
                   coalesce(e.events_in_period, 0) AS events_in_period
            FROM _partners x LEFT JOIN recs r USING (partner) LEFT JOIN evs e USING (partner)
            ORDER BY x.partner"""
        )
    finally:
        ctx.con.unregister("_partners")


def partner_activity(ctx: InsightContext, uses: pd.DataFrame) -> pd.DataFrame:
    """Per partner: `partner, records` (the support), `extracts` (loads in force),
    `rows_sent`, `insight_runs` (analyses allowed to read its data), `uses` (every audit
    entry naming it), `purposes` (distinct purposes its data were used for)."""
    loads = ctx.sql(
        """SELECT source AS partner, count(*) AS extracts, sum(rows_read) AS rows_sent
        FROM load WHERE superseded_by IS NULL GROUP BY ALL"""
    )
    records = partner_records(ctx)[["partner", "records"]]
    frame = records.merge(loads, on="partner", how="left")
    if uses.empty:
        runs = pd.DataFrame(columns=["partner", "insight_runs", "uses", "purposes"])
    else:
        reads = uses[
            (uses["action"] == "read")
            & (uses["outcome"] == "allowed")
            & uses["purpose"].str.startswith("analysis")
        ]
        runs = (
            uses.groupby("partner")
            .agg(uses=("seq", "size"), purposes=("purpose", "nunique"))
            .join(reads.groupby("partner").agg(insight_runs=("seq", "size")))
            .reset_index()
        )
    frame = frame.merge(runs, on="partner", how="left")
    for column in ("extracts", "rows_sent", "insight_runs", "uses", "purposes"):
        frame[column] = frame[column].fillna(0).astype("int64")
    return frame[
        ["partner", "records", "extracts", "rows_sent", "insight_runs", "uses", "purposes"]
    ]


def uses_summary(uses: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Audit entries per partner, organisation, action, purpose and outcome: `uses, first_seq,
    last_seq, first_at, last_at`, with the partner's `records` as the support."""
    if uses.empty:
        return pd.DataFrame(
            columns=[
                "partner",
                "organisation",
                "action",
                "purpose",
                "outcome",
                "uses",
                "first_seq",
                "last_seq",
                "first_at",
                "last_at",
                "records",
            ]
        )
    summary = (
        uses.groupby(["partner", "organisation", "action", "purpose", "outcome"])
        .agg(
            uses=("seq", "size"),
            first_seq=("seq", "min"),
            last_seq=("seq", "max"),
            first_at=("at", "min"),
            last_at=("at", "max"),
        )
        .reset_index()
    )
    return summary.merge(records[["partner", "records"]], on="partner", how="left")
