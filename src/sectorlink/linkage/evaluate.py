"""Evaluate the person index against a truth file (source, record_id, person_id).

Pairwise precision, recall and F1 over all within-cluster record pairs, and over the
pairs whose two records come from different sources; clusters against true persons; the
most common kinds of error, each with examples. Counting is done per group
(n(n-1)/2 pairs per cluster, per person, per cluster-person overlap), so it is linear
in the records; only the error examples enumerate pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from sectorlink.identity import standardise
from sectorlink.linkage.comparisons import BIRTH_YEAR_GAP_CONTRADICTION
from sectorlink.linkage.errors import TruthFileError
from sectorlink.linkage.sqlutil import quote_literal, scalar, table_exists
from sectorlink.linkage.store import PERSON_INDEX

TRUTH_COLUMNS = ("source", "record_id", "person_id")
EXAMPLES_PER_KIND = 3
# Error pairs enumerated for classification; beyond this a sample is classified.
MAX_ERROR_PAIRS = 200_000


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int


@dataclass
class ErrorKind:
    side: str  # "wrong link" or "missed link"
    kind: str
    pairs: int
    examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Evaluation:
    overall: Scores
    cross_source: Scores
    records: int
    clusters: int
    true_persons: int
    unknown_truth_records: int
    unknown_examples: list[str]
    records_without_truth: int
    errors: list[ErrorKind] = field(default_factory=list)


def _scores(correct: float, predicted: float, true: float) -> Scores:
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, int(predicted), int(true), int(correct))


def load_truth(con: duckdb.DuckDBPyConnection, path: Path | str, table: str = "sl_truth") -> None:
    """Read a truth CSV into a temporary table, checking its columns."""
    path = Path(path)
    if not path.exists():
        raise TruthFileError(f"truth file {path} not found")
    try:
        rel = con.sql(
            f"SELECT * FROM read_csv({quote_literal(str(path))}, header = true, all_varchar = true)"
        )
    except duckdb.Error as exc:
        raise TruthFileError(f"truth file {path} could not be read as CSV: {exc}") from None
    missing = [c for c in TRUTH_COLUMNS if c not in rel.columns]
    if missing:
        raise TruthFileError(
            f"truth file {path} lacks column(s) {', '.join(missing)}; "
            f"it needs {', '.join(TRUTH_COLUMNS)}"
        )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT DISTINCT ON (source, record_id) trim(source) AS source,
                   trim(record_id) AS record_id, trim(person_id) AS person_id
            FROM rel WHERE person_id IS NOT NULL AND trim(person_id) <> ''"""
    )


def evaluate(
    warehouse: duckdb.DuckDBPyConnection, truth: Path | str, *, with_errors: bool = True
) -> Evaluation:
    """Score the published person index against ``truth``.

    Args:
        warehouse: connection to the warehouse holding ``person_index``.
        truth: CSV with columns source, record_id, person_id (others are ignored).
        with_errors: also classify wrong and missed links (enumerates error pairs).

    Raises:
        TruthFileError: no index yet, a malformed truth file, or one naming no
            record of the index.

    Example:
        >>> ev = evaluate(duckdb.connect("hub.duckdb"), "truth.csv")  # doctest: +SKIP
        >>> ev.overall.f1, ev.cross_source.f1, ev.errors[0].kind  # doctest: +SKIP
    """
    con = warehouse
    if not table_exists(con, PERSON_INDEX) or not scalar(
        con, f"SELECT count(*) FROM {PERSON_INDEX}"
    ):
        raise TruthFileError("the warehouse has no person index yet; run `sectorlink link` first")
    load_truth(con, truth)
    unknown = con.execute(
        f"""SELECT t.source || ':' || t.record_id FROM sl_truth t
            ANTI JOIN {PERSON_INDEX} p USING (source, record_id) ORDER BY 1"""
    ).fetchall()
    matched = int(
        scalar(
            con, f"SELECT count(*) FROM sl_truth t JOIN {PERSON_INDEX} p USING (source, record_id)"
        )
        or 0
    )
    if matched == 0:
        raise TruthFileError(
            f"none of the {len(unknown)} records in the truth file is in the person index "
            f"(first: {', '.join(u[0] for u in unknown[:3])}); is it the right file?"
        )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_eval AS
            SELECT p.source, p.record_id, p.person_key, t.person_id
            FROM {PERSON_INDEX} p JOIN sl_truth t USING (source, record_id)"""
    )
    overall, cross = pair_scores(con, "sl_eval")
    counts = con.execute(
        """SELECT count(*), count(DISTINCT person_key), count(DISTINCT person_id) FROM sl_eval"""
    ).fetchall()[0]
    without = int(scalar(con, f"SELECT count(*) FROM {PERSON_INDEX}") or 0) - matched
    result = Evaluation(
        overall=overall,
        cross_source=cross,
        records=int(counts[0]),
        clusters=int(counts[1]),
        true_persons=int(counts[2]),
        unknown_truth_records=len(unknown),
        unknown_examples=[u[0] for u in unknown[:5]],
        records_without_truth=without,
    )
    if with_errors:
        result.errors = error_kinds(con)
    return result


def pair_scores(con: duckdb.DuckDBPyConnection, table: str) -> tuple[Scores, Scores]:
    """Pairwise scores (all pairs, cross-source pairs) of ``table``(source, person_key,
    person_id): any clustering against any truth, e.g. a plain Splink run's."""

    def pairs(group: str) -> tuple[float, float]:
        """All pairs and cross-source pairs inside the groups of ``group``."""
        row = con.execute(
            f"""WITH g AS (SELECT {group}, source, count(*) AS n FROM {table} GROUP BY ALL),
                t AS (SELECT sum(n) AS n, sum(n * n) AS n2_by_source FROM g GROUP BY {group})
                SELECT coalesce(sum(n * (n - 1) / 2), 0),
                       coalesce(sum((n * n - n2_by_source) / 2), 0) FROM t"""
        ).fetchall()[0]
        return float(row[0]), float(row[1])

    predicted, predicted_x = pairs("person_key")
    true, true_x = pairs("person_id")
    correct, correct_x = pairs("person_key, person_id")
    return _scores(correct, predicted, true), _scores(correct_x, predicted_x, true_x)


WRONG_LINK_KINDS = (
    ("different valid NHS numbers", "nhs_number_l <> nhs_number_r"),
    (
        "twins (same birth date, different first names)",
        "birth_date_text_l = birth_date_text_r AND given_canonical_l <> given_canonical_r",
    ),
    (
        f"parent and child (birth years {BIRTH_YEAR_GAP_CONTRADICTION}+ apart)",
        f"greatest(birth_year_min_l - birth_year_max_r, birth_year_min_r - birth_year_max_l) "
        f">= {BIRTH_YEAR_GAP_CONTRADICTION}",
    ),
    (
        "same household (family name and address or postcode)",
        "family_name_l = family_name_r AND (address_l = address_r OR postcode_l = postcode_r)",
    ),
    (
        "same name, different people",
        "given_canonical_l = given_canonical_r AND family_name_l = family_name_r",
    ),
    ("other", "true"),
)

MISSED_LINK_KINDS = (
    (
        "age or birth year only on one side",
        "(birth_precision_l <> 'day' OR birth_precision_r <> 'day') "
        "AND NOT (birth_precision_l IS NULL AND birth_precision_r IS NULL)",
    ),
    (
        "no birth date, year or age on one side",
        "birth_year_min_l IS NULL OR birth_year_min_r IS NULL",
    ),
    ("birth dates differ", "birth_date_text_l <> birth_date_text_r"),
    ("first names differ (nickname or variant)", "given_canonical_l <> given_canonical_r"),
    ("family name differs (changed or misspelt)", "family_name_l <> family_name_r"),
    (
        "moved (different postcode)",
        "postcode_l <> postcode_r OR (postcode_l IS NULL) <> (postcode_r IS NULL)",
    ),
    ("other", "true"),
)

_COLUMNS = (
    "given_name",
    "given_canonical",
    "family_name",
    "birth_date_text",
    "birth_precision",
    "birth_year_min",
    "birth_year_max",
    "postcode",
    "address",
    "nhs_number",
)


def _case(kinds: tuple[tuple[str, str], ...]) -> str:
    whens = " ".join(f"WHEN coalesce({cond}, false) THEN {quote_literal(k)}" for k, cond in kinds)
    return f"CASE {whens} END"


def error_kinds(con: duckdb.DuckDBPyConnection) -> list[ErrorKind]:
    """Classify wrongly linked and missed pairs by the most telling difference."""
    std = standardise(con, "(SELECT * FROM person_record)")
    con.register("sl_eval_std_rel", std)
    cols = ", ".join(_COLUMNS)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE sl_eval_std AS
            SELECT e.*, s.{cols.replace(", ", ", s.")}
            FROM sl_eval e JOIN sl_eval_std_rel s USING (source, record_id)"""
    )
    con.unregister("sl_eval_std_rel")
    proj = ", ".join(f"a.{c} AS {c}_l, b.{c} AS {c}_r" for c in _COLUMNS)
    out: list[ErrorKind] = []
    for side, same, differ, kinds in (
        ("wrong link", "person_key", "person_id", WRONG_LINK_KINDS),
        ("missed link", "person_id", "person_key", MISSED_LINK_KINDS),
    ):
        rows = con.execute(
            f"""WITH pairs AS (
                    SELECT a.source AS source_l, a.record_id AS record_id_l,
                           b.source AS source_r, b.record_id AS record_id_r, {proj}
                    FROM sl_eval_std a JOIN sl_eval_std b
                      ON a.{same} = b.{same} AND a.{differ} <> b.{differ}
                     AND (a.source, a.record_id) < (b.source, b.record_id)
                    LIMIT {MAX_ERROR_PAIRS}
                ),
                classified AS (SELECT *, {_case(kinds)} AS kind FROM pairs),
                ranked AS (
                    SELECT *, count(*) OVER (PARTITION BY kind) AS n,
                           row_number() OVER (PARTITION BY kind ORDER BY source_l, record_id_l,
                                              source_r, record_id_r) AS i
                    FROM classified
                )
                SELECT kind, n, source_l, record_id_l, source_r, record_id_r,
                       given_name_l, given_name_r, family_name_l, family_name_r,
                       birth_date_text_l, birth_date_text_r, postcode_l, postcode_r
                FROM ranked WHERE i <= {EXAMPLES_PER_KIND} ORDER BY n DESC, kind, i"""
        ).fetchall()
        by_kind: dict[str, ErrorKind] = {}
        for row in rows:
            kind = by_kind.setdefault(row[0], ErrorKind(side, row[0], int(row[1])))
            kind.examples.append(
                {
                    "left": f"{row[2]}:{row[3]}",
                    "right": f"{row[4]}:{row[5]}",
                    "given_name": (row[6], row[7]),
                    "family_name": (row[8], row[9]),
                    "birth_date": (row[10], row[11]),
                    "postcode": (row[12], row[13]),
                }
            )
        out.extend(by_kind.values())
    return out
