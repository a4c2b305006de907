from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from sectorlink.governance import (
    DEFAULT_MINIMUM_COUNT,
    PROFILES,
    AccessDenied,
    DisclosureRefused,
    ProfileBelowMinimum,
    ProtectedTable,
    apply_disclosure_control,
    custom_profile,
    feasible_intervals,
    read_audit_log,
    release_aggregate,
    suppression_log_frame,
    verify_audit_log,
)
from sectorlink.registry import Registry, register_region
from sectorlink.registry.settings import disclosure_minimum, set_disclosure_minimum


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
    # a threshold below the region's default minimum needs the admin-set minimum
    protected = apply_disclosure_control(table, custom_profile(5, minimum=5))
    assert pd.isna(protected.table.loc["a", "y"]) and protected.table.loc["a", "x"] == 0
    zeros = apply_disclosure_control(table, custom_profile(3, suppress_zeros=True, minimum=3))
    assert pd.isna(zeros.table.loc["a", "x"])
    assert custom_profile(12, round_to=10).name == "custom-12-round-10"


def test_dominance_rule() -> None:
    table = pd.DataFrame({"spend": [100, 120]}, index=["north", "south"])
    contributions = {("north", "spend"): [95, 3, 2], ("south", "spend"): [40, 40, 40]}
    # north dominated; hiding south as well would leave nothing, so the total is hidden
    two = apply_disclosure_control(table, "dominance", contributions=contributions)
    assert two.display()["spend"].tolist() == ["[c]", "120", "[c]"]
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


# --- what an attacker can work out from everything published (issue 15, points 11-14) ---


def _intervals_from_output(rows: list[list[int]], protected: ProtectedTable) -> list[float]:
    """Width of every hidden cell's feasible interval, from the published table alone.

    Written apart from the gate's own LP: the published values (true totals, so rounding
    only helps), the lines of the output (each row with its Total, each column with its
    Total), counts never negative; min and max of each hidden value by scipy's linprog.
    """
    out = protected.table
    hidden = protected.suppressed.to_numpy()
    values = np.zeros(out.shape)
    cells = np.array(rows, dtype=float)
    n, m = cells.shape
    has_col = out.columns[-1] == "Total" and m > 1
    has_row = out.index[-1] == "Total" and n > 1
    values[:n, :m] = cells
    if has_col:
        values[:n, m] = cells.sum(axis=1)
    if has_row:
        values[n, :m] = cells.sum(axis=0)
    if has_col and has_row:
        values[n, m] = cells.sum()
    unknown = [tuple(p) for p in np.argwhere(hidden)]
    index = {p: i for i, p in enumerate(unknown)}
    lines = []
    if has_col:
        lines += [[(r, c) for c in range(m + 1)] for r in range(out.shape[0])]
    if has_row:
        lines += [[(r, c) for r in range(n + 1)] for c in range(out.shape[1])]
    a_eq, b_eq = [], []
    for line in lines:
        *members, total = line
        row = np.zeros(len(unknown))
        rhs = 0.0
        for p, sign in [*((q, 1.0) for q in members), (total, -1.0)]:
            if p in index:
                row[index[p]] += sign
            else:
                rhs -= sign * values[p]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    widths = []
    for i in range(len(unknown)):
        c = np.zeros(len(unknown))
        c[i] = 1
        lo = linprog(c, A_eq=a_eq or None, b_eq=b_eq or None, bounds=(0, None))
        hi = linprog(-c, A_eq=a_eq or None, b_eq=b_eq or None, bounds=(0, None))
        assert lo.status == 0
        widths.append(float("inf") if hi.status == 3 else -hi.fun - lo.fun)
    return widths


def test_issue_table_hidden_cell_cannot_be_pinned_by_combining_totals() -> None:
    # Before: the hidden 5 at row 1, column 2 equalled (48-0-22)-(33-0-12).
    rows = [[0, 9, 12, 12], [0, 0, 5, 6], [0, 0, 0, 4]]
    protected = apply_disclosure_control(pd.DataFrame(rows), "suppress-1-10")
    widths = _intervals_from_output(rows, protected)
    assert widths and min(widths) >= 11
    assert "combination of the published totals" in suppression_log_frame(protected).to_string()


def test_gate_intervals_match_an_independent_check() -> None:
    protected = apply_disclosure_control(_table(), "suppress-1-10")
    grid_rows = _table().to_numpy().tolist()
    assert min(_intervals_from_output(grid_rows, protected)) >= 11
    # the gate's own intervals, on a hand-checkable line: x + y = 12
    grid = np.array([[3, 9, 12], [40, 50, 90], [43, 59, 102]])
    present = np.ones_like(grid, dtype=bool)
    hidden = np.zeros_like(present)
    hidden[0, 0] = hidden[0, 1] = hidden[1, 0] = hidden[1, 1] = True
    assert feasible_intervals(grid, present, hidden)[(0, 0)] == (0.0, 12.0)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda cols: st.lists(
            st.lists(st.integers(0, 30), min_size=cols, max_size=cols), min_size=1, max_size=4
        )
    ),
    st.sampled_from(["suppress-1-10", "suppress-1-7-round-5", "custom-8"]),
)
def test_every_hidden_cell_keeps_an_interval_as_wide_as_the_threshold(
    rows: list[list[int]], profile_name: str
) -> None:
    profile = custom_profile(8) if profile_name == "custom-8" else PROFILES[profile_name]
    try:
        protected = apply_disclosure_control(pd.DataFrame(rows), profile)
    except DisclosureRefused as refused:
        logged = {(n.row, n.column) for n in refused.log}
        nonzero = {(r, c) for r, row in enumerate(rows) for c, v in enumerate(row) if v}
        assert nonzero and nonzero <= logged
        return
    widths = _intervals_from_output(rows, protected)
    assert all(w >= profile.min_count for w in widths), widths
    values = np.array(rows)
    small = (values > 0) & (values < profile.min_count)
    assert np.all(protected.suppressed.to_numpy()[: len(rows), : len(rows[0])][small])


def test_docs_example_2x2_with_one_small_cell_is_published_with_totals_hidden() -> None:
    counts = pd.DataFrame({"2024": [3, 40], "2025": [12, 51]}, index=["A", "B"])
    protected = apply_disclosure_control(counts, "suppress-1-10")  # refused before
    shown = protected.display()
    assert shown.loc["A", "2024"] == "[c]"
    assert shown.loc["A", "2025"] == "12" and shown.loc["B", "2024"] == "40"
    assert shown.loc["B", "2025"] == "51"
    hidden_totals = {("A", "Total"), ("Total", "2024"), ("Total", "Total")}
    assert {(n.row, n.column) for n in protected.log if n.rule == "secondary"} == hidden_totals
    assert min(_intervals_from_output([[3, 12], [40, 51]], protected)) >= 11
    # every 2x2 table with one small cell is published the same way
    for small in range(1, 11):
        other = apply_disclosure_control(pd.DataFrame([[30, 25], [small, 40]]), "suppress-1-10")
        assert other.suppressed.to_numpy().sum() == 4
        assert not other.suppressed.iloc[0].iloc[:2].any()


def test_a_2x2_table_that_cannot_be_published_says_why() -> None:
    with pytest.raises(DisclosureRefused, match="whether the cells or the totals"):
        apply_disclosure_control(pd.DataFrame([[2, 3], [4, 5]]), "suppress-1-10")
    # a large cell among small ones is kept, its totals hidden
    kept = apply_disclosure_control(pd.DataFrame([[1, 1], [1, 40]]), "suppress-1-10")
    assert kept.display().iloc[1, 1] == "40"
    assert min(_intervals_from_output([[1, 1], [1, 40]], kept)) >= 11


def test_custom_profile_below_the_minimum_is_refused() -> None:
    with pytest.raises(ProfileBelowMinimum, match=r"custom_profile\(1\) would publish counts"):
        custom_profile(1)  # published counts of 2 and 3 before
    with pytest.raises(ProfileBelowMinimum):
        custom_profile(DEFAULT_MINIMUM_COUNT - 1)
    assert custom_profile(DEFAULT_MINIMUM_COUNT).min_count == DEFAULT_MINIMUM_COUNT
    assert custom_profile(3, minimum=3).min_count == 3  # an admin-set minimum


def test_numeric_label_columns_are_told_to_the_gate() -> None:
    table = pd.DataFrame({"ward_code": [101, 102, 103], "assaults": [30, 45, 12]})
    with pytest.raises(ValueError, match=r"named like labels.*labels=\['ward_code'\]"):
        apply_disclosure_control(table, "suppress-1-10")  # summed into totals before
    protected = apply_disclosure_control(table, "suppress-1-10", labels=["ward_code"])
    assert list(protected.table.columns) == ["assaults"]
    assert list(protected.table.index) == [101, 102, 103, "Total"]
    assert protected.table.loc["Total", "assaults"] == 87
    explicit = apply_disclosure_control(
        table.assign(area="x"), "suppress-1-10", labels=["ward_code", "area"], counts=["assaults"]
    )
    assert explicit.table.loc["Total", "assaults"] == 87
    with pytest.raises(ValueError, match="neither labels nor counts"):
        apply_disclosure_control(table.assign(other=1), "suppress-1-10", counts=["assaults"])
    with pytest.raises(ValueError, match="no column"):
        apply_disclosure_control(table, "suppress-1-10", labels=["ward"])


def test_region_minimum_is_set_by_an_admin_and_enforced_on_release(
    registry: Registry, sample_region: Path
) -> None:
    register_region(registry, sample_region)
    hub = "Regional Analytics Hub"
    loose = custom_profile(5, minimum=5)  # a library caller passing its own minimum...
    with pytest.raises(ProfileBelowMinimum, match="below the region's minimum"):
        release_aggregate(
            registry,
            _table(),
            organisation=hub,
            purpose="analysis",
            datasets=["ae_northgate"],
            profile=loose,
            name="loose",
        )  # fmt: skip  (...is still refused on release)
    assert read_audit_log(registry)[-1].outcome == "withheld"
    with registry.session(actor="admin@hub") as session:
        set_disclosure_minimum(session, 5)
    with registry.session() as session:
        assert disclosure_minimum(session) == 5
    released = release_aggregate(
        registry, _table(), organisation=hub, purpose="analysis",
        datasets=["ae_northgate"], profile=loose, name="loose",
    )  # fmt: skip
    assert released.audit_head == f"{read_audit_log(registry)[-1].seq}:" + (
        read_audit_log(registry)[-1].entry_hash
    )
    setting = read_audit_log(registry, type="registry-change", limit=1000)[-1]
    assert setting.actor == "admin@hub" and setting.detail["after"]["value"] == "5"
    assert verify_audit_log(registry, expected_head=released.audit_head).ok
