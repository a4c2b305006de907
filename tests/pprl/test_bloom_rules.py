"""The bloom engine's birth levels, birth-gap contradiction and household signature, on
records encoded as a partner encodes them (spec -> encode -> load-encoded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest

from sectorlink.linkage.engines.bloom.comparisons import COMPARISONS
from sectorlink.linkage.engines.bloom.records import (
    RECORDS,
    EncodedRecords,
    comparison_levels,
    record_columns,
)
from sectorlink.linkage.engines.bloom.rules import (
    birth_gap,
    contradiction_rules,
    household_signature,
)
from sectorlink.linkage.engines.bloom.scoring import FellegiSunter, starting_m
from sectorlink.pprl.encode import encode_file
from sectorlink.pprl.keys import LinkageKey
from sectorlink.pprl.load import ENCODED_TABLE, load_encoded

KEY = LinkageKey.from_bytes(b"a shared secret of 32 bytes long")
SPEC = """\
spec_version: 1
source: clinic
record_id: id
person:
  given_name: first
  family_name: last
  birth_date: {column: dob, formats: ["%Y-%m-%d", "%Y"]}
  postcode: pc
  nhs_number: nhs
"""
# a father and son of one name at one address, the son's year-only and mistyped-year
# records, a man born three years after the son; two records of one woman (Kaz for
# Karen) and her husband at one address
CSV = """\
id,first,last,dob,pc,nhs
r_father,John,Smith,1950-03-04,NG1 5AB,
r_son,John,Smith,1980-07-09,NG1 5AB,
r_son_year,John,Smith,1980,NG1 5AB,
r_son_typo,John,Smith,1990-07-09,NG1 5AB,
r_other,Jon,Smith,1983-01-01,NG1 5AB,
r_karen,Karen,Cooper,1970-01-11,NG2 1AA,
r_kaz,Kaz,Cooper,1970-01-11,NG2 1AA,
r_peter,Peter,Cooper,1969-05-21,NG2 1AA,
r_father_nhs,John,Smith,1950-03-04,NG1 5AB,9434765919
r_son_nhs,John,Smith,1980-07-09,NG1 5AB,9434765919
"""


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EncodedRecords, dict]]:
    root = tmp_path_factory.mktemp("bloom-rules")
    (root / "clinic.yaml").write_text(SPEC)
    (root / "clinic.csv").write_text(CSV)
    out = root / "clinic.enc.parquet"
    encode_file(root / "clinic.yaml", root / "clinic.csv", key=KEY, out=out)
    hub = root / "hub.duckdb"
    load_encoded([out], warehouse=hub)
    con = duckdb.connect(str(hub))
    con.execute(
        f"""CREATE TEMP TABLE {RECORDS} AS
            SELECT row_number() OVER (ORDER BY source, record_id) - 1 AS unique_id,
                   {record_columns(con)} FROM {ENCODED_TABLE}"""
    )
    ids = {
        str(r): int(i)
        for r, i in con.execute(f"SELECT record_id, unique_id FROM {RECORDS}").fetchall()
    }
    yield EncodedRecords(con), {"ids": ids, "con": con}
    con.close()


def _pairs(ids: dict[str, int], pairs: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    left = np.array([ids[a] for a, _ in pairs], dtype=np.int32)
    right = np.array([ids[b] for _, b in pairs], dtype=np.int32)
    return left, right


def _comparison(name: str):  # type: ignore[no-untyped-def]
    return next(c for c in COMPARISONS if c.name == name)


def test_birth_levels_sit_above_the_noise_of_bits_set_by_chance(records) -> None:  # type: ignore[no-untyped-def]
    rec, ctx = records
    year = _comparison("birth_year")
    date = _comparison("birth_date")
    # year-only record against: another decade, the same decade, the same year
    left, right = _pairs(
        ctx["ids"], [("r_son_year", "r_father"), ("r_son_year", "r_other"), ("r_son_year", "r_son")]
    )
    assert comparison_levels(rec, [year], left, right)[:, 0].tolist() == [0, 1, 2]
    # two dates sharing no part are "different", not "one part shared"; a mistyped year
    # keeps day and month ("two parts shared")
    left, right = _pairs(ctx["ids"], [("r_father", "r_son"), ("r_son", "r_son_typo")])
    assert comparison_levels(rec, [date], left, right)[:, 0].tolist() == [0, 2]


def test_the_birth_gap_reads_years_dates_and_keying_errors(records) -> None:  # type: ignore[no-untyped-def]
    rec, ctx = records
    pairs = [
        ("r_father", "r_son"),  # 30 years: a gap
        ("r_father", "r_son_year"),  # a year-only record against a date: a gap
        ("r_son", "r_son_year"),  # the same year
        ("r_son", "r_son_typo"),  # a mistyped year, day and month kept: one keying error
        ("r_son", "r_other"),  # three years apart, one decade
    ]
    gap = birth_gap(rec, *_pairs(ctx["ids"], pairs))
    assert gap is not None
    assert gap.tolist() == [True, True, False, False, False]


def test_the_birth_gap_splits_clusters_unless_an_identifier_is_shared(records) -> None:  # type: ignore[no-untyped-def]
    rec, ctx = records
    con = ctx["con"]
    rule, projection = contradiction_rules(rec.tokens, set(rec.filters), gap=True)
    without, _ = contradiction_rules(rec.tokens, set(rec.filters), gap=False)
    assert "birth_gap" not in without

    def kind(a: str, b: str) -> str | None:
        row = con.execute(
            f"""SELECT {rule} FROM (SELECT {projection("a", "b")} FROM {RECORDS} a, {RECORDS} b
                WHERE a.record_id = ? AND b.record_id = ?)""",
            [a, b],
        ).fetchall()
        return row[0][0]

    assert kind("r_father", "r_son_year") == "birth_gap"
    assert kind("r_son", "r_son_typo") is None
    assert kind("r_father_nhs", "r_son_nhs") is None


def test_household_signature_needs_clearly_different_given_names(records) -> None:  # type: ignore[no-untyped-def]
    rec, ctx = records
    comparisons = [_comparison(n) for n in ("given_name", "family_name", "postcode")]
    model = FellegiSunter(
        comparisons, starting_m(comparisons), starting_m(comparisons), 0.01, iterations=1
    )
    left, right = _pairs(ctx["ids"], [("r_karen", "r_kaz"), ("r_karen", "r_peter")])
    gamma = comparison_levels(rec, comparisons, left, right)
    # Kaz and Karen: given names at level "different", but one first letter: a nickname
    assert gamma[0, 0] == 0
    assert household_signature(model, gamma, rec, left, right).tolist() == [False, True]


@pytest.mark.slow
def test_bloom_links_no_parent_and_child_on_the_hard_preset(tmp_path: Path) -> None:
    """Parents and adult children of one name at one address (the hard preset): no cluster
    of the bloom engine holds two people whose birth years are 15 or more apart (but for
    the few the hub cannot tell from a keying error)."""
    from sectorlink.demo import ingest_region
    from sectorlink.linkage import link
    from sectorlink.pprl.encode import encode_records, write_atomic
    from sectorlink.pprl.schema import load_schema
    from sectorlink.synth import generate_region

    generate_region(tmp_path / "region", people=1500, seed=5, progress=False, preset="hard")
    plain = tmp_path / "plain.duckdb"
    ingest_region(tmp_path / "region", plain)
    con = duckdb.connect(str(plain))
    write_atomic(encode_records(con, KEY, load_schema(None)), tmp_path / "all.enc.parquet")
    hub = tmp_path / "hub.duckdb"
    load_encoded([tmp_path / "all.enc.parquet"], warehouse=hub)
    link(hub, engine="bloom")
    con.execute(f"ATTACH '{hub}' AS hub (READ_ONLY)")
    truth = tmp_path / "region" / "truth" / "person_records.csv"
    gaps = con.execute(
        f"""WITH r AS (
               SELECT i.person_key, t.person_id,
                      coalesce(year(p.birth_date), p.birth_year) AS y
               FROM hub.person_index i JOIN person_record p USING (source, record_id)
               JOIN read_csv('{truth}', all_varchar = true) t USING (source, record_id))
           SELECT count(*) FROM r a JOIN r b ON a.person_key = b.person_key
           WHERE a.y + 15 <= b.y AND a.person_id <> b.person_id"""
    ).fetchall()[0][0]
    linked = con.execute(
        "SELECT sum(cluster_size - 1) / 2 FROM hub.person_index WHERE cluster_size > 1"
    ).fetchall()[0][0]
    con.close()
    # a father and son born on one day and month (Garry Ross, 1967 and 1996) look like a
    # mistyped year to the hub, which cannot count the years between two keyed years;
    # without the birth gap, some 1.6% of linked pairs were parents and children
    assert linked > 1000
    assert gaps <= 0.001 * linked, (gaps, linked)


def test_a_rule_over_the_pair_budget_is_narrowed_or_dropped(records, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sectorlink.linkage.engines.bloom import blocking

    rec, ctx = records
    # seven Smiths at one postcode and three Coopers at another: 21 + 3 pairs for
    # postcode & family Soundex; by birth year as well, 1 + 3 Smiths and 1 Cooper
    monkeypatch.setattr(blocking, "pair_budget", lambda n: 5)
    left, _, report = blocking.candidate_pairs(ctx["con"], RECORDS, rec.tokens, rec.n)
    choices = {c["rule"]: c for c in report.choices}
    narrowed = choices["postcode & family_soundex & birth_year"]
    assert narrowed["used"] and narrowed["pairs"] == 5
    assert "24 pairs over the budget of 5: narrowed with birth_year" in narrowed["note"]
    assert all(c["pairs"] <= 5 or not c["used"] for c in report.choices)
    assert report.budget == 5 and report.pairs == left.size
    monkeypatch.setattr(blocking, "pair_budget", lambda n: 0)
    left, _, report = blocking.candidate_pairs(ctx["con"], RECORDS, rec.tokens, rec.n)
    assert left.size == 0 and not any(c["used"] for c in report.choices)
    assert all("dropped" in c["note"] for c in report.choices if c["pairs"])


def test_the_birth_gap_is_learned_from_anchored_pairs_or_pairs_sharing_no_place() -> None:
    from sectorlink.linkage.engines.bloom.engine import gap_contradiction

    comparisons = [_comparison("postcode")]
    n = 1000
    gap = np.zeros(n, dtype=bool)
    anchors = np.zeros(n, dtype=bool)
    anchors[:200] = True
    gap[:1] = True  # one anchored pair in 200 shows the gap: 0.5%, a contradiction
    weight = np.full(n, 20.0)
    gamma = np.full((n, 1), 3, dtype=np.int8)  # every pair: same postcode
    rule = gap_contradiction(gap, anchors, weight, gamma, comparisons)
    assert rule.strict and rule.basis == "anchored pairs" and rule.rate == pytest.approx(0.005)
    gap[:10] = True  # 5% of them: data whose errors replace whole dates
    assert not gap_contradiction(gap, anchors, weight, gamma, comparisons).strict
    # no identifiers: likely matches that share no postcode (a household cannot explain them)
    anchors[:] = False
    gamma[500:, 0] = 0
    gap[:] = False
    gap[:100] = True  # a household's pairs at one postcode: not counted
    gap[500:502] = True  # 2 of 500 likely matches sharing no place
    rule = gap_contradiction(gap, anchors, weight, gamma, comparisons)
    assert rule.basis == "likely matches sharing no place" and rule.strict
    assert rule.rate == pytest.approx(2 / 500, rel=1e-3)
