"""Rows that ingest must reject, values it must set empty, and the truth naming each.

Real extracts carry rows no hub should load: an event whose date does not exist or was
keyed wrongly into the future, a row without its id, a row the partner's system sent
twice, an event of a person missing from the person file. Each kind has a rate in
:class:`~sectorlink.synth.config.MessConfig`. Its rows are added on top of a file's rows:
a copy of one of the file's rows (a real person's row, so it looks like the rest) given
fresh ids and the defect, placed somewhere in the chunk (a resent row after its original).
The rows that load are therefore exactly the rows the file would hold without these
kinds, so every truth file stays exact against what ingest loads, and
`truth/expected_rejects.csv` lists each added row with the row number ingest gives it.

An impossible birth date is no reason to reject a row: ingest sets it empty, records a
field issue, and loads the row. So where a file has a birth date, `invalid_date` writes it
into one of the file's own rows instead of adding one (the record is in
`truth/person_records.csv` like any other), and `truth/expected_field_issues.csv` lists it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sectorlink.synth import fmt
from sectorlink.synth.config import MessConfig
from sectorlink.synth.identifiers import format_ids

if TYPE_CHECKING:
    from sectorlink.synth.partners.base import IdSpace

KINDS = ("invalid_date", "future_date", "missing_record_id", "resent_row", "orphan_event")
"""Kinds of rejected row, in the order they are drawn; each is also a MessConfig rate."""
REPEATED_HEADER = "repeated_header"
"""The kind of a header line inside a file joined from several exports (no rate: one per
chunk of a file whose layout says so)."""
COLUMNS = ("file", "source_row", "source", "record_id", "kind", "column")
"""Columns of truth/expected_rejects.csv and truth/expected_field_issues.csv."""
LEVEL = "level"
"""A column of the expected table between here and the truth writer: `reject` (the row is
rejected) or `field` (a value is set empty, the row loads). Not written to the files."""
RESENT_GAP = 30
"""A resent row comes within this many rows after its original."""
# Day and month pairs that no calendar has (29 February is left out: it exists in leap years).
IMPOSSIBLE = np.array([(30, 2), (31, 2), (31, 4), (31, 6), (31, 9), (31, 11)])
MONTH_ABBR = np.array(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
)
_TOKEN = re.compile(r"%[a-zA-Z]|[^%]")
_WIDTH = {"%d": 2, "%m": 2, "%Y": 4, "%b": 3, "%H": 2, "%M": 2, "%S": 2}


@dataclass(frozen=True)
class IdColumn:
    """A column of ids a partner issues: where new values come from and how they look."""

    column: str
    key: str
    """The id space (IdSpace key) the partner's own ids of this column come from."""
    prefix: str
    width: int


@dataclass(frozen=True)
class DateColumn:
    column: str
    format: str
    """strftime format as the file writes it (fixed-width fields only)."""


@dataclass(frozen=True)
class RejectTargets:
    """Where each kind of rejected row puts its defect in one extract file."""

    record: str
    """The column of the spec's record id (in an events-only file, the person reference;
    in a stand-alone table, the table's key): blanked by `missing_record_id`."""
    fresh: tuple[IdColumn, ...] = ()
    """Key columns a new row needs its own values in (record id, event id)."""
    birth_date: DateColumn | None = None
    """Where `invalid_date` writes an impossible date, into rows of the file (a field
    issue); without one, it adds rows with one in `event_date` (rejects)."""
    event_date: DateColumn | None = None
    """The event's start: `future_date` changes its year (and `invalid_date` its day when
    the file has no birth date)."""
    person_ref: IdColumn | None = None
    """Events-only files: the reference to the person file, which `orphan_event` points at
    an id the person file never had."""
    changed: str | None = None
    """A column a resent row may carry changed (half of them do)."""

    def column_of(self, kind: str) -> str | None:
        """The column that carries the defect of `kind`, or None when it cannot apply."""
        if kind == "invalid_date":
            target = self.birth_date or self.event_date
            return target.column if target else None
        if kind == "future_date":
            return self.event_date.column if self.event_date else None
        if kind == "orphan_event":
            return self.person_ref.column if self.person_ref else None
        if kind == "resent_row" and self.person_ref is not None and self.fresh:
            return self.fresh[0].column  # an events-only file repeats its event id
        return self.record


def empty_truth(*, with_level: bool = False) -> pa.Table:
    names = (*COLUMNS, LEVEL) if with_level else COLUMNS
    return pa.table(
        {name: pa.array([], pa.int64() if name == "source_row" else pa.string()) for name in names}
    )


def with_repeated_header(
    expected: pa.Table, row: int, *, file: str, source: str, record_id: str
) -> pa.Table:
    """Expected rejects once a header line is written at `row`: rows from there on move
    down one, and the header line itself is rejected (its record id cell holds the name)."""
    rows = expected["source_row"].combine_chunks()
    moved = pc.if_else(pc.greater_equal(rows, row), pc.add(rows, 1), rows)
    header = pa.table(
        {
            "file": [file],
            "source_row": pa.array([row], pa.int64()),
            "source": [source],
            "record_id": [record_id],
            "kind": [REPEATED_HEADER],
            "column": [""],
            LEVEL: ["reject"],
        }
    )
    moved_table = expected.set_column(COLUMNS.index("source_row"), "source_row", moved)
    out = pa.concat_tables([moved_table, header])
    return out.take(pc.sort_indices(out["source_row"]))


def add_reject_rows(
    table: pa.Table,
    targets: RejectTargets,
    *,
    source: str,
    file: str,
    mess: MessConfig,
    rng: np.random.Generator,
    id_space: IdSpace,
    first_row: int,
) -> tuple[pa.Table, pa.Table]:
    """`table` with the rows ingest must reject added, and their truth rows.

    `first_row` is the row number ingest gives the table's first row (2 for the first
    chunk of a file with a header). Returns (rows to write, expected rejects and field
    issues, told apart by their `level` column).
    """
    n = table.num_rows
    if n == 0:
        return table, empty_truth(with_level=True)
    extras: list[pa.Table] = []
    damaged = np.zeros(0, dtype=np.int64)  # rows whose birth date is made impossible
    keys: list[np.ndarray] = [2 * np.arange(n, dtype=np.int64) + 1]
    kinds: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    for kind in KINDS:
        rate = float(getattr(mess, kind))
        column = targets.column_of(kind)
        if rate <= 0 or column is None:
            continue
        count = int(rng.binomial(n, rate))
        if count == 0:
            continue
        candidates = np.arange(n)
        if kind == "future_date":
            assert targets.event_date is not None
            candidates = np.flatnonzero(
                _future_ok(_cells(table, targets.event_date.column), targets.event_date.format)
            )
            if len(candidates) == 0:
                continue
        if kind == "invalid_date" and targets.birth_date is not None:
            # An optional field: ingest sets it empty and loads the row, so the defect goes
            # into rows of the file (after the copies below are taken from them).
            damaged = np.sort(rng.choice(n, size=min(count, n), replace=False))
            continue
        src = candidates[rng.integers(0, len(candidates), count)]
        extra = table.take(pa.array(src))
        if kind == "resent_row":
            after = np.minimum(src + rng.integers(0, RESENT_GAP, count), n - 1)
            if targets.changed is not None:
                changed = rng.random(count) < 0.5
                other = rng.integers(0, n, count)
                values = table[targets.changed].take(pa.array(other)).combine_chunks()
                kept = extra[targets.changed].combine_chunks()
                extra = _set(extra, targets.changed, pc.if_else(pa.array(changed), values, kept))
        else:
            after = rng.integers(-1, n, count)
            for id_column in targets.fresh:
                numbers = id_space.tail(id_column.key, count, 10**id_column.width)
                extra = _set(
                    extra, id_column.column, format_ids(numbers, id_column.prefix, id_column.width)
                )
            extra = _apply(kind, extra, targets, rng, id_space, count)
        extras.append(extra)
        keys.append(2 * after.astype(np.int64) + 2)
        kinds.append(np.full(count, kind))
        columns.append(np.full(count, column))
    if len(damaged):
        assert targets.birth_date is not None
        birth = targets.birth_date
        victims = table.take(pa.array(damaged))
        cells = _cells(table, birth.column).astype(object)  # no fixed width to cut values to
        cells[damaged] = impossible_dates(_cells(victims, birth.column), birth.format, rng)
        table = _set(table, birth.column, cells)
    if extras:
        order = np.argsort(np.concatenate(keys), kind="stable")
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        added = pa.concat_tables(extras)
        out = pa.concat_tables([table, added]).take(pa.array(order))
        truth = _truth(
            added, targets.record, file, source, np.concatenate(kinds),
            np.concatenate(columns), first_row + position[n:], "reject",
        )  # fmt: skip
    else:
        out, position, truth = table, np.arange(n), empty_truth(with_level=True)
    if len(damaged):
        assert targets.birth_date is not None
        issues = _truth(
            victims, targets.record, file, source, np.full(len(damaged), "invalid_date"),
            np.full(len(damaged), targets.birth_date.column), first_row + position[damaged],
            "field",
        )  # fmt: skip
        truth = pa.concat_tables([truth, issues])
    return out, truth.take(pc.sort_indices(truth["source_row"]))


def _truth(
    rows: pa.Table,
    record: str,
    file: str,
    source: str,
    kinds: np.ndarray,
    columns: np.ndarray,
    source_rows: np.ndarray,
    level: str,
) -> pa.Table:
    """Expected-truth rows for `rows` of the file, at `source_rows`."""
    n = rows.num_rows
    return pa.table(
        {
            "file": fmt.text(np.full(n, file)),
            "source_row": pa.array(source_rows.astype(np.int64)),
            "source": fmt.text(np.full(n, source)),
            "record_id": pc.fill_null(rows[record].combine_chunks().cast(pa.string()), ""),
            "kind": fmt.text(kinds),
            "column": fmt.text(columns),
            LEVEL: fmt.text(np.full(n, level)),
        }
    )


def _apply(
    kind: str,
    extra: pa.Table,
    targets: RejectTargets,
    rng: np.random.Generator,
    id_space: IdSpace,
    count: int,
) -> pa.Table:
    """Put the defect of `kind` into the new rows."""
    if kind == "invalid_date":  # in an event's date (a birth date is made in place)
        target = targets.event_date
        assert target is not None and targets.birth_date is None
        cells = _cells(extra, target.column)
        return _set(extra, target.column, impossible_dates(cells, target.format, rng))
    if kind == "future_date":
        assert targets.event_date is not None
        cells = _cells(extra, targets.event_date.column)
        return _set(
            extra, targets.event_date.column, future_years(cells, targets.event_date.format)
        )
    if kind == "missing_record_id":
        return _set(extra, targets.record, np.full(count, ""))
    if kind == "orphan_event":
        ref = targets.person_ref
        assert ref is not None
        numbers = id_space.tail(ref.key, count, 10**ref.width)
        return _set(extra, ref.column, format_ids(numbers, ref.prefix, ref.width))
    raise AssertionError(kind)


def _cells(table: pa.Table, column: str) -> np.ndarray:
    arr = pc.fill_null(table[column].combine_chunks().cast(pa.string()), "")
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=str)


def _set(table: pa.Table, column: str, values: np.ndarray | pa.Array) -> pa.Table:
    i = table.schema.get_field_index(column)
    arr = values if isinstance(values, pa.Array) else fmt.text(values)
    return table.set_column(i, table.schema.field(i), arr.cast(table.schema.field(i).type))


# --- dates as text, field by field ------------------------------------------------------------
def _fields(format: str) -> tuple[list[tuple[str, int]], int]:
    """The format's tokens with their offsets in a formatted value, and its length."""
    out, at = [], 0
    for token in _TOKEN.findall(format):
        out.append((token, at))
        at += _WIDTH.get(token, 1)
    return out, at


def _slice(values: np.ndarray, start: int, width: int) -> np.ndarray:
    arr = pc.utf8_slice_codeunits(pa.array(values, pa.string()), start, start + width)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=str)


def _render(format: str, base: np.ndarray, fields: dict[str, np.ndarray]) -> np.ndarray:
    """Values in `format` with some fields replaced; others copied from `base` (all full)."""
    tokens, _ = _fields(format)
    out = np.full(len(base), "")
    for token, at in tokens:
        if token in fields:
            part = fields[token]
        elif token in _WIDTH:
            part = _slice(base, at, _WIDTH[token])
        else:
            part = np.full(len(base), token)
        out = np.char.add(out, part)
    return out


def _full(cells: np.ndarray, format: str) -> np.ndarray:
    _, length = _fields(format)
    return np.asarray(np.char.str_len(cells) == length)


def impossible_dates(cells: np.ndarray, format: str, rng: np.random.Generator) -> np.ndarray:
    """A date that does not exist (31/02/1985) in `format`, in the year of each cell when it
    shows one (a full value, or a bare year), else in a plausible year of birth."""
    n = len(cells)
    tokens, _ = _fields(format)
    offset = dict(tokens)
    full = _full(cells, format)
    year = np.where(
        full, _slice(cells, offset["%Y"], 4), np.where(np.char.str_len(cells) == 4, cells, "")
    )
    year = np.where(np.char.isdigit(year), year, rng.integers(1940, 2009, n).astype(str))
    pick = IMPOSSIBLE[rng.integers(0, len(IMPOSSIBLE), n)]
    # Other fields (a time of day) come from the cell when it is full, else 00.
    base = np.where(full, cells, _render(format, np.full(n, ""), _zero_fields(tokens, n)))
    fields = {
        "%d": np.char.zfill(pick[:, 0].astype(str), 2),
        "%m": np.char.zfill(pick[:, 1].astype(str), 2),
        "%b": MONTH_ABBR[pick[:, 1] - 1],
        "%Y": year,
    }
    return _render(format, base, {k: v for k, v in fields.items() if k in offset})


def _zero_fields(tokens: list[tuple[str, int]], n: int) -> dict[str, np.ndarray]:
    return {t: np.full(n, "0" * _WIDTH[t]) for t, _ in tokens if t in _WIDTH}


def future_year(year: np.ndarray) -> np.ndarray:
    """A typo that moves a four-digit year well into the future: its last two digits
    transposed when that lands in 2040 or later (2025 -> 2052), else its first digit
    keyed as the next key on the number row (2021 -> 3021, 1998 -> 2998)."""
    swapped = np.char.add(_slice(year, 0, 2), np.char.add(_slice(year, 3, 1), _slice(year, 2, 1)))
    bumped = np.char.add((year.astype("<U1").astype(np.int64) + 1).astype(str), _slice(year, 1, 3))
    return np.where(swapped.astype(np.int64) >= 2040, swapped, bumped)


def future_years(cells: np.ndarray, format: str) -> np.ndarray:
    """Each full value of `format` with its year moved into the future by a typo."""
    offset = dict(_fields(format)[0])
    return _render(format, cells, {"%Y": future_year(_slice(cells, offset["%Y"], 4))})


def _future_ok(cells: np.ndarray, format: str) -> np.ndarray:
    """Rows whose date can take a future year and stay a real date (not 29 February)."""
    offset = dict(_fields(format)[0])
    ok = _full(cells, format)
    if "%d" in offset:
        day = _slice(cells, offset["%d"], 2)
        month = _slice(cells, offset["%m"], 2) if "%m" in offset else _slice(cells, offset["%b"], 3)
        ok &= ~((day == "29") & np.isin(month, ["02", "Feb"]))
    return np.asarray(ok)
