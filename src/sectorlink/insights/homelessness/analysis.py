"""The `homeless-care` analysis: housing status at A&E, what the hospital did not know,
frequent attenders, monthly trends and how the alerts were answered.

Person-level results stay in the hub (`housing_status`, `homeless_provider_client`);
everything published is a count through the disclosure gate or a share hidden where its
support is small.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from sectorlink.governance import ProtectedTable
from sectorlink.insights.context import AnalysisOutput, InsightContext, NothingToPublish
from sectorlink.insights.homelessness.frequent import frequent_attenders
from sectorlink.insights.homelessness.status import (
    HOMELESS_STATUSES,
    STATUSES,
    StatusRules,
    applied_horizon,
    attendance_status,
)
from sectorlink.insights.writers import table_html
from sectorlink.model.sql import table_exists
from sectorlink.reports.charts import bar_chart_svg

STATUS_TABLE = "housing_status"
PROVIDER_TABLE = "homeless_provider_client"


def _days(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    return None if value is None else int(value)


def rules_from(params: dict[str, Any]) -> StatusRules:
    """The status rules from the analysis parameters; an exit horizon not given is
    estimated from the HMIS (`StatusRules`)."""
    return StatusRules(
        contact_days=int(params.get("contact_days", 90)),
        exit_homeless_days=_days(params, "exit_homeless_days"),
        nfa_days=_days(params, "nfa_days"),
    )


def _homeless_sql() -> str:
    return "(" + ", ".join(f"'{s}'" for s in HOMELESS_STATUSES) + ")"


def _value(table: ProtectedTable | None, row: str, column: str) -> Any:
    if table is None or row not in table.table.index or bool(table.suppressed.at[row, column]):
        return None
    value = table.table.at[row, column]
    return None if value is None or pd.isna(value) else value


def _by_status(frame: pd.DataFrame) -> pd.DataFrame:
    """Every status as a row, in order, zero where none."""
    full = pd.DataFrame({"status": list(STATUSES)})
    out = full.merge(frame, on="status", how="left").fillna(0)
    for name in out.columns:
        if name != "status":
            out[name] = out[name].astype("int64")
    return out


def run(ctx: InsightContext) -> AnalysisOutput:
    rules = rules_from(ctx.params)
    _, bad = attendance_status(ctx.con, rules)
    horizon, nfa_days = applied_horizon(ctx.con)
    ctx.note(f"Known to homeless services: {horizon.describe()}.")
    if len(bad):
        ctx.note(
            f"{len(bad)} HMIS enrolment(s) exit before they start and were left out of the "
            "housing status (the provider should correct them)."
        )
    period = ctx.period_sql("arrival")
    counts = ctx.sql(
        f"""SELECT status, count(*) FILTER (WHERE kind = 'ae') AS ae_attendances,
                   count(*) FILTER (WHERE kind = 'ambulance') AS ambulance_callouts
        FROM hc_status WHERE {period} GROUP BY status"""
    )
    if counts.empty:
        raise NothingToPublish(
            f"no A&E attendance or ambulance call-out between {ctx.period_start} and "
            f"{ctx.period_end}"
        )
    kept = ctx.sql("SELECT *, ? AS linkage_run FROM hc_status", [ctx.linkage_run])
    ctx.keep(STATUS_TABLE, kept)
    ctx.keep(
        PROVIDER_TABLE,
        ctx.sql("SELECT *, ? AS linkage_run FROM hc_known", [ctx.linkage_run]),
    )

    by_status = ctx.publish(
        "attendances_by_status",
        _by_status(counts),
        title="A&E attendances and ambulance call-outs by housing status on the day",
        labels=["status"],
    )
    people = ctx.sql(
        f"""SELECT CASE min(CASE status {_rank_cases()} END) {_name_cases()} END AS status,
                   1 AS people
        FROM hc_status WHERE kind = 'ae' AND person_key IS NOT NULL AND {period}
        GROUP BY person_key"""
    )
    attenders = ctx.publish(
        "attenders_by_status",
        _by_status(people.groupby("status", as_index=False)["people"].sum()),
        title="People attending A&E by their strongest housing status at any attendance",
        labels=["status"],
    )

    recording = _hospital_recording(ctx, period)
    monthly = _monthly(ctx, period)
    frequent = _frequent(ctx)
    alerts_week, response = _alerts(ctx)

    share = _value(recording, "attendances", "share_not_recorded")
    figures: dict[str, Any] = {
        "share_of_homeless_attendances_not_recorded_by_hospital": share,
        "homeless_attendances": _value(recording, "attendances", "homeless"),
        "frequent_attenders": _value(frequent, "Total", "people"),
    }
    body = Markup("")
    if share is not None:
        body += Markup(
            "<p class='headline'>Of A&amp;E attendances by people homeless on the day, "
            "<strong>{:.0%}</strong> carried no 'no fixed abode' marker in the hospital's "
            "own record: the hospital learns of them only through the homelessness "
            "providers' data.</p>"
        ).format(float(share))
    if by_status is not None:
        shown = by_status.table.drop(index="Total", errors="ignore")
        values = [0.0 if v is None or pd.isna(v) else float(v) for v in shown["ae_attendances"]]
        svg = bar_chart_svg(
            [str(i) for i in shown.index], values, title="A&E attendances by housing status"
        )
        ctx.figure("attendances_by_status", svg, title="A&E attendances by housing status")
        body += Markup(svg) + table_html(by_status, caption=ctx.table_titles[by_status.name])
    for table in (attenders, recording, frequent, monthly, alerts_week, response):
        if table is not None:
            body += table_html(table, caption=ctx.table_titles[table.name], limit=80)
    if alerts_week is None and response is None:
        body += Markup(
            "<p class='note'>No care-coordination alerts in the warehouse for the period "
            "(<code>sectorlink alerts run</code> raises them).</p>"
        )
    body += Markup("<p class='note'>{}</p>").format(
        escape(
            f"Known to homeless services: an open enrolment, a contact in the last "
            f"{rules.contact_days} days (unless housed since), the hospital's no fixed abode "
            f"at the attendance of a former client, or an exit to a homeless situation in "
            f"the last {horizon.days} days (or longer while the hospital recorded no fixed "
            f"abode since, in the last {nfa_days} days); {horizon.describe()}."
        )
    )
    return AnalysisOutput(body=body, key_figures=figures)


def _rank_cases() -> str:
    return " ".join(f"WHEN '{s}' THEN {i + 1}" for i, s in enumerate(STATUSES))


def _name_cases() -> str:
    return " ".join(f"WHEN {i + 1} THEN '{s}'" for i, s in enumerate(STATUSES))


def _hospital_recording(ctx: InsightContext, period: str) -> ProtectedTable | None:
    frame = ctx.sql(
        f"""WITH homeless AS (
            SELECT person_key, coalesce(hospital_nfa, false) AS recorded FROM hc_status
            WHERE kind = 'ae' AND status IN {_homeless_sql()} AND {period}
        )
        SELECT 'attendances' AS measure, count(*) AS homeless,
               avg(CASE WHEN recorded THEN 0.0 ELSE 1.0 END) AS share_not_recorded
        FROM homeless
        UNION ALL
        SELECT 'attenders', count(*), avg(CASE WHEN ever THEN 0.0 ELSE 1.0 END)
        FROM (SELECT person_key, bool_or(recorded) AS ever FROM homeless
              WHERE person_key IS NOT NULL GROUP BY person_key)"""
    )
    if not frame["homeless"].sum():
        ctx.note("No A&E attendance by a person homeless on the day in the period.")
        return None
    frame["share_not_recorded"] = frame["share_not_recorded"].astype(float).round(3)
    return ctx.publish_statistics(
        "hospital_recording",
        frame,
        title="Homeless attendances (and attenders) the hospital did not record as of no "
        "fixed abode",
        support="homeless",
        labels=["measure"],
    )


def _monthly(ctx: InsightContext, period: str) -> ProtectedTable | None:
    # A share per month, not counts: a months-by-status table of small counts costs the
    # gate's interval check minutes and would show almost nothing but hidden cells.
    frame = ctx.sql(
        f"""SELECT strftime(arrival, '%Y-%m') AS month, count(*) AS ae_attendances,
                   round(avg(CASE WHEN status IN {_homeless_sql()} THEN 1.0 ELSE 0.0 END), 4)
                       AS homeless_share,
                   round(avg(CASE WHEN status = 'at risk' THEN 1.0 ELSE 0.0 END), 4)
                       AS at_risk_share
        FROM hc_status WHERE kind = 'ae' AND {period} GROUP BY month ORDER BY month"""
    )
    if frame.empty:
        return None
    return ctx.publish_statistics(
        "attendances_by_month",
        frame,
        title="A&E attendances by month: share by people homeless, and at risk, on the day",
        support="ae_attendances",
        labels=["month"],
    )


def _frequent(ctx: InsightContext) -> ProtectedTable | None:
    threshold = int(ctx.params.get("frequent_attendances", 4))
    window = int(ctx.params.get("frequent_window_days", 365))
    people = frequent_attenders(
        ctx.con,
        period=(ctx.period_start, ctx.period_end),
        attendances=threshold,
        window_days=window,
    )
    if people.empty:
        ctx.note(f"No one attended A&E {threshold} or more times within {window} days.")
        return None
    frame = _by_status(people.assign(people=1).groupby("status", as_index=False)["people"].sum())
    return ctx.publish(
        "frequent_attenders_by_status",
        frame,
        title=f"Frequent attenders ({threshold}+ A&E attendances within {window} days) by "
        "their strongest housing status",
        labels=["status"],
    )


def _alerts(ctx: InsightContext) -> tuple[ProtectedTable | None, ProtectedTable | None]:
    if not table_exists(ctx.con, "alert"):
        return None, None
    period = ctx.period_sql("arrival_time")
    # Alerts per week, averaged over each year (a week's or a quarter's count is mostly
    # under the gate's threshold), with the share the provider acknowledged.
    weekly = ctx.sql(
        f"""SELECT strftime(arrival_time, '%Y') AS year,
                   count(*) AS alerts,
                   round(count(*) / (date_diff('day', min(date_trunc('year', arrival_time)),
                       max(date_trunc('year', arrival_time) + INTERVAL 1 YEAR)) / 7.0), 2)
                       AS alerts_per_week,
                   round(avg(CASE WHEN acknowledged_at IS NOT NULL THEN 1.0 ELSE 0.0 END), 3)
                       AS acknowledged_rate
        FROM alert WHERE withdrawn_at IS NULL AND {period} GROUP BY year ORDER BY year"""
    )
    if weekly.empty:
        return None, None
    by_week = ctx.publish_statistics(
        "alerts_per_week",
        weekly,
        title="Care-coordination alerts per week (by year of the attendance) and the share "
        "acknowledged",
        support="alerts",
        labels=["year"],
    )
    response = ctx.sql(
        f"""SELECT kind, count(*) AS alerts,
                   round(avg(CASE WHEN acknowledged_at IS NOT NULL THEN 1.0 ELSE 0.0 END), 3)
                       AS acknowledged_rate,
                   round(median(date_diff('minute', created_at, acknowledged_at)) / 60.0, 1)
                       AS median_hours_to_acknowledge
        FROM alert WHERE withdrawn_at IS NULL AND {period} GROUP BY kind ORDER BY kind"""
    )
    rates = (
        ctx.publish_statistics(
            "alert_response",
            response,
            title="Alerts acknowledged by the provider, by kind",
            support="alerts",
            labels=["kind"],
        )
        if len(response)
        else None
    )
    return by_week, rates
