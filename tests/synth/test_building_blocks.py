"""Identifiers, id scrambling, typos, name lists."""

from __future__ import annotations

import re

import numpy as np

from sectorlink.synth import fmt
from sectorlink.synth.identifiers import IdPermutation, nhs_numbers, nhs_valid, ni_numbers
from sectorlink.synth.names import name_tables
from sectorlink.synth.population import ni_capacity
from sectorlink.synth.textops import DELETE, DOUBLE, SLIP, TRANSPOSE, typos


def test_id_permutation_is_a_bijection():
    rng = np.random.default_rng(0)
    for modulus in (10, 1000, 12345):
        values = IdPermutation(modulus, rng)(np.arange(modulus))
        assert sorted(values.tolist()) == list(range(modulus))


def test_nhs_numbers_are_unique_and_pass_mod_11():
    rng = np.random.default_rng(1)
    numbers = nhs_numbers(np.arange(50_000), IdPermutation(10**8, rng))
    assert len(np.unique(numbers)) == 50_000
    assert nhs_valid(numbers.astype(str)).all()
    assert nhs_valid(np.array(["9434765919", "943 476 5919"])).all()
    assert not nhs_valid(np.array(["9434765918", "", "12345"])).any()


def test_ni_numbers_have_the_hmrc_shape():
    rng = np.random.default_rng(2)
    numbers = ni_numbers(np.arange(2000), IdPermutation(ni_capacity(), rng), rng)
    shape = re.compile(r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")
    assert all(shape.match(n) for n in numbers)
    assert len(set(numbers)) == 2000


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_every_typo_changes_the_name_by_one_edit_or_a_swap():
    rng = np.random.default_rng(3)
    names = np.array(["Smith", "Jones", "Müller", "O'Neill", "Catherine", "Lee", "Bell"] * 40)
    kinds = rng.choice([SLIP, DELETE, TRANSPOSE, DOUBLE], len(names))
    out = typos(names, kinds, rng.random(len(names)))
    for before, after in zip(names, out, strict=True):
        assert before != after
        assert _distance(before, after) <= 2
        assert before[0] == after[0]


def test_common_names_are_common():
    t = name_tables()
    assert t.surnames[t.top_surnames[0]] == "Smith"
    assert t.surname_p[t.top_surnames[0]] > 0.01
    assert t.male_p[t.top_male[0]] > 0.02 and t.female_p[t.top_female[0]] > 0.02
    # A name's nicknames are real alternatives, never the name itself.
    william = int(np.flatnonzero(t.given == "William")[0])
    nicks = t.nick_values[t.nick_start[william] : t.nick_start[william + 1]]
    assert "Bill" in nicks and "William" not in nicks


def test_utc_instants_are_the_local_times_an_hour_back_in_a_british_summer():
    local = np.array(
        ["2024-01-15T10:00:00", "2024-07-01T10:00:00", "2024-07-01T00:30:00"],
        dtype="datetime64[s]",
    )
    assert fmt.utc_datetime(local, "Europe/London").to_pylist() == [
        "2024-01-15T10:00:00Z",
        "2024-07-01T09:00:00Z",
        "2024-06-30T23:30:00Z",  # the day before, in UTC
    ]
