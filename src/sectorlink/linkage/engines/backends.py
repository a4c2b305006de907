"""Where Splink runs: an in-memory DuckDB (default) or a Spark session.

Standardising, clustering, keys and the person index always run in DuckDB beside the
warehouse; only training and scoring (the pairwise work that grows with the data) move
to Spark. Tables cross as Arrow.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from splink import DuckDBAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from sectorlink.linkage.errors import LinkageError
from sectorlink.linkage.sql_dialect import Dialect, EngineName

INPUT_TABLE = "sl_linkage_input"
# Memory for Splink's own DuckDB (scoring), and for the warehouse connection while
# linking (standardised records, clusters, keys); together they stay under 8 GiB.
ENGINE_MEMORY = "4GB"
WAREHOUSE_MEMORY = "2GB"


class SplinkBackend(Protocol):
    name: EngineName
    dialect: Dialect
    db_api: Any
    # Splink samples u in chunks to stop early; on Spark every chunk is a few jobs, and
    # one pass is several times faster.
    u_sampling_chunks: int

    def register(self, table: pa.Table) -> SplinkDataFrame: ...

    def to_arrow(self, frame: SplinkDataFrame) -> pa.Table: ...

    def close(self) -> None: ...


class DuckDBEngine:
    """Splink on its own in-memory DuckDB, so its scratch tables never touch the
    warehouse file; spills to a temporary folder past ``memory_limit``."""

    name: EngineName = "duckdb"
    dialect = Dialect("duckdb")
    u_sampling_chunks = 10

    def __init__(self, memory_limit: str | None = None, threads: int | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="sectorlink-splink-")
        self.con = duckdb.connect()
        self.con.execute(f"SET temp_directory = '{self._tmp.name}'")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")
        # Bounded so a region of millions fits a laptop: past it DuckDB spills to disk.
        limit = memory_limit or os.environ.get("SECTORLINK_LINKAGE_MEMORY", ENGINE_MEMORY)
        self.con.execute(f"SET memory_limit = '{limit}'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.db_api = DuckDBAPI(self.con)

    def register(self, table: pa.Table) -> SplinkDataFrame:
        self.con.register("sl_linkage_arrow", table)
        self.con.execute(f"CREATE OR REPLACE TABLE {INPUT_TABLE} AS SELECT * FROM sl_linkage_arrow")
        self.con.unregister("sl_linkage_arrow")
        return self.db_api.register(INPUT_TABLE)

    def to_arrow(self, frame: SplinkDataFrame) -> pa.Table:
        return self.con.sql(f"SELECT * FROM {frame.physical_name}").to_arrow_table()

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()


class SparkEngine:
    """Splink on a Spark session: local by default, or the one passed in (a cluster)."""

    name: EngineName = "spark"
    dialect = Dialect("spark")
    u_sampling_chunks = 1

    def __init__(self, spark: Any = None) -> None:
        try:
            from splink.backends.spark import SparkAPI
        except ImportError as exc:  # pyspark missing
            raise LinkageError(
                "the spark engine needs the spark extra: pip install 'sectorlink[spark]' "
                "(and Java 17: scripts/install-java.sh)"
            ) from exc
        self._own_session = spark is None
        self.spark = spark if spark is not None else local_spark_session()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        context = self.spark.sparkContext
        if context.getCheckpointDir() is None:
            # Splink breaks long lineages by checkpointing; a cluster should set its own
            # (shared) checkpoint directory, a local session gets a temporary one.
            self._tmp = tempfile.TemporaryDirectory(prefix="sectorlink-spark-")
            context.setCheckpointDir(self._tmp.name)
        self.spark.sparkContext.setLogLevel("ERROR")
        self.db_api = SparkAPI(spark_session=self.spark)  # type: ignore[no-untyped-call]

    def register(self, table: pa.Table) -> SplinkDataFrame:
        frame = self.spark.createDataFrame(table.to_pandas())
        frame.createOrReplaceTempView(INPUT_TABLE)
        return self.db_api.register(INPUT_TABLE)

    def to_arrow(self, frame: SplinkDataFrame) -> pa.Table:
        frame_pd = frame.as_pandas_dataframe()  # type: ignore[no-untyped-call]
        return pa.Table.from_pandas(frame_pd, preserve_index=False)

    def close(self) -> None:
        if self._own_session:
            self.spark.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


def local_spark_session(partitions: int = 8) -> Any:
    """A local Spark session with Splink's string-similarity jar, bound to loopback
    (the machine's host name may not resolve inside containers)."""
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError as exc:
        raise LinkageError(
            "the spark engine needs the spark extra: pip install 'sectorlink[spark]'"
        ) from exc
    return (
        SparkSession.builder.master("local[*]")
        .appName("sectorlink-linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def make_backend(name: str, spark: Any = None) -> SplinkBackend:
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        return SparkEngine(spark)
    raise LinkageError(f"unknown Splink backend {name!r}: use duckdb or spark")
