"""The disclosure-control gate every aggregate table passes before it leaves the hub.

A table of counts goes in; a protected table, a log of every cell hidden and why, and
the profile used come out. The rules:

* primary suppression: a non-zero count below the profile's `min_count` (and, if the
  profile says so, a zero, or a cell dominated by its largest contributors);
* secondary suppression: in any row or column (with its total) where exactly one
  value is hidden, a second one is hidden too, so the first cannot be recovered by
  subtracting the others from the total; repeated until no line has exactly one;
* then the linear-programming audit (`feasible_intervals`): what an attacker can work out
  about every hidden value from everything published (all the lines at once, and that
  counts are never negative) is an interval; more values are hidden until every hidden
  value's interval is at least the profile's `min_count` wide;
* rounding of every published value, totals included, when the profile rounds.

When protecting the cells would hide every non-zero cell (a 2x2 table with one small
cell), the totals are hidden instead; a table in which nothing non-zero can survive
either way is refused (`DisclosureRefused`) rather than published empty. Parameter names
and defaults follow ACRO (see docs/governance.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sectorlink.registry.settings import DEFAULT_MINIMUM_COUNT as DEFAULT_MINIMUM_COUNT

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


# DEFAULT_MINIMUM_COUNT: the loosest threshold a custom profile may have unless the
# region's admin sets another (`sectorlink.registry.settings.set_disclosure_minimum`):
# counts 1-7 always hidden, as under the loosest shipped profile.


class ProfileBelowMinimum(ValueError):
    """A custom profile would publish counts the region's minimum threshold hides."""


def custom_profile(
    min_count: int,
    *,
    round_to: int | None = None,
    suppress_zeros: bool = False,
    dominance: tuple[int, float] | None = None,
    minimum: int = DEFAULT_MINIMUM_COUNT,
) -> DisclosureProfile:
    """A profile with your own threshold: counts 1..min_count-1 are hidden.

    Args:
        minimum: the region's minimum threshold; a `min_count` below it is refused. Pass
            `disclosure_minimum(registry)` (the value an admin set in the registry), not a
            number of your own choosing.

    Raises:
        ProfileBelowMinimum: when `min_count < minimum`.
    """
    if min_count < minimum:
        raise ProfileBelowMinimum(
            f"custom_profile({min_count}) would publish counts {min_count}-{minimum - 1}, "
            f"which the region's minimum threshold hides (counts 1-{minimum - 1}); only an "
            "admin can lower the minimum (sectorlink registry set-disclosure-minimum)"
        )
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
        audit_head: for a table released by `release_aggregate`, the `SEQ:HASH` of the
            audit entry recording the release (print it beside the output).
        label_names: the names of the label columns when rows are labelled by several
            (the gate keys such rows by tuples); writers split them back into columns.
    """

    name: str
    profile: DisclosureProfile
    table: pd.DataFrame
    suppressed: pd.DataFrame
    log: list[SuppressionNote] = field(default_factory=list)
    audit_head: str | None = None
    label_names: tuple[str, ...] = ()

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


# A numeric column named like this is a label (a ward code, a year id), not a count; the
# gate refuses to guess and asks to be told.
_LABEL_LIKE = re.compile(r"(^|_)(code|id|key)$", re.IGNORECASE)


def _as_frame(
    table: Any, labels: Sequence[Hashable] | None, counts: Sequence[Hashable] | None
) -> pd.DataFrame:
    """A wide frame of counts: rows x columns, with the label columns as the row index.

    With `labels` and/or `counts` named, every column must be one or the other; without
    either, text columns are the labels and a numeric column named like a label
    (`ward_code`, `area_id`) is refused rather than summed into the totals.
    """
    if hasattr(table, "to_pandas") and not isinstance(table, pd.DataFrame | pd.Series):
        table = table.to_pandas()  # a pyarrow Table
    if isinstance(table, pd.Series):
        table = table.to_frame(name=table.name if table.name is not None else "count")
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"expected a pandas DataFrame or Series or an Arrow table, not {type(table).__name__}"
        )
    frame = table.copy()
    columns = list(frame.columns)
    if labels is not None or counts is not None:
        named = [*(labels or []), *(counts or [])]
        missing = [c for c in named if c not in columns]
        if missing:
            raise ValueError(f"the table has no column(s) {missing!r}; it has {columns!r}")
        label_set = list(labels or [])
        count_set = (
            list(counts) if counts is not None else [c for c in columns if c not in label_set]
        )
        both = [c for c in label_set if c in count_set]
        if both:
            raise ValueError(f"column(s) {both!r} named as both labels and counts")
        neither = [c for c in columns if c not in label_set and c not in count_set]
        if neither:
            raise ValueError(
                f"column(s) {neither!r} are neither labels nor counts: name each in "
                "labels=[...] or counts=[...]"
            )
        not_numeric = [c for c in count_set if not pd.api.types.is_numeric_dtype(frame[c])]
        if not_numeric:
            raise ValueError(f"count column(s) {not_numeric!r} do not hold numbers")
        keys = label_set
    else:
        keys = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
        label_like = [
            c for c in columns if c not in keys and isinstance(c, str) and _LABEL_LIKE.search(c)
        ]
        if label_like:
            raise ValueError(
                f"numeric column(s) {label_like!r} are named like labels, not counts; say "
                f"which they are: labels={label_like!r} (or counts=[...] to sum them)"
            )
    if keys:
        frame = frame.set_index(keys)
    if frame.empty or frame.shape[1] == 0:
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
    labels: Sequence[Hashable] | None = None,
    counts: Sequence[Hashable] | None = None,
) -> ProtectedTable:
    """Protect a table of counts so it can leave the hub.

    Args:
        table: counts, rows x columns (a DataFrame, a Series or an Arrow table; text
            columns are taken as the row labels unless `labels` says otherwise).
        profile: a name from `PROFILES` or a `DisclosureProfile` (`custom_profile`).
        contributions: for dominance profiles, each cell's contributions by its
            contributors (e.g. per site), keyed by (row label, column label).
        name: how the table is named in the log and messages.
        totals: add a `Total` row and column (true totals, protected like any cell).
            Secondary suppression assumes totals are known either way.
        labels: the columns that label the rows (a numeric `ward_code` included); they
            become the row index and are never summed.
        counts: the columns holding counts; with `labels` or `counts` given, every
            column must be named in one of them.

    Raises:
        DisclosureRefused: when no non-zero cell can survive, with the reason.

    Example:
        >>> counts = pd.DataFrame({"2024": [3, 40], "2025": [12, 51]}, index=["A", "B"])
        >>> protected = apply_disclosure_control(counts, "suppress-1-10")
        >>> protected.display()  # 3 hidden, with the A total, the 2024 total and the grand total
    """
    rules = get_profile(profile)
    frame = _as_frame(table, labels, counts)
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

    primary = _primary(grid, present, rules, frame, contributions)
    attempts = []
    # Cells first (totals stay published); if that would hide every non-zero cell, the
    # same protection with totals hidden first (a 2x2 table with one small cell).
    for prefer_totals in (False, True):
        hidden, marks = _protect(grid, present, primary, rules.min_count, prefer_totals)
        attempts.append((hidden, marks))
        if not (cells > 0).any() or ((cells > 0) & ~hidden[:n_rows, :n_cols]).any():
            break
    else:
        hidden, marks = attempts[0]
        notes = [SuppressionNote(_label(frame.index, r), _label(frame.columns, c), rule, why)
                 for (r, c), rule, why in marks]  # fmt: skip
        raise DisclosureRefused(
            f"every non-zero cell of {name} would be suppressed under profile {rules.name} "
            f"({rules.description}), whether the cells or the totals protect the hidden "
            f"ones: no published value can leave each hidden one an interval of "
            f"{rules.min_count} or more; refusing to publish an empty table — aggregate to "
            "larger groups (fewer rows or columns, a longer period, a larger area)",
            notes,
        )
    notes = [SuppressionNote(_label(frame.index, r), _label(frame.columns, c), rule, why)
             for (r, c), rule, why in marks]  # fmt: skip

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


Cell = tuple[int, int]
Mark = tuple[Cell, str, str]  # a hidden cell, its rule and the reason


def _primary(
    grid: np.ndarray[Any, Any],
    present: np.ndarray[Any, Any],
    rules: DisclosureProfile,
    frame: pd.DataFrame,
    contributions: Mapping[tuple[Hashable, Hashable], Sequence[float]] | None,
) -> list[Mark]:
    """The cells the profile's own rules hide: small counts, zeros, dominated cells."""
    marks: list[Mark] = []
    small = present & (grid > 0) & (grid < rules.min_count)
    for r, c in zip(*np.nonzero(small), strict=True):
        marks.append(
            ((int(r), int(c)), "threshold", f"count is between 1 and {rules.min_count - 1}")
        )
    if rules.suppress_zeros:
        for r, c in zip(*np.nonzero(present & (grid == 0)), strict=True):
            marks.append(((int(r), int(c)), "zero", "zeros are disclosive under this profile"))
    if rules.dominance_n is not None and rules.dominance_k is not None:
        if contributions is None:
            raise ValueError(f"profile {rules.name} checks dominance: pass contributions")
        taken = {cell for cell, _, _ in marks}
        for (row, col), values in contributions.items():
            r, c = frame.index.get_loc(row), frame.columns.get_loc(col)
            if not isinstance(r, int) or not isinstance(c, int):
                raise ValueError(f"contribution key {(row, col)!r} does not name one cell")
            if (r, c) not in taken and _dominated(values, rules.dominance_n, rules.dominance_k):
                why = (
                    f"the {rules.dominance_n} largest contributions exceed "
                    f"{rules.dominance_k:.0%} of the cell"
                )
                marks.append(((r, c), "dominance", why))
    return marks


def _protect(
    grid: np.ndarray[Any, Any],
    present: np.ndarray[Any, Any],
    primary: Sequence[Mark],
    width: int,
    prefer_totals: bool,
) -> tuple[np.ndarray[Any, Any], list[Mark]]:
    """The hidden mask and its log: the primary cells, then secondary suppression until
    every hidden value's feasible interval is at least `width` wide."""
    hidden = np.zeros_like(present)
    marks: list[Mark] = []

    def hide(cell: Cell, rule: str, reason: str) -> None:
        hidden[cell] = True
        marks.append((cell, rule, reason))

    for cell, rule, reason in primary:
        hide(cell, rule, reason)
    _line_suppression(grid, present, hidden, hide, prefer_totals)
    _interval_suppression(grid, present, hidden, hide, width, prefer_totals)
    return hidden, marks


def _lines(present: np.ndarray[Any, Any]) -> list[tuple[bool, list[Cell]]]:
    """Every row and column that has a total, as (is a row, its cells, total last)."""
    n_rows, n_cols = present.shape[0] - 1, present.shape[1] - 1
    lines: list[tuple[bool, list[Cell]]] = []
    for r in range(n_rows + 1):
        if present[r, n_cols]:
            lines.append((True, [(r, c) for c in range(n_cols + 1) if present[r, c]]))
    for c in range(n_cols + 1):
        if present[n_rows, c]:
            lines.append((False, [(r, c) for r in range(n_rows + 1) if present[r, c]]))
    return lines


def _cost(
    grid: np.ndarray[Any, Any],
    hidden: np.ndarray[Any, Any],
    p: Cell,
    along_row: bool | None,
    prefer_totals: bool,
) -> tuple[int, int, int, int, Cell]:
    """How much hiding `p` costs the table (smaller is better): a total (or, when totals go
    first, an inner cell); one whose other line hides nothing yet; a zero; its size."""
    n_rows, n_cols = grid.shape[0] - 1, grid.shape[1] - 1
    is_total = p[0] == n_rows or p[1] == n_cols
    if along_row is None:
        crossing = bool(hidden[p[0], :].any() or hidden[:, p[1]].any())
    else:
        crossing = bool(hidden[:, p[1]].any() if along_row else hidden[p[0], :].any())
    return (int(is_total != prefer_totals), int(not crossing), int(grid[p] == 0), int(grid[p]), p)


def _line_suppression(
    grid: np.ndarray[Any, Any],
    present: np.ndarray[Any, Any],
    hidden: np.ndarray[Any, Any],
    hide: Callable[[Cell, str, str], None],
    prefer_totals: bool,
) -> None:
    """Hide more values until no line (a row or column with its total) has exactly one.

    A line's values sum to its total (its last member). With one value hidden, it equals
    the total minus the rest. The value added is the cheapest by `_cost`; preferring one
    whose other line already hides a value mends both lines at once (the classic rectangle
    of four cells). This is fast and usually enough; `_interval_suppression` checks it.
    """
    lines = _lines(present)
    changed = True
    while changed:
        changed = False
        for along_row, line in lines:
            if sum(1 for p in line if hidden[p]) != 1:
                continue
            choice = min(
                (p for p in line if not hidden[p]),
                key=lambda p: _cost(grid, hidden, p, along_row, prefer_totals),
            )
            where = "row" if along_row else "column"
            hide(
                choice,
                "secondary",
                f"hidden so the cell hidden in the same {where} cannot be recovered from the total",
            )
            changed = True


def feasible_intervals(
    grid: np.ndarray[Any, Any],
    present: np.ndarray[Any, Any],
    hidden: np.ndarray[Any, Any],
    *,
    only: Sequence[Cell] | None = None,
) -> dict[Cell, tuple[float, float]]:
    """What an attacker can work out about each hidden value: its (lowest, highest).

    The attacker knows every published value, that each line's values sum to its total,
    and that counts are never negative; the bounds are two linear programmes per hidden
    value (HiGHS, through scipy). The constraint matrix of a table with margins is totally
    unimodular, so the bounds are whole numbers and the integer answer is the same. An
    upper bound that nothing limits is `inf`. `only` bounds just those hidden cells.
    """
    from scipy.optimize import linprog  # imported here: only the gate needs scipy

    cells = [(int(r), int(c)) for r, c in zip(*np.nonzero(hidden & present), strict=True)]
    if not cells:
        return {}
    column = {cell: i for i, cell in enumerate(cells)}
    rows_a: list[np.ndarray[Any, Any]] = []
    rows_b: list[float] = []
    for _, line in _lines(present):
        if not any(hidden[p] for p in line):
            continue
        coefficients = np.zeros(len(cells))
        known = 0.0
        for p in line:
            sign = -1.0 if p == line[-1] else 1.0  # the members minus the total make zero
            if hidden[p]:
                coefficients[column[p]] = sign
            else:
                known += sign * float(grid[p])
        rows_a.append(coefficients)
        rows_b.append(-known)
    a_eq = np.vstack(rows_a) if rows_a else None
    b_eq = np.array(rows_b) if rows_b else None
    intervals: dict[Cell, tuple[float, float]] = {}
    for cell, i in column.items():
        if only is not None and cell not in only:
            continue
        objective = np.zeros(len(cells))
        objective[i] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if low.status != 0 or high.status not in (0, 3):
            raise RuntimeError(f"the interval of cell {cell} could not be computed: {low.message}")
        intervals[cell] = (float(low.fun), float("inf") if high.status == 3 else float(-high.fun))
    return intervals


def _narrow(
    grid: np.ndarray[Any, Any],
    present: np.ndarray[Any, Any],
    hidden: np.ndarray[Any, Any],
    width: int,
    wide: set[Cell],
) -> list[tuple[float, Cell]]:
    """The hidden cells narrower than `width`, narrowest first. Cells in `wide` are known
    wide enough already (hiding more only widens), and those found wide are added to it."""
    pending = [
        (int(r), int(c))
        for r, c in zip(*np.nonzero(hidden & present), strict=True)
        if (int(r), int(c)) not in wide
    ]
    found = feasible_intervals(grid, present, hidden, only=pending) if pending else {}
    narrow = []
    for cell, (low, high) in found.items():
        if high - low < width - 1e-9:
            narrow.append((high - low, cell))
        else:
            wide.add(cell)
    return sorted(narrow)


def _interval_suppression(
    grid: np.ndarray[Any, Any],
    present: np.ndarray[Any, Any],
    hidden: np.ndarray[Any, Any],
    hide: Callable[[Cell, str, str], None],
    width: int,
    prefer_totals: bool,
) -> None:
    """Hide more values until every hidden value's feasible interval is `width` or wider.

    Line suppression stops a single subtraction; this stops combining lines (in
    [[0,9,12,12],[0,0,5,6],[0,0,0,4]] under suppress-1-10 two row totals and two column
    totals pin the hidden 5 exactly). The narrowest hidden value is widened first, by
    hiding the cheapest value of its own row or column that makes it wide enough (else the
    one that widens it most); hiding more only ever widens intervals, so it ends.
    """
    wide: set[Cell] = set()
    narrow = _narrow(grid, present, hidden, width, wide)
    while narrow:
        _, (r, c) = narrow[0]
        candidates = [
            p
            for p in [
                *((r, j) for j in range(grid.shape[1])),
                *((i, c) for i in range(grid.shape[0])),
            ]
            if present[p] and not hidden[p]
        ] or [(int(i), int(j)) for i, j in zip(*np.nonzero(present & ~hidden), strict=True)]
        if not candidates:
            return  # everything is hidden: the caller refuses the table
        candidates = sorted(
            set(candidates), key=lambda p: _cost(grid, hidden, p, None, prefer_totals)
        )
        best, best_width = candidates[0], -1.0
        for p in candidates:
            hidden[p] = True
            low, high = feasible_intervals(grid, present, hidden, only=[(r, c)])[(r, c)]
            hidden[p] = False
            if high - low > best_width:
                best, best_width = p, high - low
            if high - low >= width:
                break
        hide(
            best,
            "secondary",
            "hidden so no combination of the published totals narrows a hidden cell to less "
            f"than {width}",
        )
        narrow = _narrow(grid, present, hidden, width, wide)


def suppression_log_frame(protected: ProtectedTable) -> pd.DataFrame:
    """The log as a table (row, column, rule, reason), e.g. to save beside an output."""
    return pd.DataFrame(
        [(n.row, n.column, n.rule, n.reason) for n in protected.log],
        columns=["row", "column", "rule", "reason"],
    )
