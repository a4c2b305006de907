"""What an analysis receives: a Grant-bound, read-only view of the linked model.

`build_context` copies into a private in-memory DuckDB database only the rows of the data
sets the run's Grant covers, joined to the person index of one linkage run, with no
identifier column, and then detaches the warehouse. The analysis therefore cannot reach a
table or a partner its Grant does not cover: the data are not there.

Tables an analysis can query with `ctx.sql(...)`:

* `event`: every event of the granted sources, with `person_key` (NULL for an event whose
  person record is not in the person index), and `area` / `area_by`: the small area the
  event is placed in and how (`given`, `coordinates`, `postcode`; NULL and `outside` or
  `unplaced` when it cannot be placed).
* the detail tables the analysis declares (`violence`, `housing_episode`, ...), and
  `property` / `property_inspection` when declared;
* `person_index(source, record_id, person_key)`: the partners' own record ids per person;
* `person(person_key, sex, birth_year, birth_month, home_area, home_neighbourhood)`:
  attributes derived from the person records (never a name, date of birth or address);
* `record_flag(source, record_id, no_fixed_abode)`, when the analysis declares it: what a
  person record says of its person without the identifier it says it with (the address);
* `geo_area(code, name, parent, geometry)` and `geo_postcode(...)`: the geography.

What leaves goes through the context too: `publish` (counts, through the disclosure gate),
`publish_statistics` (rates and scores, hidden where their support is small), `figure`,
`keep` (person-level tables that stay in the warehouse).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from markupsafe import Markup

from sectorlink.governance import (
    DisclosureProfile,
    DisclosureRefused,
    Grant,
    ProtectedTable,
    SuppressionNote,
    apply_disclosure_control,
)
from sectorlink.insights.geography import GEO_AREA, GEO_POSTCODE, postcode_key_sql
from sectorlink.insights.registry import Analysis
from sectorlink.model.catalogue import CATALOGUE, check_frame
from sectorlink.model.sql import literal_list as _in_list
from sectorlink.model.tables import TABLES
from sectorlink.registry.db import Registry

PERSON_LEVEL_PROTECTED = frozenset(TABLES) | {"person_index", "linkage_pairs", "linkage_run"}


class NothingToPublish(Exception):
    """The analysis found nothing to publish for the period (e.g. no assaults); the run
    says so and writes no output."""


class InsightError(Exception):
    """An analysis cannot run as asked (no linkage run, no data it reads, bad period...)."""


@dataclass
class AnalysisOutput:
    """What an analysis returns besides the tables it published through the context.

    Attributes:
        body: the HTML section for the hub report and the release page, built only from
            published (protected) tables and figures.
        key_figures: headline numbers for `summary.json` and the report (rates, or counts
            taken from protected tables).
    """

    body: Markup
    key_figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Figure:
    name: str
    title: str
    svg: str


@dataclass
class InsightContext:
    """The one object an analysis works with. See the module docstring."""

    analysis: Analysis
    con: duckdb.DuckDBPyConnection
    grant: Grant
    profile: DisclosureProfile
    period_start: dt.date
    period_end: dt.date
    linkage_run: str
    sources: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, ProtectedTable] = field(default_factory=dict)
    table_titles: dict[str, str] = field(default_factory=dict)
    maps: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    kept: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    # The registry the run authorised against (set by run_analysis; None when a context
    # is built by hand): an analysis about the sharing itself reads its audit log.
    registry: Registry | None = None

    # -- reading ---------------------------------------------------------------------
    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a query on the context's tables and return a pandas frame."""
        return self.con.execute(query, list(params or [])).df()

    def period_sql(self, column: str) -> str:
        """A SQL condition keeping `column` (a timestamp or date) inside the run's period."""
        return (
            f"({column} >= DATE '{self.period_start.isoformat()}' AND "
            f"{column} < DATE '{(self.period_end + dt.timedelta(days=1)).isoformat()}')"
        )

    def note(self, text: str) -> None:
        """A line for the release's notes (data caveats, what was left out and why)."""
        self.notes.append(text)

    # -- publishing ------------------------------------------------------------------
    def publish(
        self,
        name: str,
        frame: pd.DataFrame,
        *,
        title: str,
        labels: Sequence[str] = (),
        totals: bool = True,
    ) -> ProtectedTable | None:
        """Put a table of counts through the disclosure gate and add it to the release.

        `labels` are the columns that label rows (numeric codes included); every other
        column is a count. Returns None (and notes it) when the gate would hide every
        non-zero cell: nothing safe to publish.
        """
        self._check_name(name)
        counts = frame.set_index(list(labels)) if labels else frame
        try:
            protected = apply_disclosure_control(counts, self.profile, name=name, totals=totals)
        except DisclosureRefused as refusal:
            self.withheld.append(name)
            self.note(f"{title}: not published ({refusal})")
            return None
        if len(labels) == 1:  # the gate's index is unnamed: files keep the label's name
            protected.table.index.name = labels[0]
            protected.suppressed.index.name = labels[0]
        elif len(labels) > 1:
            protected.label_names = tuple(labels)
        self.tables[name] = protected
        self.table_titles[name] = title
        return protected

    def publish_statistics(
        self,
        name: str,
        frame: pd.DataFrame,
        *,
        title: str,
        support: str,
        labels: Sequence[str] = (),
    ) -> ProtectedTable:
        """Publish rates, scores or metrics: each row's values are hidden where its
        `support` (the count of people or events behind it) is non-zero and under the
        profile's threshold; the support itself is rounded as the profile rounds counts."""
        self._check_name(name)
        table = frame.set_index(list(labels)) if labels else frame.copy()
        if support not in table.columns:
            raise ValueError(f"{name}: the support column {support!r} is not in the table")
        counts = pd.to_numeric(table[support], errors="raise").astype("float64")
        small = (counts > 0) & (counts < self.profile.min_count)
        if self.profile.suppress_zeros:
            small |= counts == 0
        suppressed = pd.DataFrame(False, index=table.index, columns=table.columns)
        suppressed.loc[small.to_numpy(), :] = True
        published = table.astype("object").where(~suppressed, None)
        if self.profile.round_to:
            step = self.profile.round_to
            rounded = (np.round(counts / step) * step).astype("int64")
            published[support] = [
                None if hidden else int(value) for hidden, value in zip(small, rounded, strict=True)
            ]
        log = [
            SuppressionNote(
                row=label,
                column="*",
                rule="support",
                reason=f"{support} under {self.profile.min_count}",
            )
            for label in table.index[small.to_numpy()]
        ]
        protected = ProtectedTable(
            name=name, profile=self.profile, table=published, suppressed=suppressed, log=log
        )
        self.tables[name] = protected
        self.table_titles[name] = title
        return protected

    def publish_map(
        self, name: str, protected: ProtectedTable, *, value: str, title: str
    ) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of the small areas labelled in `protected`'s index,
        each carrying the protected values (`null` with `"suppressed": true` where the gate
        hid the value: a hidden count is never drawn as zero)."""
        self._check_name(name)
        if not isinstance(protected, ProtectedTable):
            raise TypeError("publish_map draws only tables that passed the disclosure gate")
        shapes = self.sql(f"SELECT code, name, geometry FROM {GEO_AREA}")
        rows = protected.table
        features = []
        for code, area_name, geometry in shapes.itertuples(index=False):
            properties: dict[str, Any] = {"code": code, "name": area_name}
            if code in rows.index:
                for column in rows.columns:
                    cell = rows.at[code, column]
                    properties[str(column)] = None if pd.isna(cell) else _plain(cell)
                properties["suppressed"] = bool(protected.suppressed.at[code, value])
            else:
                properties[value] = 0
                properties["suppressed"] = False
            features.append(
                {"type": "Feature", "properties": properties, "geometry": json.loads(geometry)}
            )
        collection = {"type": "FeatureCollection", "name": title, "features": features}
        self.maps[name] = collection
        return collection

    def figure(self, name: str, svg: str, *, title: str) -> Figure:
        """An SVG chart or map for the release, drawn from published tables only."""
        self._check_name(name)
        figure = Figure(name=name, title=title, svg=svg)
        self.figures[name] = figure
        return figure

    def document(self, filename: str, text: str) -> None:
        """A text file for the release (`model_card.md`, `model_card.json`), written only
        from published tables and aggregate figures."""
        stem, dot, suffix = filename.rpartition(".")
        if not dot or suffix not in ("md", "json", "txt"):
            raise ValueError(f"document {filename!r}: name it NAME.md, NAME.json or NAME.txt")
        self._check_name(stem)
        self.documents[filename] = text

    # -- person level ----------------------------------------------------------------
    def keep(self, table: str, frame: pd.DataFrame) -> None:
        """A person-level result that stays in the warehouse (replaced whole by the run),
        for later analyses and their own audited outputs; it is never published."""
        if table in PERSON_LEVEL_PROTECTED or table.startswith(("geo_", "_")):
            raise ValueError(f"{table!r} is a table the hub owns; choose another name")
        if table in CATALOGUE:  # its definition (model.insight_tables) and the frame agree
            check_frame(table, frame)
        self.kept[table] = frame

    def _check_name(self, name: str) -> None:
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"output name {name!r}: use letters, digits, - and _")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# -- building a context -----------------------------------------------------------------

# The event's own columns, without the lineage the hub adds (model.tables).
_EVENT_COLUMNS = tuple(f.name for f in TABLES["event"].mappable_fields)


def _table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ? "
        "ORDER BY column_index",
        [schema, table],
    ).fetchall()
    return [r[0] for r in rows]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(_table_columns(con, schema, table))


def _non_identifying(table: str, columns: list[str]) -> list[str]:
    model = TABLES.get(table)
    drop = {"load_id", "source_row"}
    if model is not None:
        drop |= {f.name for f in model.fields if f.identifier}
    return [c for c in columns if c not in drop]


def latest_linkage_run(con: duckdb.DuckDBPyConnection, schema: str = "wh") -> str:
    """The run the person index holds; InsightError when nothing is linked yet."""
    if not _has_table(con, schema, "person_index"):
        raise InsightError("the warehouse has no person index: run `sectorlink link` first")
    row = con.execute(f"SELECT max(run_id) FROM {schema}.person_index").fetchone()
    if row is None or row[0] is None:
        raise InsightError("the person index is empty: run `sectorlink link` first")
    return str(row[0])


def sources_read(
    con: duckdb.DuckDBPyConnection, analysis: Analysis, schema: str = "wh"
) -> list[str]:
    """The data sets (sources) holding what `analysis` reads: its event types, or rows of
    its declared tables."""
    found: set[str] = set()
    if _has_table(con, schema, "event"):
        where = (
            f"WHERE event_type IN {_in_list(analysis.event_types)}" if analysis.event_types else ""
        )
        found |= {
            r[0]
            for r in con.execute(f"SELECT DISTINCT source FROM {schema}.event {where}").fetchall()
        }
    for table in analysis.tables:
        if table in ("event", "person_index") or not _has_table(con, schema, table):
            continue
        model = TABLES.get(table)
        if model is not None and model.kind == "detail" and analysis.event_types:
            continue  # its sources are those of the event types already counted
        if "source" in _table_columns(con, schema, table):
            found |= {
                r[0]
                for r in con.execute(f"SELECT DISTINCT source FROM {schema}.{table}").fetchall()
            }
    return sorted(found)


def build_context(
    warehouse: Path,
    analysis: Analysis,
    grant: Grant,
    *,
    profile: DisclosureProfile,
    period: tuple[dt.date | None, dt.date | None] = (None, None),
    params: dict[str, Any] | None = None,
) -> InsightContext:
    """Copy the granted part of the linked model into a private database for `analysis`."""
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"ATTACH '{warehouse!s}' AS wh (READ_ONLY)")
    try:
        run_id = latest_linkage_run(con)
        sources = tuple(sorted(grant.datasets))
        wanted = _in_list(sources)
        con.execute(
            f"""CREATE TABLE person_index AS SELECT source, record_id, person_key
            FROM wh.person_index WHERE source IN {wanted}"""
        )
        _copy_geography(con)
        event_columns = ", ".join(f"e.{c}" for c in _EVENT_COLUMNS)
        type_filter = (
            f"AND e.event_type IN {_in_list(analysis.event_types)}" if analysis.event_types else ""
        )
        con.execute(
            f"""CREATE TABLE event AS SELECT {event_columns}, p.person_key,
                   CAST(NULL AS VARCHAR) AS area, CAST(NULL AS VARCHAR) AS area_by
            FROM wh.event e LEFT JOIN person_index p USING (source, record_id)
            WHERE e.source IN {wanted} {type_filter}"""
        )
        _place_events(con)
        for table in analysis.tables:
            if table in ("event", "person_index", "person") or not _has_table(con, "wh", table):
                continue
            columns = _non_identifying(table, _table_columns(con, "wh", table))
            select = ", ".join(f"t.{c}" for c in columns)
            if "source" in columns:
                con.execute(
                    f"CREATE TABLE {table} AS SELECT {select} FROM wh.{table} t "
                    f"WHERE t.source IN {wanted}"
                )
            else:
                con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM wh.{table} t")
        _person_attributes(con, wanted)
        if "record_flag" in analysis.tables:
            _record_flags(con, wanted)
        start, end = period
        if start is None or end is None:
            row = con.execute(
                "SELECT min(start_time)::DATE, max(start_time)::DATE FROM event"
            ).fetchone()
            data_start, data_end = row or (None, None)
            start = start or data_start or dt.date.today()
            end = end or data_end or dt.date.today()
        if end < start:
            raise InsightError(f"the period ends ({end}) before it starts ({start})")
    except BaseException:
        con.close()
        raise
    con.execute("DETACH wh")
    return InsightContext(
        analysis=analysis,
        con=con,
        grant=grant,
        profile=profile,
        period_start=start,
        period_end=end,
        linkage_run=run_id,
        sources=sources,
        params=dict(params or {}),
    )


def _copy_geography(con: duckdb.DuckDBPyConnection) -> None:
    if _has_table(con, "wh", GEO_AREA):
        con.execute(f"CREATE TABLE {GEO_AREA} AS SELECT * FROM wh.{GEO_AREA}")
    else:
        con.execute(
            f"CREATE TABLE {GEO_AREA} "
            "(code VARCHAR, name VARCHAR, parent VARCHAR, geometry VARCHAR)"
        )
    if _has_table(con, "wh", GEO_POSTCODE):
        con.execute(f"CREATE TABLE {GEO_POSTCODE} AS SELECT * FROM wh.{GEO_POSTCODE}")
    else:
        con.execute(
            f"""CREATE TABLE {GEO_POSTCODE} (postcode_key VARCHAR, postcode VARCHAR,
            small_area VARCHAR, neighbourhood VARCHAR, latitude DOUBLE, longitude DOUBLE)"""
        )


def _place_events(con: duckdb.DuckDBPyConnection) -> None:
    """Fill `event.area`: the small area given, else the one the coordinates fall in, else
    the postcode's; `area_by` says which (or why none)."""
    import shapely
    from shapely.geometry import shape

    con.execute(
        "UPDATE event SET area = small_area, area_by = 'given' WHERE small_area IS NOT NULL"
    )
    areas = con.execute(f"SELECT code, geometry FROM {GEO_AREA}").fetchall()
    points = con.execute(
        "SELECT source, event_id, longitude, latitude FROM event "
        "WHERE area IS NULL AND latitude IS NOT NULL AND longitude IS NOT NULL"
    ).df()
    if areas and len(points):
        polygons = [shape(json.loads(g)) for _, g in areas]
        tree = shapely.STRtree(polygons)
        geoms = shapely.points(points["longitude"].to_numpy(), points["latitude"].to_numpy())
        point_index, polygon_index = tree.query(geoms, predicate="intersects")
        codes = np.array([c for c, _ in areas], dtype=object)
        found = pd.DataFrame({"point": point_index, "code": codes[polygon_index]}).drop_duplicates(
            "point"
        )
        points["found"] = None
        points.loc[found["point"].to_numpy(), "found"] = found["code"].to_numpy()
        con.register("_placed", points[["source", "event_id", "found"]])
        con.execute(
            """UPDATE event SET area = p.found,
                   area_by = CASE WHEN p.found IS NULL THEN 'outside' ELSE 'coordinates' END
            FROM _placed p WHERE event.source = p.source AND event.event_id = p.event_id"""
        )
        con.unregister("_placed")
    con.execute(
        f"""UPDATE event SET area = g.small_area, area_by = 'postcode'
        FROM {GEO_POSTCODE} g
        WHERE event.area IS NULL AND event.postcode IS NOT NULL
          AND g.postcode_key = {postcode_key_sql("event.postcode")}"""
    )
    con.execute("UPDATE event SET area_by = 'unplaced' WHERE area IS NULL AND area_by IS NULL")


def _person_attributes(con: duckdb.DuckDBPyConnection, wanted: str) -> None:
    """Per person: the commonest sex and birth year, the birth month, and the home small
    area (commonest postcode's), from the granted person records, leaving the
    identifiers themselves behind."""
    columns = set(_table_columns(con, "wh", "person_record"))
    if not columns:
        con.execute(
            """CREATE TABLE person (person_key VARCHAR, sex VARCHAR, birth_year INTEGER,
            birth_month DATE, home_area VARCHAR, home_neighbourhood VARCHAR)"""
        )
        return

    def col(name: str, cast: str) -> str:
        return f"r.{name}" if name in columns else f"CAST(NULL AS {cast})"

    def commonest(value: str, where: str = "") -> str:
        # The value most of a person's records give; ties go to the smallest value, so
        # the same warehouse always gives the same person table (mode() breaks ties at
        # random).
        return f"""(SELECT person_key, first({value} ORDER BY n DESC, {value}) AS {value}
            FROM (SELECT person_key, {value}, count(*) AS n FROM records
                  WHERE {value} IS NOT NULL {where} GROUP BY ALL)
            GROUP BY person_key)"""

    con.execute(
        f"""CREATE TABLE person AS
        WITH records AS (
            SELECT p.person_key, {col("sex", "VARCHAR")} AS sex,
                   coalesce({col("birth_year", "INTEGER")},
                            year({col("birth_date", "DATE")})) AS birth_year,
                   date_trunc('month', {col("birth_date", "DATE")})::DATE AS birth_month,
                   {col("postcode", "VARCHAR")} AS postcode
            FROM wh.person_record r JOIN person_index p USING (source, record_id)
            WHERE r.source IN {wanted}
        ), homes AS (
            SELECT person_key, first(small_area ORDER BY n DESC, small_area) AS home_area,
                   first(neighbourhood ORDER BY n DESC, small_area) AS home_neighbourhood
            FROM (SELECT r.person_key, g.small_area, g.neighbourhood, count(*) AS n
                  FROM records r JOIN {GEO_POSTCODE} g
                    ON g.postcode_key = {postcode_key_sql("r.postcode")}
                  GROUP BY ALL)
            GROUP BY person_key
        )
        SELECT k.person_key, s.sex, y.birth_year, m.birth_month, h.home_area,
               h.home_neighbourhood
        FROM (SELECT DISTINCT person_key FROM records) k
        LEFT JOIN {commonest("sex", "AND sex <> 'unknown'")} s USING (person_key)
        LEFT JOIN {commonest("birth_year")} y USING (person_key)
        LEFT JOIN {commonest("birth_month")} m USING (person_key)
        LEFT JOIN homes h USING (person_key)"""
    )


# The NHS pseudo-postcode for no fixed abode, and how front desks write it as an address.
NO_FIXED_ABODE_POSTCODE = "ZZ993VZ"
NO_FIXED_ABODE_ADDRESSES = ("nfa", "no fixed abode", "no fixed address")


def _record_flags(con: duckdb.DuckDBPyConnection, wanted: str) -> None:
    """`record_flag`: per granted person record, `no_fixed_abode` (true for the ZZ99 3VZ
    postcode or an address written NFA / No fixed abode, false for any other address or
    postcode, NULL when the record holds neither), derived here so the address stays behind."""
    columns = set(_table_columns(con, "wh", "person_record"))
    if not {"address", "postcode"} <= columns:  # encoded identifiers only (PPRL): no flag
        con.execute(
            "CREATE TABLE record_flag (source VARCHAR, record_id VARCHAR, no_fixed_abode BOOLEAN)"
        )
        return
    addresses = _in_list(NO_FIXED_ABODE_ADDRESSES)
    con.execute(
        f"""CREATE TABLE record_flag AS
        SELECT source, record_id,
               CASE WHEN upper(replace(postcode, ' ', '')) = '{NO_FIXED_ABODE_POSTCODE}'
                      OR lower(trim(address)) IN {addresses} THEN true
                    WHEN nullif(trim(address), '') IS NULL
                     AND nullif(trim(postcode), '') IS NULL THEN NULL
                    ELSE false END AS no_fixed_abode
        FROM wh.person_record WHERE source IN {wanted}"""
    )
