"""Load the public linkage benchmarks into a warehouse as ``person_record`` rows.

Each loader writes the benchmark's records under its own source names (replacing any
earlier load of the same sources) and returns the truth as (source, record_id,
person_id), the shape ``sectorlink evaluate --truth`` reads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "linkage-benchmarks"
if not DEFAULT_DATA_DIR.exists():  # an installed package: the shared folder beside the checkout
    DEFAULT_DATA_DIR = Path("../shared/data/linkage-benchmarks")

FEBRL_COLUMNS = (
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)

_INSERT_COLUMNS = (
    "source, record_id, full_name, given_name, family_name, birth_date, birth_year, sex, "
    "address, postcode, email, local_person_id, load_id, source_row"
)


def _path(data_dir: Path, name: str) -> str:
    path = data_dir / name
    if not path.exists():
        raise FileNotFoundError(f"benchmark file {path} not found")
    return str(path).replace("'", "''")


def _replace(con: duckdb.DuckDBPyConnection, sources: list[str], select_sql: str) -> None:
    placeholders = ", ".join("?" for _ in sources)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM person_record WHERE source IN ({placeholders})", sources)
        con.execute(f"INSERT INTO person_record ({_INSERT_COLUMNS}) {select_sql}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _febrl_select(path: str, source: str) -> str:
    # soc_sec_id is no valid SSN (it fails the SSN rules): it goes in as the records'
    # own person identifier, which the model compares (exact or one keystroke apart)
    # and trains like any field, without treating a difference as a contradiction.
    names = ", ".join(f"'{c}'" for c in FEBRL_COLUMNS)
    cols = {c: f"nullif(trim({c}), '')" for c in FEBRL_COLUMNS}
    street = f"concat_ws(' ', {cols['street_number']}, {cols['address_1']})"
    rest = f"{cols['address_2']}, {cols['suburb']}, {cols['state']}"
    address = f"concat_ws(', ', nullif({street}, ''), {rest})"
    dob = f"try_strptime({cols['date_of_birth']}, '%Y%m%d')::DATE"
    return f"""
        SELECT '{source}', trim(rec_id), NULL, {cols["given_name"]}, {cols["surname"]},
               {dob}, year({dob}), NULL, nullif({address}, ''), {cols["postcode"]}, NULL,
               {cols["soc_sec_id"]}, 'benchmark:{source}', row_number() OVER () + 1
        FROM read_csv('{path}', header = true, all_varchar = true, names = [{names}],
                      quote = '"')
    """


def _febrl_truth(con: duckdb.DuckDBPyConnection, sources: list[str]) -> duckdb.DuckDBPyRelation:
    placeholders = ", ".join(f"'{s}'" for s in sources)
    return con.sql(
        f"""SELECT source, record_id, split_part(record_id, '-', 2) AS person_id
            FROM person_record WHERE source IN ({placeholders}) ORDER BY source, record_id"""
    )


def load_febrl4(
    con: duckdb.DuckDBPyConnection, data_dir: Path = DEFAULT_DATA_DIR
) -> duckdb.DuckDBPyRelation:
    """FEBRL4: two sources of 5,000 records, each person once in each."""
    a = _febrl_select(_path(data_dir, "febrl4a.csv"), "febrl4a")
    b = _febrl_select(_path(data_dir, "febrl4b.csv"), "febrl4b")
    _replace(con, ["febrl4a", "febrl4b"], f"{a} UNION ALL {b}")
    return _febrl_truth(con, ["febrl4a", "febrl4b"])


def load_febrl3(
    con: duckdb.DuckDBPyConnection, data_dir: Path = DEFAULT_DATA_DIR
) -> duckdb.DuckDBPyRelation:
    """FEBRL3: one source of 5,000 records with duplicates."""
    _replace(con, ["febrl3"], _febrl_select(_path(data_dir, "febrl3.csv"), "febrl3"))
    return _febrl_truth(con, ["febrl3"])


def load_fake_1000(
    con: duckdb.DuckDBPyConnection, data_dir: Path = DEFAULT_DATA_DIR
) -> duckdb.DuckDBPyRelation:
    """Splink's fake_1000: one source of 1,000 records, `cluster` is the person."""
    path = _path(data_dir, "fake_1000.csv")
    _replace(
        con,
        ["fake_1000"],
        f"""SELECT 'fake_1000', CAST(unique_id AS VARCHAR), NULL, first_name, surname,
                   try_cast(dob AS DATE), year(try_cast(dob AS DATE)), NULL, city, NULL, email,
                   NULL, 'benchmark:fake_1000', row_number() OVER () + 1
            FROM read_csv('{path}', header = true, all_varchar = true)""",
    )
    return con.sql(
        f"""SELECT 'fake_1000' AS source, CAST(unique_id AS VARCHAR) AS record_id,
                   CAST(cluster AS VARCHAR) AS person_id
            FROM read_csv('{path}', header = true, all_varchar = true) ORDER BY 2"""
    )


def load_historical_50k(
    con: duckdb.DuckDBPyConnection, data_dir: Path = DEFAULT_DATA_DIR
) -> duckdb.DuckDBPyRelation:
    """Splink's historical figures (50,578 records of 5,156 people): heavy name variation."""
    path = _path(data_dir, "historical_figures_with_errors_50k.parquet")
    _replace(
        con,
        ["historical"],
        f"""SELECT 'historical', unique_id, full_name, first_name, surname,
                   try_cast(dob AS DATE), year(try_cast(dob AS DATE)),
                   CASE gender WHEN 'male' THEN 'M' WHEN 'female' THEN 'F' END,
                   birth_place, upper(postcode_fake), NULL, NULL,
                   'benchmark:historical', row_number() OVER () + 1
            FROM read_parquet('{path}')""",
    )
    return con.sql(
        f"""SELECT 'historical' AS source, unique_id AS record_id, cluster AS person_id
            FROM read_parquet('{path}') ORDER BY 2"""
    )


BENCHMARKS: dict[str, Callable[[duckdb.DuckDBPyConnection, Path], duckdb.DuckDBPyRelation]] = {
    "febrl4": load_febrl4,
    "febrl3": load_febrl3,
    "fake_1000": load_fake_1000,
    "historical_50k": load_historical_50k,
}


def load_benchmark(
    name: str, con: duckdb.DuckDBPyConnection, data_dir: Path = DEFAULT_DATA_DIR
) -> duckdb.DuckDBPyRelation:
    """Load benchmark ``name`` (one of :data:`BENCHMARKS`) and return its truth."""
    try:
        loader = BENCHMARKS[name]
    except KeyError:
        raise ValueError(
            f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}"
        ) from None
    return loader(con, data_dir)
