"""The monthly release for the Community Safety Partnership: every step, in order.

`run_violence(ctx)` is the analysis `violence-hotspots`: events, incidents (kept in the
warehouse), placement, ISTV quality, hotspots, profiles, the share unknown to the police,
and the release tables, map and page, all through the context's gate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from sectorlink.governance import ProtectedTable
from sectorlink.insights.context import AnalysisOutput, InsightContext, NothingToPublish
from sectorlink.insights.geography import GEO_AREA
from sectorlink.insights.violence.events import EVENT_TABLE, EventRules, collect_events
from sectorlink.insights.violence.figures import area_map_svg, hour_of_week_svg
from sectorlink.insights.violence.hotspots import HotspotRules, gi_star
from sectorlink.insights.violence.incidents import (
    INCIDENT_EVENT_TABLE,
    INCIDENT_TABLE,
    IncidentRules,
    build_incidents,
)
from sectorlink.insights.violence.placement import place_by_description
from sectorlink.insights.violence.places import PLACE_TABLE, attribute_to_places
from sectorlink.insights.violence.police_gap import leading_places, unknown_to_police
from sectorlink.insights.violence.profiles import (
    DAYS,
    HOURS,
    hour_of_week_grid,
    monthly_flags,
    peak_days,
    peak_window,
    window_text,
)
from sectorlink.insights.violence.quality import istv_quality
from sectorlink.insights.writers import table_html
from sectorlink.model.codesets import get_code_set

KEPT_INCIDENTS = "violence_incident"
KEPT_EVENTS = "violence_incident_event"


def _labels(code_set: str) -> dict[str, str]:
    return {c.code: c.label for c in get_code_set(code_set).codes}


def _value(table: ProtectedTable | None, row: Any, column: str) -> float | None:
    """A published cell, or None when hidden or absent."""
    if table is None or row not in table.table.index:
        return None
    if bool(table.suppressed.at[row, column]):
        return None
    cell = table.table.at[row, column]
    return None if cell is None or pd.isna(cell) else float(cell)


def _keep(ctx: InsightContext) -> None:
    ctx.keep(
        KEPT_INCIDENTS,
        ctx.sql(f"SELECT * EXCLUDE (anchor) FROM {INCIDENT_TABLE} ORDER BY incident_id"),
    )
    ctx.keep(
        KEPT_EVENTS,
        ctx.sql(
            f"SELECT incident_id, source, event_id FROM {INCIDENT_EVENT_TABLE} "
            "ORDER BY incident_id, source, event_id"
        ),
    )


def run_violence(ctx: InsightContext) -> AnalysisOutput:
    params = ctx.params
    incident_rules = IncidentRules(
        ambulance_hours=float(params.get("ambulance_hours", 6.0)),
        police_days=float(params.get("police_days", 2.0)),
        max_distance_km=float(params.get("max_distance_km", 3.0)),
    )
    hotspot_rules = HotspotRules(
        fdr=float(params.get("hotspot_fdr", 0.05)),
        permutations=int(params.get("permutations", 9999)),
        place_radius_m=float(params.get("place_radius_m", 150.0)),
    )
    peak_hours = int(params.get("peak_window_hours", 4))
    if not 1 <= peak_hours <= 23:
        raise ValueError(f"peak_window_hours must lie between 1 and 23, not {peak_hours}")

    kinds = collect_events(ctx.con, EventRules.from_params(params))
    if not sum(kinds.values()):
        raise NothingToPublish("no assault is recorded by A&E, the ambulance service or police")
    build_incidents(ctx.con, incident_rules)
    by_description = (
        place_by_description(ctx.con) if bool(params.get("place_by_description", True)) else 0
    )
    _keep(ctx)

    period = ctx.period_sql("incident_time")
    ctx.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _v_in_period AS "
        f"SELECT * FROM {INCIDENT_TABLE} WHERE {period}"
    )
    # Each incident's hotspot-test area: its place's (a place is counted whole in the area
    # holding most of it), else its own.
    moved = attribute_to_places(ctx.con, "_v_in_period", radius_m=hotspot_rules.place_radius_m)
    ctx.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE v_period AS
        SELECT i.*, coalesce(p.place_area, i.area) AS place_area
        FROM _v_in_period i LEFT JOIN {PLACE_TABLE} p USING (incident_id)"""
    )
    ctx.con.execute(f"DROP TABLE _v_in_period; DROP TABLE {PLACE_TABLE}")
    total = int(ctx.sql("SELECT count(*) AS n FROM v_period")["n"].iloc[0])
    if total == 0:
        raise NothingToPublish(
            f"no assault is recorded between {ctx.period_start} and {ctx.period_end}"
        )
    figures: dict[str, Any] = {"incidents": _rounded(ctx, total)}
    body = Markup("")

    # -- placement -----------------------------------------------------------------------------
    placement = ctx.sql("SELECT area_by, count(*) AS n FROM v_period GROUP BY 1 ORDER BY 1")
    placed_by = dict(zip(placement["area_by"], placement["n"].astype(int), strict=True))
    unplaced = placed_by.get("unplaced", 0) + placed_by.get("outside", 0)
    if unplaced:
        ctx.note(
            f"{unplaced:,} of {total:,} incidents could not be placed in a small area "
            f"({placed_by.get('outside', 0):,} with coordinates outside the region and no "
            f"postcode in the lookup, {placed_by.get('unplaced', 0):,} with no place at all); "
            "they are counted in every table except those by small area."
        )
    if by_description:
        ctx.note(
            f"{by_description:,} incidents no source located were placed by the named place "
            "their A&E record gives (the area other incidents at that place lie in)."
        )
    missing_postcodes = int(
        ctx.sql(
            f"""SELECT count(*) AS n FROM {EVENT_TABLE}
            WHERE area IS NULL AND lat IS NULL AND event_id IN (
                SELECT event_id FROM event WHERE postcode IS NOT NULL)"""
        )["n"].iloc[0]
    )
    if missing_postcodes:
        ctx.note(
            f"{missing_postcodes:,} violence records give a postcode the lookup does not hold."
        )
    published_placement = ctx.publish(
        "placement",
        placement.rename(columns={"area_by": "placed_by", "n": "incidents"}),
        title="Incidents by how they were placed in a small area",
        labels=["placed_by"],
    )

    # -- ISTV quality --------------------------------------------------------------------
    quality = istv_quality(ctx.con, (ctx.period_start, ctx.period_end))
    if len(quality):
        quality["month"] = quality["month"].dt.strftime("%Y-%m")
        published_quality = ctx.publish_statistics(
            "istv_quality",
            quality,
            title="ISTV completeness among assault attendances, per A&E site and month",
            support="attendances",
            labels=["site", "month"],
        )
        below = quality[quality["below_recent_level"]]
        figures["istv_mean_completeness"] = round(float(quality["mean_completeness"].mean()), 3)
        figures["istv_months_below_recent_level"] = len(below)
        empty_sites = quality.groupby("site")["mean_completeness"].max()
        for site in empty_sites[empty_sites == 0].index:
            ctx.note(f"A&E site {site} sent no ISTV fields for its assault attendances.")
    else:
        published_quality = None

    # -- hotspots ------------------------------------------------------------------------------
    areas = ctx.sql(f"SELECT code, name, geometry FROM {GEO_AREA} ORDER BY code")
    area_counts = ctx.sql(
        """SELECT area, count(*) AS incidents,
                  count(*) FILTER (WHERE seen_by_ae) AS seen_by_ae,
                  count(*) FILTER (WHERE seen_by_ae AND NOT seen_by_police)
                      AS ae_unknown_to_police
        FROM v_period WHERE area IS NOT NULL GROUP BY area"""
    ).set_index("area")
    residents = ctx.sql(
        "SELECT home_area AS area, count(*) AS n FROM person WHERE home_area IS NOT NULL GROUP BY 1"
    ).set_index("area")["n"]
    place_counts = ctx.sql(
        "SELECT place_area AS area, count(*) AS n FROM v_period "
        "WHERE place_area IS NOT NULL GROUP BY 1"
    ).set_index("area")["n"]
    # Incidents by where the victim lives and the area counted in: the expectation.
    flows = ctx.sql(
        """SELECT p.home_area, v.place_area AS area, count(*) AS incidents
        FROM v_period v JOIN person p USING (person_key)
        WHERE v.place_area IS NOT NULL AND p.home_area IS NOT NULL GROUP BY ALL"""
    )
    hotspot_areas: list[str] = []
    gi = pd.DataFrame()
    if len(areas) >= 3:
        gi, test = gi_star(areas, place_counts, residents, hotspot_rules, flows=flows)
        hotspot_areas = sorted(gi.loc[gi["hotspot"], "area"])
        if moved:
            ctx.note(
                f"{moved:,} incidents lie in another small area than most of their place's "
                f"(incidents within {hotspot_rules.place_radius_m:g} m of where they "
                "concentrate): the hotspot test counts each place whole, in its area."
            )
        if test is not None:
            figures["hotspot_dispersion"] = round(test.dispersion, 2)
            for key, value in test.shares.items():
                figures[f"assaults_{key}"] = round(value, 3)
            if not test.shares:
                ctx.note(
                    "No victim's home area is known: the hotspot test expects incidents in "
                    "proportion to the residents the person index places in each area."
                )
    else:
        ctx.note("Hotspots need the small areas' outlines (sectorlink insights geography).")
    figures["hotspot_areas"] = len(hotspot_areas)
    figures["hot_cluster_areas"] = int(gi["hot_cluster"].sum()) if len(gi) else 0

    # Tables by small area (all areas, zero where no incident) and the map.
    # One count column: the gate's secondary suppression over areas stays cheap, and the
    # nested counts (seen by A&E, unknown to the police) are published per hotspot and
    # place type instead, where they are large enough to show.
    by_area = (
        area_counts[["incidents"]]
        .reindex(areas["code"])
        .fillna(0)
        .astype("int64")
        .rename_axis("area")
    ).reset_index()
    published_area = ctx.publish(
        "incidents_by_area", by_area, title="Incidents by small area", labels=["area"]
    )
    count_map = None
    if published_area is not None and len(areas):
        count_map = ctx.publish_map(
            "incidents_map", published_area, value="incidents", title="Incidents by small area"
        )
    gi_table = None
    if len(gi):
        names = dict(zip(areas["code"], areas["name"], strict=True))
        profile_rows = _hotspot_profiles(ctx, hotspot_areas, peak_hours)
        shown = gi.assign(name=gi["area"].map(names))
        shown = shown.merge(profile_rows, on="area", how="left")
        shown = shown[
            [
                "area",
                "name",
                "incidents",
                "expected",
                "gi",
                "z",
                "p_gi",
                "q_gi",
                "p_own",
                "q_own",
                "hot_cluster",
                "hotspot",
                "peak_hours",
                "peak_days",
            ]
        ]
        shown["expected"] = shown["expected"].round(1)
        gi_table = ctx.publish_statistics(
            "hotspots",
            shown,
            title="Hotspot test and Getis-Ord Gi* per small area (incidents: each place "
            "counted whole in its area; expected: from where the victims live; hotspot: the "
            "area's own count significant; hot_cluster: Gi* significant; both at the "
            f"false-discovery rate {hotspot_rules.fdr:g})",
            support="incidents",
            labels=["area"],
        )
        gi_map = ctx.publish_map("hotspots_map", gi_table, value="z", title="Gi* z-score")
        svg = area_map_svg(
            gi_map,
            "z",
            title="Gi* z-score by small area",
            hotspots=hotspot_areas,
            diverging=True,
        )
        ctx.figure("hotspots_map", svg, title="Gi* z-score by small area, hotspots outlined")
        body += Markup(svg)
    if count_map is not None:
        svg = area_map_svg(
            count_map, "incidents", title="Incidents by small area", hotspots=hotspot_areas
        )
        ctx.figure("incidents_map", svg, title="Incidents by small area, hotspots outlined")
        body += Markup(svg)

    # -- when: hour of week --------------------------------------------------------------------
    hours = ctx.sql("SELECT weekday, hour, count(*) AS incidents FROM v_period GROUP BY ALL")
    grid = hour_of_week_grid(hours)
    published_hours = ctx.publish(
        "incidents_by_hour_of_week",
        grid.reset_index(),
        title="Incidents by day of week and hour (rows: day; columns: hour starting)",
        labels=["day"],
    )
    if published_hours is not None:
        svg = hour_of_week_svg(published_hours, title="Incidents by hour of week")
        ctx.figure("hour_of_week", svg, title="Incidents by hour of week")
        body += Markup(svg)
    if hotspot_areas:
        profile = ctx.sql(
            f"""SELECT place_area AS area, weekday, hour, count(*) AS incidents FROM v_period
            WHERE place_area IN ({", ".join("'" + a + "'" for a in hotspot_areas)})
            GROUP BY ALL"""
        )
        # Per hotspot, hour of day and day of week as two tables: a day x hour grid per
        # hotspot is mostly cells of 1-7, and its secondary suppression costs seconds
        # per hotspot for little that can be shown.
        profile["day"] = [DAYS[int(d)] for d in profile["weekday"]]
        profile["hour_start"] = [HOURS[int(h)] for h in profile["hour"]]
        for name, column, order, title in (
            ("hotspot_hours", "hour_start", HOURS, "hour of day (starting)"),
            ("hotspot_days", "day", DAYS, "day of week"),
        ):
            grid = (
                profile.pivot_table(index="area", columns=column, values="incidents", aggfunc="sum")
                .reindex(index=hotspot_areas, columns=list(order))
                .fillna(0)
                .astype("int64")
            )
            grid.columns.name = None
            ctx.publish(
                name,
                grid.rename_axis("area").reset_index(),
                title=f"Incidents in each hotspot area by {title}",
                labels=["area"],
            )

    # -- how and what kind of place ------------------------------------------------------------
    places = _labels("istv_location_type")
    methods = _labels("istv_assault_method")
    by_place = ctx.sql(
        """SELECT coalesce(place_type, '98') AS code, count(*) AS incidents,
                  count(*) FILTER (WHERE seen_by_ae) AS seen_by_ae,
                  count(*) FILTER (WHERE seen_by_police) AS seen_by_police,
                  count(*) FILTER (WHERE seen_by_ae AND NOT seen_by_police)
                      AS ae_unknown_to_police
        FROM v_period GROUP BY 1 ORDER BY 1"""
    )
    by_place.insert(0, "place_type", by_place.pop("code").map(lambda c: places.get(c, c)))
    published_place = ctx.publish(
        "incidents_by_place_type",
        by_place,
        title="Incidents by place type (columns overlap: an incident can be seen by several "
        "services, so rows have no total)",
        labels=["place_type"],
        totals=False,
    )
    weapon = ctx.sql(
        """SELECT coalesce(place_type, '98') AS place, coalesce(method, 'none') AS method,
                  count(*) AS n
        FROM v_period WHERE seen_by_ae GROUP BY ALL"""
    )
    weapon_grid = (
        weapon.pivot(index="place", columns="method", values="n").fillna(0).astype("int64")
    )
    weapon_grid.columns = [
        "not recorded" if c == "none" else methods.get(c, c) for c in weapon_grid.columns
    ]
    weapon_grid.index = [places.get(c, c) for c in weapon_grid.index]
    weapon_grid.index.name = "place_type"
    published_weapon = ctx.publish(
        "method_by_place_type",
        weapon_grid.reset_index(),
        title="A&E-seen assaults by method (weapon) and place type",
        labels=["place_type"],
    )

    # -- named places --------------------------------------------------------------------------
    named = ctx.sql(
        f"""SELECT description AS place, count(*) AS incidents FROM v_period
        WHERE description IS NOT NULL GROUP BY 1
        HAVING count(*) >= {ctx.profile.min_count} ORDER BY 2 DESC, 1 LIMIT 25"""
    )
    published_named = None
    if len(named):
        # Only places with enough incidents to show are listed: a free-text description
        # seen once or twice could name someone's home.
        published_named = ctx.publish(
            "named_places",
            named,
            title="Named places by incidents (A&E location description)",
            labels=["place"],
            totals=False,
        )

    # -- unknown to the police -----------------------------------------------------------------
    places = leading_places(ctx.con, period, hotspot_areas, ctx.profile.min_count)
    gap = unknown_to_police(ctx.con, period, hotspot_areas, places)
    gap["place"] = gap["value"].map(places).where(gap["group"] == "hotspot place", "")
    gap.loc[gap["group"] == "place type", "value"] = gap.loc[
        gap["group"] == "place type", "value"
    ].map(lambda c: places.get(c, c))
    overall = gap[gap["group"] == "overall"].iloc[0]
    if overall["ae_incidents"]:
        figures["share_ae_unknown_to_police"] = round(float(overall["share"]), 3)
    # Per hotspot: at its leading named place where it has one, else in its area.
    for group in ("hotspot", "hotspot place"):
        for row in gap[gap["group"] == group].itertuples(index=False):
            figures[f"share_ae_unknown_to_police_{row.value}"] = (
                round(float(row.share), 3) if row.ae_incidents >= ctx.profile.min_count else None
            )
    gap["row"] = gap["group"] + ": " + gap["value"].astype(str)
    published_gap = ctx.publish_statistics(
        "unknown_to_police",
        # The share and its (rounded) support only: the numerator is a count, and the
        # counts unknown to the police are published through the gate by place type.
        gap[["row", "group", "value", "place", "ae_incidents", "share"]],
        title="A&E-seen assaults the police have no record of",
        support="ae_incidents",
        labels=["row"],
    )

    # -- monthly trend -------------------------------------------------------------------------
    end = (ctx.period_end + dt.timedelta(days=1)).isoformat()
    monthly = ctx.sql(
        f"""SELECT month, kind AS series, count(*) AS n FROM {EVENT_TABLE}
        WHERE event_time < DATE '{end}' GROUP BY ALL
        UNION ALL SELECT month, 'incidents', count(*) FROM {INCIDENT_TABLE}
        WHERE incident_time < DATE '{end}' GROUP BY ALL"""
    )
    trend = _trend(ctx, monthly)
    figures["months_above_upper_bound"] = len(trend)
    if trend:
        ctx.note("Months above the last 12 months' upper bound: " + ", ".join(trend) + ".")

    # Counts among the key figures are rounded as the profile rounds published counts.
    figures["incidents"] = _rounded(ctx, total)
    figures["incidents_seen_by_two_or_more_services"] = _rounded(
        ctx, int(ctx.sql("SELECT count(*) AS n FROM v_period WHERE events > 1")["n"].iloc[0])
    )

    body = _page(
        ctx,
        body,
        figures,
        hotspot_areas,
        gi_table,
        published_gap,
        published_place,
        published_weapon,
        published_named,
        published_quality,
        published_placement,
    )
    return AnalysisOutput(body=body, key_figures=figures)


def _rounded(ctx: InsightContext, count: int) -> int:
    step = ctx.profile.round_to or 1
    return int(round(count / step) * step)


def _hotspot_profiles(ctx: InsightContext, hotspot_areas: list[str], length: int) -> pd.DataFrame:
    """Peak hours and days of each hotspot area (from its own incidents)."""
    rows = []
    for area in hotspot_areas:
        counts = ctx.sql(
            "SELECT weekday, hour, count(*) AS n FROM v_period WHERE place_area = ? GROUP BY ALL",
            [area],
        )
        by_hour = np.zeros(24)
        for hour, n in zip(counts["hour"], counts["n"], strict=True):
            by_hour[int(hour)] += n
        start, stop, share = peak_window(by_hour, length)
        # Peak days are the days the window starts on: an assault at 01:00 inside a
        # 22:00-02:00 window belongs to the night before.
        by_day = np.zeros(7)
        for weekday, hour, n in counts.itertuples(index=False):
            night_before = stop < start and int(hour) < stop
            by_day[(int(weekday) - night_before) % 7] += n
        rows.append(
            {
                "area": area,
                "peak_hours": window_text(start, stop),
                "peak_start": start,
                "peak_days": " ".join(peak_days(by_day)),
                "peak_share": share,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["area", "peak_hours", "peak_start", "peak_days", "peak_share"]
    )
    return frame[["area", "peak_hours", "peak_days"]]


def _trend(ctx: InsightContext, monthly: pd.DataFrame) -> list[str]:
    if monthly.empty:
        return []
    wide = monthly.pivot(index="month", columns="series", values="n").fillna(0).sort_index()
    full = pd.date_range(wide.index.min(), wide.index.max(), freq="MS")
    wide = wide.reindex(full, fill_value=0)
    flags = monthly_flags(wide)
    start = pd.Timestamp(ctx.period_start.replace(day=1))
    flags = flags[flags["month"] >= start]
    if flags.empty:
        return []
    # Long form (one count per month and series, no totals): the gate's secondary
    # suppression then has one column to protect, not a month x source grid.
    above = flags[flags["above"]]
    # One label column (the gate keeps a single row label's name, not a multi-level one):
    # `2024-03 police`, with ` (above upper bound)` on a flagged month.
    label = flags["month"].dt.strftime("%Y-%m") + " " + flags["series"]
    label = label + np.where(flags["above"], " (above upper bound)", "")
    table = pd.DataFrame({"month_series": label, "count": flags["count"].astype("int64")})
    ctx.publish(
        "monthly_trend",
        table,
        title="Events per month by source, and incidents; '(above upper bound)' where the "
        "month is above the last 12 months' mean + 2 sd",
        labels=["month_series"],
        totals=False,
    )
    return [f"{m:%Y-%m} {s}" for m, s in zip(above["month"], above["series"], strict=True)]


def _page(
    ctx: InsightContext,
    figures_html: Markup,
    figures: dict[str, Any],
    hotspot_areas: list[str],
    gi_table: ProtectedTable | None,
    gap: ProtectedTable | None,
    place: ProtectedTable | None,
    weapon: ProtectedTable | None,
    named: ProtectedTable | None,
    quality: ProtectedTable | None,
    placement: ProtectedTable | None,
) -> Markup:
    share = figures.get("share_ae_unknown_to_police")
    lines = [
        f"<li><strong>{figures['incidents']:,}</strong> assaults "
        f"({ctx.period_start:%B %Y} to {ctx.period_end:%B %Y}), each counted once however "
        "many services saw it.</li>",
        f"<li><strong>{len(hotspot_areas)}</strong> hotspot small area(s): "
        f"{escape(', '.join(hotspot_areas) or 'none')}.</li>",
    ]
    if share is not None:
        lines.append(
            f"<li><strong>{share:.0%}</strong> of the assaults A&amp;E treated are unknown "
            "to the police.</li>"
        )
    page = Markup("<ul class='key-figures'>" + "".join(lines) + "</ul>")
    page += figures_html
    captions = ctx.table_titles
    for name, table in (
        ("hotspots", gi_table),
        ("unknown_to_police", gap),
        ("incidents_by_place_type", place),
        ("method_by_place_type", weapon),
        ("named_places", named),
        ("istv_quality", quality),
        ("placement", placement),
    ):
        if table is None:
            continue
        shown: ProtectedTable | None = table
        if name == "hotspots":
            shown = _only_rows(table, hotspot_areas) if hotspot_areas else None
        if name == "unknown_to_police":
            keep = [r for r in table.table.index if not str(r).startswith("hour of week")]
            shown = _only_rows(table, keep)
        if shown is not None:
            page += table_html(shown, caption=captions.get(name, name), limit=20)
    return page


def _only_rows(table: ProtectedTable, rows: list[Any]) -> ProtectedTable:
    """The same protected table cut to some of its rows (for the page; the files hold all)."""
    keep = [r for r in rows if r in table.table.index]
    return ProtectedTable(
        name=table.name,
        profile=table.profile,
        table=table.table.loc[keep],
        suppressed=table.suppressed.loc[keep],
        log=[n for n in table.log if n.row in keep],
    )


__all__ = ["DAYS", "HOURS", "KEPT_EVENTS", "KEPT_INCIDENTS", "run_violence"]
