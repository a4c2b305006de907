"""The hard preset: households that look like one person, more age-only and name-only records."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from sectorlink.commands import synth as synth_command
from sectorlink.synth import MessConfig, RegionManifest, generate_region, preset_mess
from sectorlink.synth.config import PRESET_RATES

PEOPLE = 3_000


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> tuple[RegionManifest, RegionManifest]:
    default = generate_region(
        tmp_path_factory.mktemp("default"), people=PEOPLE, seed=3, progress=False
    )
    hard = generate_region(
        tmp_path_factory.mktemp("hard"), people=PEOPLE, seed=3, progress=False, preset="hard"
    )
    return default, hard


def _people(region: RegionManifest) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE people AS SELECT * FROM read_csv(
                '{region.out_dir / "truth" / "people.csv"}', all_varchar = true)"""
    )
    return con


def test_presets_name_their_rates() -> None:
    assert preset_mess("default") == MessConfig()
    hard = preset_mess("hard")
    for name, value in PRESET_RATES["hard"].items():
        assert getattr(hard, name) == value
    with pytest.raises(ValueError, match="unknown preset 'harder'; presets: default, hard"):
        preset_mess("harder")


def _stats(region: RegionManifest) -> dict[str, float]:
    con = _people(region)
    row = con.execute(
        """WITH p AS (
               SELECT *, 2025 - year(birth_date::DATE) AS age FROM people
           ),
           sizes AS (SELECT household_id, count(*) AS n FROM p GROUP BY 1)
           SELECT
             avg((n = 1)::INT) FILTER (WHERE true),
             (SELECT count(*) FROM p WHERE role = 'child' AND age >= 19),
             (SELECT count(*) FROM p c JOIN p a ON a.person_id = c.namesake_of
               WHERE c.age >= 19 AND c.given_name = a.given_name
                 AND c.address_id = a.address_id AND c.family_name = a.family_name),
             (SELECT count(*) FROM p c JOIN p a ON a.person_id = c.namesake_of
               WHERE c.sex = 'F' AND a.sex = 'F' AND c.given_name = a.given_name)
           FROM sizes"""
    ).fetchall()[0]
    return {
        "single_share": float(row[0]),
        "adult_children": float(row[1]),
        "adult_namesakes": float(row[2]),
        "mother_daughter": float(row[3]),
    }


def test_hard_preset_makes_households_that_look_like_one_person(regions) -> None:
    default, hard = (_stats(r) for r in regions)
    assert hard["single_share"] < default["single_share"]
    # parents and grown-up children of one name at one address: none by default
    assert default["adult_children"] == 0 and hard["adult_children"] > 50
    assert default["adult_namesakes"] == 0 and hard["adult_namesakes"] > 5
    assert default["mother_daughter"] == 0 and hard["mother_daughter"] > 5


def test_hard_preset_sends_more_records_without_a_birth_date(regions) -> None:
    shares = []
    for region in regions:
        records = region.out_dir / "truth" / "person_records.csv"
        shares.append(
            duckdb.sql(
                f"""SELECT avg((mess LIKE '%missing_dob%')::INT)
                    FROM read_csv('{records}', all_varchar = true)"""
            ).fetchall()[0][0]
        )
    assert shares[1] > 1.5 * shares[0]


def test_cli_preset(tmp_path: Path) -> None:
    app = typer.Typer()
    app.callback()(lambda: None)
    synth_command.register(app)
    out = tmp_path / "r"
    result = CliRunner().invoke(
        app, ["synth", "--out", str(out), "--people", "300", "--preset", "hard"]
    )
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "x"), "--preset", "nope"])
    assert bad.exit_code == 2
    assert "unknown preset 'nope'" in bad.output
