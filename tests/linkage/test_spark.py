"""The same small data linked on DuckDB and on local Spark gives the same person index.

Needs the spark extra (`pip install -e '.[spark]'`) and Java 17 (scripts/install-java.sh);
skipped with the reason when either is missing, except in CI (``CI=true``), where
`make test` installs both and a silent skip would hide a broken set-up. The data is
small enough that both engines use the documented default model, so the comparison
checks blocking, scoring and clustering without the sampling noise of training.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from sectorlink.linkage import link
from sectorlink.linkage.training import MIN_RECORDS_FOR_EM

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed: pip install -e '.[spark]'"
    if shutil.which("java") is None:
        return "Java is not installed: run scripts/install-java.sh"
    return None


if (_reason := _missing()) is not None:
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"CI must run the Spark test, but {_reason} (see `make test`)")
    pytest.skip(_reason, allow_module_level=True)


def partition(warehouse: Path) -> set[frozenset[str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute("SELECT source || ':' || record_id, person_key FROM person_index").fetchall()
    con.close()
    groups: dict[str, set[str]] = defaultdict(set)
    for record, key in rows:
        groups[key].add(record)
    return {frozenset(g) for g in groups.values()}


@pytest.fixture(scope="module")
def small_region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sectorlink.demo import ingest_region
    from sectorlink.synth import generate_region

    root = tmp_path_factory.mktemp("spark")
    generate_region(root / "region", people=90, seed=5, progress=False)
    warehouse = root / "hub.duckdb"
    ingest_region(root / "region", warehouse)
    return warehouse


def test_duckdb_and_spark_agree(small_region: Path, tmp_path: Path) -> None:
    on_duckdb, on_spark = tmp_path / "duckdb.duckdb", tmp_path / "spark.duckdb"
    shutil.copy(small_region, on_duckdb)
    shutil.copy(small_region, on_spark)
    duck = link(on_duckdb, engine="duckdb", allow_default_model=True)
    spark = link(on_spark, engine="spark", allow_default_model=True)
    assert duck.records == spark.records < MIN_RECORDS_FOR_EM
    assert spark.engine == "spark"
    assert duck.persons < duck.records  # something was linked
    assert partition(on_spark) == partition(on_duckdb)
