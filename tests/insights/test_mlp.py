"""mlp-measures: the counts match truth/mlp.csv exactly before the gate, every published
table went through it, and a comparison group too small is said, not published."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sectorlink.governance import Grant, ProtectedTable, get_profile
from sectorlink.insights import build_context, get_analysis, run_analysis
from sectorlink.insights.context import InsightContext
from sectorlink.insights.mlp import (
    DOMAINS,
    STEPS,
    build_cases,
    funnel_counts,
    funnel_statistics,
    health_use,
    measure_totals,
    measures_by,
)
from sectorlink.insights.mlp.health_use import NOT_A_TRIAL
from sectorlink.insights.mlp.report import LANGUAGE_NOTE

PROFILE = get_profile("suppress-1-7-round-5")


def _grant(sources: tuple[str, ...]) -> Grant:
    return Grant(
        organisation="hub",
        purpose="analysis/mlp-measures",
        action="read",
        datasets=sources,
        basis={s: "test" for s in sources},
        audit_seq=0,
        granted_at="",
    )


@pytest.fixture(scope="module")
def ctx(linked_region) -> Iterator[InsightContext]:
    context = build_context(
        linked_region.warehouse,
        get_analysis("mlp-measures"),
        _grant(("ae_northgate", "ambulance_westmoor", "mlp_lawcentre")),
        profile=PROFILE,
    )
    build_cases(context)
    yield context
    context.con.close()


@pytest.fixture(scope="module")
def truth(linked_region) -> pd.DataFrame:
    return duckdb.sql(
        f"SELECT * FROM read_csv('{linked_region.truth('mlp.csv')}', header=true)"
    ).df()


def test_measures_match_the_truth_exactly_before_the_gate(ctx, truth) -> None:
    flags = truth[list(DOMAINS)].any(axis=1)
    totals = measure_totals(ctx.con)
    assert totals["screened"] == len(truth)
    assert totals["with_need"] == int(flags.sum())
    assert totals["referred"] == int(truth["referred"].sum())
    assert totals["legal_help"] == int(truth["legal_intake"].sum())
    assert totals["resolved"] == int((truth["outcome"] == "need_addressed").sum())
    assert totals["benefit_won"] == pytest.approx(float(truth["financial_benefit"].sum()))
    assert totals["cases_with_benefit"] == int(truth["financial_benefit"].notna().sum())
    overall = funnel_counts(ctx.con, "all").iloc[0]
    assert [int(overall[s]) for s in STEPS] == [
        len(truth),
        int(flags.sum()),
        int(truth["referred"].sum()),
        int(truth["legal_intake"].sum()),
        int((truth["legal_intake"] & (truth["outcome"] == "need_addressed")).sum()),
    ]


def test_funnel_by_domain_matches_the_truth(ctx, truth) -> None:
    funnel = funnel_counts(ctx.con, "domain").set_index("domain")
    assert list(funnel.index) == sorted(DOMAINS)
    for domain in DOMAINS:
        row = funnel.loc[domain]
        referred = truth["referred"] & (truth["domain"] == domain)
        assert row["screened"] == len(truth)
        assert row["need_found"] == int(truth[domain].sum()), domain
        assert row["referred"] == int(referred.sum()), domain
        assert row["legal_intake"] == int((referred & truth["legal_intake"]).sum()), domain
        addressed = referred & truth["legal_intake"] & (truth["outcome"] == "need_addressed")
        assert row["need_addressed"] == int(addressed.sum()), domain


def test_measures_by_quarter_and_funnel_by_month_match_the_truth(ctx, truth) -> None:
    dates = pd.to_datetime(truth["screen_date"])
    quarters = dates.dt.year.astype(str) + "-Q" + dates.dt.quarter.astype(str)
    by_quarter = measures_by(ctx.con, "quarter")
    screened = by_quarter[by_quarter["measure"] == "screened"].set_index("quarter")["screenings"]
    assert screened.to_dict() == quarters.value_counts().sort_index().to_dict()
    legal = by_quarter[by_quarter["measure"] == "legal_help"].set_index("quarter")["screenings"]
    expected = truth["legal_intake"].groupby(quarters).sum()
    assert legal.to_dict() == {q: int(v) for q, v in expected.items()}
    months = funnel_counts(ctx.con, "month").set_index("month")
    referred = truth["referred"].groupby(dates.dt.strftime("%Y-%m")).sum()
    assert months["referred"].to_dict() == {m: int(v) for m, v in referred.items()}


def test_conversion_and_days_between_steps(ctx, truth) -> None:
    stats = funnel_statistics(ctx.con, "all").set_index("step")
    referral = stats.loc["need_found -> referred"]
    counts = funnel_counts(ctx.con, "all").iloc[0]
    assert referral["reached"] == counts["referred"]
    assert referral["conversion"] == pytest.approx(
        counts["referred"] / counts["need_found"], abs=5e-4
    )
    referred = truth[truth["referred"]]
    days = pd.to_datetime(referred["referral_date"]) - pd.to_datetime(referred["screen_date"])
    assert referral["median_days"] == pytest.approx(days.dt.days.median())


def test_a_comparison_group_too_small_is_said_not_counted(ctx) -> None:
    use = health_use(ctx.con, min_group=10**6)
    assert not use.reportable
    assert "fewer than 1000000" in use.reason
    # the note leaves the hub: no group's real size is in it
    for size in (use.comparison_people, use.matched):
        assert not re.search(rf"\b{size}\b", use.reason)
    assert use.difference("ae") is None
    usable = health_use(ctx.con, min_group=1)
    assert usable.reportable
    assert set(usable.table["group"]) == {"legal help", "comparison"}


def _check_gate(tables: dict[str, ProtectedTable], min_count: int, stats: set[str]) -> None:
    """No visible count in 1..min_count-1 in a count table, no visible statistic whose
    support is under the threshold: every published table went through the gate."""
    for name, table in tables.items():
        assert isinstance(table, ProtectedTable), name
        values = table.table
        if name in stats:
            continue
        visible = values.to_numpy(dtype="float64", na_value=float("nan"))
        small = (visible > 0) & (visible < min_count)
        assert not small.any(), f"{name} shows a count under {min_count}"
        # rounding to 5 everywhere
        assert ((visible[~pd.isna(visible)] % 5) == 0).all(), name


@pytest.mark.slow
def test_run_publishes_every_table_through_the_gate(hub, tmp_path: Path) -> None:
    registry = hub.registry()
    try:
        run = run_analysis(
            "mlp-measures",
            warehouse=hub.warehouse,
            registry=registry,
            organisation=hub.organisation,
            out_dir=tmp_path / "mlp",
        )
    finally:
        registry.close()
    stats = {n for n in run.tables if n.startswith(("conversion_", "benefit_", "health_use"))}
    _check_gate(run.tables, PROFILE.min_count, stats)
    for name in stats:
        table = run.tables[name]
        support = {"health_use": "people"}.get(name, "reached")
        if name.startswith("benefit_"):
            support = "cases_with_benefit"
        shown = table.table[support].dropna().astype(float)
        assert ((shown == 0) | (shown >= PROFILE.min_count)).all(), name
    summary = json.loads((tmp_path / "mlp" / "summary.json").read_text())
    assert {"funnel", "funnel_by_domain", "ncmlp_by_neighbourhood"} <= set(summary["tables"])
    assert NOT_A_TRIAL in summary["notes"] and LANGUAGE_NOTE in summary["notes"]
    header = (tmp_path / "mlp" / "funnel_by_domain.csv").read_text().splitlines()[0]
    assert header == "domain,step,screenings"
    page = (tmp_path / "mlp" / "summary.html").read_text()
    assert "not a trial" in page
    assert run.output.key_figures["screened"] % 5 == 0


def test_a_short_period_withholds_health_use_and_says_why(hub, tmp_path: Path) -> None:
    registry = hub.registry()
    try:
        run = run_analysis(
            "mlp-measures",
            warehouse=hub.warehouse,
            registry=registry,
            organisation=hub.organisation,
            period=(dt.date(2023, 1, 1), dt.date(2023, 3, 31)),
        )
    finally:
        registry.close()
    assert "health_use" not in run.tables
    assert "health_use" in run.summary["withheld"]
    assert any("Health use before and after legal help: not reported" in n for n in run.notes)
