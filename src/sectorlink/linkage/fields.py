"""Which standardised fields hold values, overall and per source.

Everything downstream (comparisons, blocking rules, training rules) is chosen from this
profile, so a partner that never sends a birth date still links on what it does send.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from sectorlink.linkage.errors import LinkageInputError
from sectorlink.model.catalogue import columns_with_role

# Standardised columns the linkage model may use (the linkage input's `compared` role).
LINKAGE_FIELDS = columns_with_role("compared")

# Fields that identify a person on their own or together; a source with none of them
# cannot be linked. Sex, postcode and birth year alone describe too many people.
IDENTIFYING = columns_with_role("identifying")

# A field with fewer values than this across all sources is left out of the model:
# its m and u could not be estimated and it would only add noise. (On tiny data the bar
# is lower: two values are enough to compare.)
MIN_VALUES = 5


@dataclass
class FieldProfile:
    records: int
    sources: dict[str, int]
    counts: dict[str, int]
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def present(self) -> set[str]:
        bar = min(MIN_VALUES, max(2, self.records // 2))
        return {f for f, n in self.counts.items() if n >= bar}

    @property
    def all_null(self) -> list[str]:
        return sorted(f for f, n in self.counts.items() if n == 0)

    def completeness(self, name: str) -> float:
        return self.counts.get(name, 0) / self.records if self.records else 0.0


def profile_fields(con: duckdb.DuckDBPyConnection, table: str) -> FieldProfile:
    """Non-null counts of each linkage field per source."""
    counts_sql = ", ".join(f"count({f}) AS {f}" for f in LINKAGE_FIELDS)
    rows = con.execute(
        f"SELECT source, count(*) AS records, {counts_sql} FROM {table} "
        "GROUP BY source ORDER BY source"
    ).fetchall()
    by_source = {
        r[0]: dict(zip(LINKAGE_FIELDS, (int(v) for v in r[2:]), strict=True)) for r in rows
    }
    sources = {r[0]: int(r[1]) for r in rows}
    totals = {f: sum(s[f] for s in by_source.values()) for f in LINKAGE_FIELDS}
    return FieldProfile(sum(sources.values()), sources, totals, by_source)


def check_linkable(profile: FieldProfile) -> None:
    """Raise with a clear message when there is nothing to link, or a source has no
    identifying field at all."""
    if profile.records == 0:
        raise LinkageInputError(
            "the warehouse has no person records; "
            "load partner extracts with `sectorlink ingest` first"
        )
    unusable = [
        source
        for source, counts in profile.by_source.items()
        if not any(counts[f] for f in IDENTIFYING)
    ]
    if unusable:
        names = ", ".join(unusable)
        raise LinkageInputError(
            f"source {names} has no usable identifier (no name, birth date, address, national "
            "number, phone or email in any record); fix its mapping spec or leave it out"
        )
