"""The disclosure-control gate every aggregate table passes before it leaves the hub.

A table of counts goes in; a protected table, a log of every cell hidden and why, and
the profile used come out. The rules:

* primary suppression: a non-zero count below the profile's `min_count` (and, if the
  profile says so, a zero, or a cell dominated by its largest contributors);
* secondary suppression: in any row or column (with its total) where exactly one
  value is hidden, a second one is hidden too, so the first cannot be recovered by
  subtracting the others from the total; repeated until no line has exactly one;
* rounding of every published value, totals included, when the profile rounds.

A table in which nothing non-zero would survive is refused (`DisclosureRefused`) rather
than published empty. Parameter names and defaults follow ACRO (see docs/governance.md).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

TOTAL = "Total"


@dataclass(frozen=True)
class DisclosureProfile:
    """A set of output-checking rules.

    Attributes:
        min_count: non-zero counts below this are hidden (ACRO's `safe_threshold`).
        round_to: publish every value rounded to the nearest multiple of this.
        suppress_zeros: also hide zeros (ACRO's `zeros_are_disclosive`), for tables
            where a zero itself reveals something (e.g. nobody in a small area).
        dominance_n, dominance_k: hide a cell whose largest `n` contributions make up
            more than `k` of its total (ACRO's `safe_nk_n`, `safe_nk_k`).
    """

    name: str
    description: str
    min_count: int
    round_to: int | None = None
    suppress_zeros: bool = False
    dominance_n: int | None = None
    dominance_k: float | None = None

    def __post_init__(self) -> None:
        if self.min_count < 1:
            raise ValueError("min_count must be at least 1")
        if self.round_to is not None and self.round_to < 1:
            raise ValueError("round_to must be a positive integer")
        if (self.dominance_n is None) != (self.dominance_k is None):
            raise ValueError("dominance needs both dominance_n and dominance_k")
        if self.dominance_k is not None and not 0 < self.dominance_k <= 1:
            raise ValueError("dominance_k is a share between 0 and 1")


PROFILES: dict[str, DisclosureProfile] = {
    p.name: p
    for p in (
        DisclosureProfile(
            "suppress-1-7-round-5",
            "Hide counts 1-7, round everything else (totals included) to the nearest 5.",
            min_count=8,
            round_to=5,
        ),
        DisclosureProfile("suppress-1-10", "Hide counts 1-10.", min_count=11),
        DisclosureProfile(
            "dominance",
            "ACRO's defaults: hide counts below 10 and cells whose 2 largest contributions "
            "exceed 90% of the cell.",
            min_count=10,
            dominance_n=2,
            dominance_k=0.9,
        ),
    )
}


def custom_profile(
    min_count: int,
    *,
    round_to: int | None = None,
    suppress_zeros: bool = False,
    dominance: tuple[int, float] | None = None,
) -> DisclosureProfile:
    """A profile with your own threshold: counts 1..min_count-1 are hidden."""
    n, k = dominance if dominance else (None, None)
    parts = [f"hide counts 1-{min_count - 1}"]
    if round_to:
        parts.append(f"round to {round_to}")
    if dominance:
        parts.append(f"hide cells whose {n} largest contributions exceed {k:.0%}")
    return DisclosureProfile(
        f"custom-{min_count}" + (f"-round-{round_to}" if round_to else ""),
        "; ".join(parts).capitalize() + ".",
        min_count=min_count,
        round_to=round_to,
        suppress_zeros=suppress_zeros,
        dominance_n=n,
        dominance_k=k,
    )


def get_profile(profile: str | DisclosureProfile) -> DisclosureProfile:
    if isinstance(profile, DisclosureProfile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(
            f"unknown disclosure profile {profile!r}; known: {', '.join(PROFILES)} "
            "(or make one with custom_profile)"
        ) from None


@dataclass(frozen=True)
class SuppressionNote:
    """One hidden cell and why. The hidden value itself is deliberately not kept."""

    row: Hashable
    column: Hashable
    rule: str
    reason: str


class DisclosureRefused(ValueError):
    """Raised when the gate would hide every non-zero cell: nothing safe to publish."""

    def __init__(self, message: str, log: Sequence[SuppressionNote]) -> None:
        super().__init__(message)
        self.log = list(log)


@dataclass
class ProtectedTable:
    """The output of the gate.

    Attributes:
        table: the publishable table (nullable integers; hidden cells are <NA>), with a
            `Total` row and column when the input had more than one of each.
        suppressed: True where a value was hidden (same shape as `table`).
        log: every hidden cell with its rule and reason.
    """

    name: str
    profile: DisclosureProfile
    table: pd.DataFrame
    suppressed: pd.DataFrame
    log: list[SuppressionNote] = field(default_factory=list)

    def display(self, marker: str = "[c]") -> pd.DataFrame:
        """The table as text, with `marker` where a value was hidden."""
        shown = self.table.astype("object").where(~self.suppressed, marker)
        return shown.astype(str)

    def summary(self) -> str:
        primary = sum(1 for n in self.log if n.rule != "secondary")
        secondary = len(self.log) - primary
        return (
            f"{self.name}: profile {self.profile.name}; {primary} cell(s) hidden by primary "
            f"rules, {secondary} to protect totals"
        )


def _as_frame(table: Any) -> pd.DataFrame:
    """A wide frame of counts: rows x columns. Text columns become the row index."""
    if hasattr(table, "to_pandas") and not isinstance(table, pd.DataFrame | pd.Series):
        table = table.to_pandas()  # a pyarrow Table
    if isinstance(table, pd.Series):
        table = table.to_frame(name=table.name if table.name is not None else "count")
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"expected a pandas DataFrame or Series or an Arrow table, not {type(table).__name__}"
        )
    frame = table.copy()
    keys = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if keys:
        frame = frame.set_index(keys)
    if frame.empty:
        raise ValueError("the table has no cells")
    values = frame.to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(values).any():
        raise ValueError("the table has missing counts; fill them (0 or a real count) first")
    if (values < 0).any() or (values != np.round(values)).any():
        raise ValueError("the table must hold whole, non-negative counts")
    return frame.astype("int64")


def _dominated(contributions: Sequence[float], n: int, k: float) -> bool:
    values = sorted((float(v) for v in contributions), reverse=True)
    total = sum(values)
    return total > 0 and sum(values[:n]) > k * total


def _label(index: pd.Index, position: int) -> Hashable:
    return index[position] if position < len(index) else TOTAL


def apply_disclosure_control(
    table: Any,
    profile: str | DisclosureProfile = "suppress-1-7-round-5",
    *,
    contributions: Mapping[tuple[Hashable, Hashable], Sequence[float]] | None = None,
    name: str = "table",
    totals: bool = True,
) -> ProtectedTable:
    """Protect a table of counts so it can leave the hub.

    Args:
        table: counts, rows x columns (a DataFrame, a Series or an Arrow table; text
            columns are taken as the row labels).
        profile: a name from `PROFILES` or a `DisclosureProfile` (`custom_profile`).
        contributions: for dominance profiles, each cell's contributions by its
            contributors (e.g. per site), keyed by (row label, column label).
        name: how the table is named in the log and messages.
        totals: add a `Total` row and column (true totals, protected like any cell).
            Secondary suppression assumes totals are known either way.

    Raises:
        DisclosureRefused: when no non-zero cell would survive.

    Example:
        >>> counts = pd.DataFrame({"2024": [3, 40], "2025": [12, 51]}, index=["A", "B"])
        >>> protected = apply_disclosure_control(counts, "suppress-1-10")
        >>> protected.display()
    """
    rules = get_profile(profile)
    frame = _as_frame(table)
    cells = frame.to_numpy()
    n_rows, n_cols = cells.shape
    # The augmented grid: cells, then a total column and a total row, each only where it
    # sums more than one value (a total of one value would be the value itself).
    has_row_totals, has_col_totals = n_cols > 1, n_rows > 1
    grid = np.zeros((n_rows + 1, n_cols + 1), dtype=np.int64)
    grid[:n_rows, :n_cols] = cells
    grid[:n_rows, n_cols] = cells.sum(axis=1)
    grid[n_rows, :n_cols] = cells.sum(axis=0)
    grid[n_rows, n_cols] = cells.sum()
    present = np.zeros_like(grid, dtype=bool)
    present[:n_rows, :n_cols] = True
    present[:n_rows, n_cols] = has_row_totals
    present[n_rows, :n_cols] = has_col_totals
    present[n_rows, n_cols] = has_row_totals and has_col_totals

    hidden = np.zeros_like(present)
    notes: list[SuppressionNote] = []

    def hide(r: int, c: int, rule: str, reason: str) -> None:
        hidden[r, c] = True
        notes.append(
            SuppressionNote(_label(frame.index, r), _label(frame.columns, c), rule, reason)
        )

    small = present & (grid > 0) & (grid < rules.min_count)
    for r, c in zip(*np.nonzero(small), strict=True):
        hide(int(r), int(c), "threshold", f"count is between 1 and {rules.min_count - 1}")
    if rules.suppress_zeros:
        for r, c in zip(*np.nonzero(present & (grid == 0) & ~hidden), strict=True):
            hide(int(r), int(c), "zero", "zeros are disclosive under this profile")
    if rules.dominance_n is not None and rules.dominance_k is not None:
        if contributions is None:
            raise ValueError(f"profile {rules.name} checks dominance: pass contributions")
        for (row, col), values in contributions.items():
            r, c = frame.index.get_loc(row), frame.columns.get_loc(col)
            if not isinstance(r, int) or not isinstance(c, int):
                raise ValueError(f"contribution key {(row, col)!r} does not name one cell")
            if not hidden[r, c] and _dominated(values, rules.dominance_n, rules.dominance_k):
                hide(r, c, "dominance", f"the {rules.dominance_n} largest contributions "
                     f"exceed {rules.dominance_k:.0%} of the cell")  # fmt: skip

    _secondary_suppression(grid, present, hidden, hide, n_rows, n_cols)

    interior_hidden = hidden[:n_rows, :n_cols]
    if (cells > 0).any() and not ((cells > 0) & ~interior_hidden).any():
        raise DisclosureRefused(
            f"every non-zero cell of {name} would be suppressed under profile {rules.name} "
            f"({rules.description}); refusing to publish an empty table — aggregate to "
            "larger groups (fewer rows or columns, a longer period, a larger area)",
            notes,
        )

    published = grid.copy()
    if rules.round_to:
        base = rules.round_to
        published = (np.floor(published / base + 0.5) * base).astype(np.int64)
    keep_rows = list(range(n_rows)) + ([n_rows] if totals and has_col_totals else [])
    keep_cols = list(range(n_cols)) + ([n_cols] if totals and has_row_totals else [])
    index = [*frame.index, TOTAL]
    columns = [*frame.columns, TOTAL]
    out_index = pd.Index([index[i] for i in keep_rows], name=frame.index.name)
    out_cols = pd.Index([columns[j] for j in keep_cols], name=frame.columns.name)
    values = published[np.ix_(keep_rows, keep_cols)]
    mask = hidden[np.ix_(keep_rows, keep_cols)]
    result = pd.DataFrame(values, index=out_index, columns=out_cols).astype("Int64")
    result = result.mask(pd.DataFrame(mask, index=out_index, columns=out_cols))
    return ProtectedTable(
        name=name,
        profile=rules,
        table=result,
        suppressed=pd.DataFrame(mask, index=out_index, columns=out_cols),
        log=notes,
    )


def _secondary_suppression(
    grid: np.ndarray[Any, Any],
    present: np.ndarray[Any, Any],
    hidden: np.ndarray[Any, Any],
    hide: Any,
    n_rows: int,
    n_cols: int,
) -> None:
    """Hide more values until no line (a row or column with its total) has exactly one.

    A line's values sum to its total (its last member). With one value hidden, it equals
    the total minus the rest; with two or more, no single subtraction gives it away. The
    value added is chosen to cost the table least: not a total; preferably one whose
    other line already hides a value (hiding it mends both lines at once, the classic
    rectangle of four cells); then non-zero; then the smallest.
    """
    lines: list[tuple[bool, list[tuple[int, int]]]] = []
    for r in range(n_rows + 1):
        if present[r, n_cols]:
            lines.append((True, [(r, c) for c in range(n_cols + 1) if present[r, c]]))
    for c in range(n_cols + 1):
        if present[n_rows, c]:
            lines.append((False, [(r, c) for r in range(n_rows + 1) if present[r, c]]))

    def cost(p: tuple[int, int], along_row: bool) -> tuple[int, int, int, int, tuple[int, int]]:
        is_total = int(p[0] == n_rows or p[1] == n_cols)
        cross = (hidden & present)[:, p[1]] if along_row else (hidden & present)[p[0], :]
        return (is_total, int(not cross.any()), int(grid[p] == 0), int(grid[p]), p)

    changed = True
    while changed:
        changed = False
        for along_row, line in lines:
            if sum(1 for p in line if hidden[p]) != 1:
                continue
            choice = min((p for p in line if not hidden[p]), key=lambda p: cost(p, along_row))
            where = "row" if along_row else "column"
            hide(
                choice[0],
                choice[1],
                "secondary",
                f"hidden so the cell hidden in the same {where} cannot be recovered from the total",
            )
            changed = True


def suppression_log_frame(protected: ProtectedTable) -> pd.DataFrame:
    """The log as a table (row, column, rule, reason), e.g. to save beside an output."""
    return pd.DataFrame(
        [(n.row, n.column, n.rule, n.reason) for n in protected.log],
        columns=["row", "column", "rule", "reason"],
    )
