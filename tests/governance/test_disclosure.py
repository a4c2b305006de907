from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sectorlink.governance import (
    PROFILES,
    AccessDenied,
    DisclosureRefused,
    apply_disclosure_control,
    custom_profile,
    read_audit_log,
    release_aggregate,
    suppression_log_frame,
    verify_audit_log,
)
from sectorlink.registry import Registry, register_region


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {"2024": [3, 40, 22], "2025": [12, 51, 30], "2026": [9, 9, 60]},
        index=pd.Index(["A", "B", "C"], name="area"),
    )


def test_suppress_1_10_hides_small_cells_and_protects_totals() -> None:
    protected = apply_disclosure_control(_table(), "suppress-1-10")
    shown = protected.display()
    assert shown.loc["A", "2024"] == "[c]" and shown.loc["A", "2026"] == "[c]"
    assert shown.loc["B", "2026"] == "[c]"
    assert shown.loc["B", "2024"] == "[c]"  # secondary: row B would reveal B/2026
    assert protected.table.loc["Total", "Total"] == 236
    rules = [n.rule for n in protected.log]
    assert rules.count("threshold") == 3 and rules.count("secondary") == 1
    log = suppression_log_frame(protected)
    assert list(log.columns) == ["row", "column", "rule", "reason"]
    assert "cannot be recovered from the total" in log.iloc[-1]["reason"]


def test_suppress_1_7_round_5_rounds_everything_published() -> None:
    protected = apply_disclosure_control(_table(), "suppress-1-7-round-5")
    published = protected.table.to_numpy(dtype="float64", na_value=np.nan)
    assert np.all(np.isnan(published) | (published % 5 == 0))
    assert protected.table.loc["B", "2026"] == 10  # 9 rounds to 10, not hidden under 1-7
    assert pd.isna(protected.table.loc["A", "2024"])


def test_custom_threshold_and_zeros() -> None:
    table = pd.DataFrame({"x": [0, 25, 30], "y": [4, 26, 31]}, index=["a", "b", "c"])
    protected = apply_disclosure_control(table, custom_profile(5))
    assert pd.isna(protected.table.loc["a", "y"]) and protected.table.loc["a", "x"] == 0
    zeros = apply_disclosure_control(table, custom_profile(3, suppress_zeros=True))
    assert pd.isna(zeros.table.loc["a", "x"])
    assert custom_profile(5, round_to=10).name == "custom-5-round-10"


def test_dominance_rule() -> None:
    table = pd.DataFrame({"spend": [100, 120]}, index=["north", "south"])
    contributions = {("north", "spend"): [95, 3, 2], ("south", "spend"): [40, 40, 40]}
    with pytest.raises(DisclosureRefused):
        # north dominated, south then hidden to protect the total: nothing left
        apply_disclosure_control(table, "dominance", contributions=contributions)
    table3 = pd.DataFrame({"spend": [100, 120, 130]}, index=["north", "south", "east"])
    contributions[("east", "spend")] = [50, 40, 40]
    protected = apply_disclosure_control(table3, "dominance", contributions=contributions)
    assert [n.rule for n in protected.log] == ["dominance", "secondary"]
    with pytest.raises(ValueError, match="pass contributions"):
        apply_disclosure_control(table3, "dominance")


def test_all_suppressed_is_refused_with_its_log() -> None:
    table = pd.DataFrame({"x": [1, 2], "y": [3, 0]}, index=["a", "b"])
    with pytest.raises(
        DisclosureRefused, match="every non-zero cell of tiny would be suppressed"
    ) as refused:
        apply_disclosure_control(table, "suppress-1-10", name="tiny")
    assert refused.value.log


def test_inputs_arrow_series_and_bad_values() -> None:
    arrow = pa.table({"area": ["A", "B", "C"], "2024": [3, 40, 22], "2025": [12, 51, 30]})
    protected = apply_disclosure_control(arrow, "suppress-1-10")
    assert list(protected.table.index) == ["A", "B", "C", "Total"]
    series = pd.Series([5, 50, 60], index=["x", "y", "z"], name="n")
    one_column = apply_disclosure_control(series, "suppress-1-10")
    assert list(one_column.table.columns) == ["n"]  # no row totals for a single column
    assert one_column.display().loc["y", "n"] == "[c]"  # secondary in the column
    with pytest.raises(ValueError, match="whole, non-negative"):
        apply_disclosure_control(pd.DataFrame({"x": [-1, 3]}), "suppress-1-10")
    with pytest.raises(ValueError, match="missing counts"):
        apply_disclosure_control(pd.DataFrame({"x": [None, 3.0]}), "suppress-1-10")
    with pytest.raises(ValueError, match="unknown disclosure profile 'lenient'"):
        apply_disclosure_control(_table(), "lenient")


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda cols: st.lists(
            st.lists(st.integers(0, 40), min_size=cols, max_size=cols), min_size=1, max_size=6
        )
    ),
    st.sampled_from(sorted(PROFILES.keys() - {"dominance"})),
)
def test_no_hidden_cell_recoverable_from_a_total(rows: list[list[int]], profile: str) -> None:
    table = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(rows[0]))])
    try:
        protected = apply_disclosure_control(table, profile)
    except DisclosureRefused as refused:
        # refused only when every non-zero cell really was hidden
        logged = {(n.row, n.column) for n in refused.log}
        nonzero = {(r, f"c{c}") for r, row in enumerate(rows) for c, v in enumerate(row) if v}
        assert nonzero and nonzero <= logged
        return
    hidden = protected.suppressed.to_numpy()
    n_rows, n_cols = hidden.shape
    has_total_col = protected.table.columns[-1] == "Total" and len(rows[0]) > 1
    has_total_row = protected.table.index[-1] == "Total" and len(rows) > 1
    if has_total_col:
        for r in range(n_rows):
            assert hidden[r].sum() != 1
    if has_total_row:
        for c in range(n_cols):
            assert hidden[:, c].sum() != 1
    # every small non-zero count is hidden
    minimum = PROFILES[profile].min_count
    values = table.to_numpy()
    assert np.all(hidden[: len(rows), : len(rows[0])][(values > 0) & (values < minimum)])


def test_release_aggregate_checks_access_and_audits(
    registry: Registry, sample_region: Path
) -> None:
    register_region(registry, sample_region)
    hub = "Regional Analytics Hub"
    protected = release_aggregate(
        registry, _table(), organisation=hub, purpose="analysis/violence-hotspots",
        datasets=["ae_northgate"], name="assaults by area",
    )  # fmt: skip
    assert protected.profile.name == "suppress-1-7-round-5"
    entries = read_audit_log(registry)
    assert [e.outcome for e in entries[-2:]] == ["allowed", "published"]
    assert entries[-1].detail["output"] == "assaults by area"
    with pytest.raises(DisclosureRefused):
        release_aggregate(
            registry, pd.DataFrame({"x": [1, 2]}), organisation=hub, purpose="analysis",
            datasets=["ae_northgate"], name="tiny",
        )  # fmt: skip
    assert read_audit_log(registry)[-1].outcome == "withheld"
    with pytest.raises(AccessDenied):
        release_aggregate(
            registry, _table(), organisation="Northgate Police", purpose="analysis",
            datasets=["ae_northgate"],
        )  # fmt: skip
    assert read_audit_log(registry)[-1].outcome == "refused"
    assert verify_audit_log(registry).ok
