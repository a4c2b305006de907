"""Formatting arrays the way partners' systems print them, straight into Arrow arrays.

Empty values become nulls, which the CSV writer prints as nothing and the Excel writer
leaves as empty cells.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sectorlink.synth.mess import Identities


def text(values: np.ndarray) -> pa.Array:
    """Strings, with '' as null."""
    arr = pa.array(np.asarray(values, dtype=str))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def date(days: np.ndarray, fmt: str) -> pa.Array:
    """datetime64[D] (NaT -> null) printed with a strftime format."""
    arr = pa.array(np.asarray(days, dtype="datetime64[D]"))
    return pc.strftime(pc.cast(arr, pa.timestamp("s")), format=fmt)


def datetime(ts: np.ndarray, fmt: str) -> pa.Array:
    arr = pa.array(np.asarray(ts, dtype="datetime64[s]"))
    return pc.strftime(arr, format=fmt)


def utc_datetime(ts: np.ndarray, zone: str) -> pa.Array:
    """Local times in `zone` printed as the UTC instant, ISO 8601 with a Z, as a system that
    keeps UTC (an ambulance dispatch system) exports them. DuckDB converts (with its own
    time zone data): a local time in the hour skipped when clocks go forward is read as an
    hour later, and one in the repeated hour as its second (after the clocks went back)."""
    import duckdb

    local = pa.table({"t": pa.array(np.asarray(ts, dtype="datetime64[s]"))})
    with duckdb.connect() as con:
        con.register("local_times", local)
        utc = con.sql(
            "SELECT strftime(timezone('UTC', timezone($zone, t)), '%Y-%m-%dT%H:%M:%SZ') "
            "FROM local_times",
            params={"zone": zone},
        ).to_arrow_table()
    return utc.column(0).combine_chunks()


def number(values: np.ndarray, decimals: int | None = None) -> pa.Array:
    """Numbers as text; NaN (or negative for integers) -> null."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        missing = np.isnan(values)
        shown = np.round(values, decimals) if decimals is not None else values
        out = (
            np.char.mod(f"%.{decimals}f", np.where(missing, 0, shown))
            if decimals is not None
            else np.where(missing, "", shown.astype(str))
        )
        return text(np.where(missing, "", out))
    return text(np.where(values < 0, "", values.astype(str)))


def choose(codes: np.ndarray, labels: tuple[str, ...] | list[str] | np.ndarray) -> pa.Array:
    """Label of each integer code; codes outside the labels -> null."""
    labels_arr = np.array([*labels, ""])
    codes = np.asarray(codes)
    safe = np.where((codes >= 0) & (codes < len(labels_arr) - 1), codes, len(labels_arr) - 1)
    return text(labels_arr[safe])


def flag(values: np.ndarray, yes: str, no: str, unknown: np.ndarray | None = None) -> pa.Array:
    out = np.where(np.asarray(values, bool), yes, no)
    if unknown is not None:
        out = np.where(unknown, "", out)
    return text(out)


def dob(ids: Identities, fmt: str, year_only: str = "year") -> pa.Array:
    """Date of birth as recorded: a full date, the year alone ('year') or 1 January of the
    year ('jan1', for systems that insist on a full date), or null."""
    full = np.where(np.isnat(ids.dob), "", np.asarray(date(ids.dob, fmt).fill_null(""), dtype=str))
    has_year = ids.birth_year >= 0
    if year_only == "jan1":
        jan1 = (
            (np.maximum(ids.birth_year, 1900) - 1970)
            .astype("datetime64[Y]")
            .astype("datetime64[D]")
        )
        year_text = np.asarray(date(jan1, fmt).fill_null(""), dtype=str)
    else:
        year_text = ids.birth_year.astype(str)
    return text(np.where(has_year, year_text, full))


def age(ids: Identities) -> pa.Array:
    return number(ids.age)


def full_name(ids: Identities, style: str, upper_surname: bool = False) -> pa.Array:
    """'SMITH, John Paul' (surname_comma), 'Mr John Paul Smith' (title_first) or
    'John Paul Smith' (first_last)."""
    family = np.char.upper(ids.family) if upper_surname else ids.family
    forenames = np.char.strip(np.char.add(np.char.add(ids.given, " "), ids.middle))
    if style == "surname_comma":
        return text(np.char.add(np.char.add(family, ", "), forenames))
    first_last = np.char.add(np.char.add(forenames, " "), family)
    if style == "title_first":
        return text(np.char.add(np.char.add(ids.title, " "), first_last))
    return text(first_last)


def phone(numbers: np.ndarray, style: str) -> pa.Array:
    """UK numbers: 'plain' 07700900123, 'spaced' 07700 900123, 'intl' +44 7700 900123."""
    numbers = np.asarray(numbers, dtype=str)
    if style == "plain":
        return text(numbers)
    head = numbers.astype("<U5")
    tail = _slice_from(numbers, 5)
    spaced = np.char.add(np.char.add(head, " "), tail)
    if style == "intl":
        spaced = np.char.add("+44 ", _slice_from(spaced, 1))
    return text(np.where(numbers == "", "", spaced))


def _slice_from(values: np.ndarray, start: int) -> np.ndarray:
    """values[i][start:] for every string, without a Python loop."""
    arr = pa.array(np.asarray(values, dtype=str))
    return np.asarray(pc.utf8_slice_codeunits(arr, start), dtype=str)


def nhs_spaced(numbers: np.ndarray) -> pa.Array:
    """'943 476 5919'."""
    numbers = np.asarray(numbers, dtype=str)
    arr = pa.array(numbers)
    parts = [pc.utf8_slice_codeunits(arr, a, b) for a, b in ((0, 3), (3, 6), (6, 10))]
    joined = np.asarray(pc.binary_join_element_wise(*parts, " "), dtype=str)
    return text(np.where(numbers == "", "", joined))


def lookup(values: np.ndarray, mapping: dict[str, str], default: str = "") -> np.ndarray:
    """mapping[value] for each value (default where absent), without a Python loop."""
    values = np.asarray(values, dtype=str)
    keys = np.array(list(mapping), dtype=str)
    out_values = np.array([*mapping.values(), default], dtype=str)
    if len(values) == 0 or len(keys) == 0:
        return np.full(len(values), default, dtype=str)
    sorter = np.argsort(keys)
    pos = np.searchsorted(keys, values, sorter=sorter).clip(0, len(keys) - 1)
    idx = sorter[pos]
    return np.where(keys[idx] == values, out_values[idx], default)
