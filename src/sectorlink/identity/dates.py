"""SQL expressions for birth dates: plausibility, year-only dates, ages and swaps."""

from __future__ import annotations

# Dates some systems write when the birth date is unknown; they say nothing about a person.
PLACEHOLDER_DATES = ("1900-01-01", "1901-01-01", "1800-01-01", "1111-11-11")
# Deliberately loose: records of people long dead (registers, historical benchmarks) are
# real data; only dates no register could hold are dropped.
EARLIEST_YEAR = 1000


def plausible_birth_date(expr: str) -> str:
    """The date unless it is in the future, a placeholder or before year 1000."""
    placeholders = ", ".join(f"DATE '{d}'" for d in PLACEHOLDER_DATES)
    return (
        f"CASE WHEN {expr} >= DATE '{EARLIEST_YEAR}-01-01' AND {expr} <= current_date "
        f"AND {expr} NOT IN ({placeholders}) THEN {expr} END"
    )


def plausible_birth_year(expr: str) -> str:
    return f"CASE WHEN {expr} BETWEEN {EARLIEST_YEAR} AND year(current_date) THEN {expr} END"


def age_birth_years(age: str, at: str) -> tuple[str, str]:
    """Earliest and latest birth year of someone aged ``age`` on date ``at``.

    Aged 40 on 2024-05-01 means born between 1983-05-02 and 1984-05-01: years 1983-1984.
    """
    ok = f"{age} BETWEEN 0 AND 120 AND {at} IS NOT NULL"
    return (
        f"CASE WHEN {ok} THEN year({at}) - {age} - 1 END",
        f"CASE WHEN {ok} THEN year({at}) - {age} END",
    )


def compact(date: str) -> str:
    """YYYYMMDD text, for edit-distance comparisons (one mistyped digit)."""
    return f"strftime({date}, '%Y%m%d')"


def day_month_swapped(date: str) -> str:
    """The date read the other way round (03/04 vs 04/03), when that is a real date."""
    return (
        f"CASE WHEN day({date}) <= 12 AND day({date}) <> month({date}) "
        f"THEN strftime(make_date(year({date}), day({date}), month({date})), '%Y%m%d') END"
    )
