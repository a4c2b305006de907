"""What every partner layout shares: the file description, the spec, the render context.

A partner module defines a :class:`Partner` (who it is, its files and their mapping
specs) and a render function that turns the chunk's event streams into the rows of its
files, in its own columns and formats, recording which person each record is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from sectorlink.synth.config import MessConfig
from sectorlink.synth.geography import Region
from sectorlink.synth.identifiers import IdPermutation, format_ids
from sectorlink.synth.mess import Habits, Identities, make_identities
from sectorlink.synth.population import People
from sectorlink.synth.rejects import RejectTargets
from sectorlink.synth.rng import stream
from sectorlink.synth.streams import Streams

Sector = Literal[
    "health care",
    "ambulance",
    "police",
    "housing/homelessness",
    "social care",
    "benefits and debt",
    "legal",
    "public health",
]


@dataclass(frozen=True)
class FileLayout:
    """One extract file: how it is written and the mapping spec that reads it."""

    key: str
    """Unique key of the file across the region (also the spec's file name)."""
    file: str
    description: str
    spec: dict[str, Any]
    """The mapping spec, without `spec_version`, `source`, `partner` and `description`."""
    format: Literal["csv", "excel"] = "csv"
    delimiter: str = ","
    encoding: Literal["utf-8", "latin-1"] = "utf-8"
    bom: bool = False
    crlf: bool = False
    quote_all: bool = False
    sheet: str | None = None
    cover_sheet: str | None = None
    """Excel only: text of a first sheet before the data (so the spec must name the sheet)."""
    preamble: tuple[str, ...] = ()
    """CSV only: lines a reporting tool writes above the header (a title, when it ran); the
    spec's `file.header_row` skips them."""
    missing: str | None = None
    """CSV only: what the partner's system writes for an empty value (`NULL`); the spec's
    `file.missing` lists it."""
    footer: tuple[str, ...] = ()
    """CSV only: lines a reporting tool writes below the data (`{rows}` is the row count);
    the spec's `file.footer_rows` leaves out those that are not empty."""
    header_again: bool = False
    """CSV only: the file is several exports joined, each with its header, so the header
    comes again once in every chunk written (at a random row); ingest rejects those rows.
    Needs `rejects` (the truth names each such row)."""
    person_records: bool = True
    """Whether each row is a person record (listed in truth/person_records.csv)."""
    rejects: RejectTargets | None = None
    """Where rows that ingest must reject carry their defect (None: the file gets none)."""


class IdSpace:
    """Per-file id counters that persist across chunks, each with its own scrambling."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.counters: dict[str, int] = {}
        self.tails: dict[str, int] = {}
        self.perms: dict[str, IdPermutation] = {}

    def _perm(self, key: str, modulus: int) -> IdPermutation:
        if key not in self.perms:
            self.perms[key] = IdPermutation(modulus, stream(self.seed, f"ids:{key}"))
        return self.perms[key]

    def _check(self, key: str, modulus: int) -> None:
        if self.counters.get(key, 0) + self.tails.get(key, 0) > modulus:
            raise ValueError(f"id space of {key!r} exhausted ({modulus} ids)")

    def next(self, key: str, n: int, modulus: int) -> np.ndarray:
        perm = self._perm(key, modulus)
        start = self.counters.get(key, 0)
        self.counters[key] = start + n
        self._check(key, modulus)
        return perm(np.arange(start, start + n))

    def tail(self, key: str, n: int, modulus: int) -> np.ndarray:
        """`n` ids from the far end of the space: never issued by `next`, and drawing them
        leaves the ids `next` issues unchanged (rows that ingest rejects use these)."""
        perm = self._perm(key, modulus)
        start = self.tails.get(key, 0)
        self.tails[key] = start + n
        self._check(key, modulus)
        return perm(modulus - 1 - np.arange(start, start + n))


@dataclass
class ChunkContext:
    """Everything a render function needs for one chunk, and where it puts its output."""

    chunk: int
    people: People
    region: Region
    streams: Streams
    mess: MessConfig
    rng: np.random.Generator
    id_space: IdSpace
    extras: dict[str, Any]
    """Chunk facts from the generators: 'homeless_episodes', 'gp_patients', ..."""
    tables: dict[str, pa.Table] = field(default_factory=dict)
    records: list[tuple[str, str, np.ndarray, Identities]] = field(default_factory=list)
    """(source, file key, record ids, identities) of every person record written."""
    links: dict[str, np.ndarray] = field(default_factory=dict)
    """Ids given to stream rows, aligned with the stream (e.g. 'ae' -> attendance ids)."""

    def ids(self, key: str, n: int, prefix: str, width: int) -> np.ndarray:
        """`n` new ids for file `key`, unique across chunks, scrambled, e.g. NGH04819327."""
        return format_ids(self.id_space.next(key, n, 10**width), prefix, width)

    def identities(
        self, idx: np.ndarray, dates: np.ndarray, habits: Habits, homeless: np.ndarray | None = None
    ) -> Identities:
        return make_identities(
            self.people,
            idx,
            dates.astype("datetime64[D]"),
            self.region,
            habits,
            self.mess,
            self.rng,
            homeless,
        )

    def record(self, source: str, key: str, record_ids: np.ndarray, ids: Identities) -> None:
        self.records.append((source, key, record_ids, ids))

    def link(self, name: str, order: np.ndarray, ids: np.ndarray) -> None:
        """Store ids given to stream rows in `order` back in stream order."""
        aligned = np.empty(len(order), dtype=ids.dtype if len(ids) else "<U1")
        aligned[order] = ids
        self.links[name] = aligned


@dataclass
class FinalContext:
    """For partners that write region-wide rows once all chunks are done."""

    region: Region
    rng: np.random.Generator
    id_space: IdSpace
    extras: dict[str, Any]
    tables: dict[str, pa.Table] = field(default_factory=dict)

    def ids(self, key: str, n: int, prefix: str, width: int) -> np.ndarray:
        return format_ids(self.id_space.next(key, n, 10**width), prefix, width)


@dataclass(frozen=True)
class Partner:
    source: str
    organisation: str
    sector: Sector
    files: tuple[FileLayout, ...]
    render: Callable[[ChunkContext], None]
    finish: Callable[[FinalContext], None] | None = None


def with_duplicates(
    pidx: np.ndarray, dates: np.ndarray, rate: float, later: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Client lists: add a second registration for a share `rate` of clients.

    Returns the person index, the record date and a duplicate flag per record. The
    duplicate is registered at `later` (a later contact), so it may show a new address.
    """
    dup = rng.random(len(pidx)) < rate
    all_pidx = np.concatenate([pidx, pidx[dup]])
    all_dates = np.concatenate([dates, later[dup]])
    flag = np.concatenate([np.zeros(len(pidx), bool), np.ones(int(dup.sum()), bool)])
    return all_pidx, all_dates, flag


def local_person_ids(
    ctx: ChunkContext, key: str, pidx: np.ndarray, rate: float, prefix: str, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """A partner's own person id on each of its records (rows in date order), and a flag.

    Each person gets one id, repeated on all their records, except that a repeat record
    (not the person's first in the file) is registered under a new id at `rate`: a
    duplicate registration at the front desk. The new id is used on that record only.
    """
    n = len(pidx)
    people, first = np.unique(pidx, return_index=True)
    repeat = np.ones(n, bool)
    repeat[first] = False
    new = repeat & (ctx.rng.random(n) < rate)
    own = ctx.ids(key, len(people), prefix, width)
    extra = ctx.ids(key, int(new.sum()), prefix, width)
    out = own[np.searchsorted(people, pidx)] if n else own
    if new.any():
        out = out.copy()
        out[new] = extra
    return out, new
