"""The hub's geography: a postcode-to-small-area lookup and the small areas' outlines.

Analyses place events in small areas: by coordinates where a source gives them (point in
polygon), else by postcode through this lookup. The synthetic region ships its own
(`geography/postcodes.csv`, `geography/small_areas.geojson`); a real region loads the ONS
Postcode Directory (or a ZIP-to-tract file) cut to the same columns, and its small-area
boundaries as GeoJSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from sectorlink.model.catalogue import table_definition
from sectorlink.model.ddl import create_table_sql

GEO_POSTCODE = "geo_postcode"
GEO_AREA = "geo_area"

POSTCODE_COLUMNS = ("postcode", "small_area")
OPTIONAL_POSTCODE_COLUMNS = ("neighbourhood", "latitude", "longitude")


class GeographyError(ValueError):
    """A lookup or boundary file cannot be loaded; the message names the file and where."""


@dataclass(frozen=True)
class GeographyLoad:
    postcodes: int
    areas: int


def postcode_key_sql(expression: str) -> str:
    """SQL for the form postcodes are matched on: upper case, letters and digits only."""
    return f"upper(regexp_replace({expression}, '[^A-Za-z0-9]', '', 'g'))"


def _read_postcodes(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise GeographyError(f"{path}: cannot be read as CSV ({exc})") from None
    missing = [c for c in POSTCODE_COLUMNS if c not in frame.columns]
    if missing:
        raise GeographyError(
            f"{path}: the postcode lookup needs the columns {', '.join(POSTCODE_COLUMNS)}; "
            f"missing {', '.join(missing)} (it has {', '.join(frame.columns)})"
        )
    for column in POSTCODE_COLUMNS:
        empty = frame.index[frame[column].str.strip() == ""]
        if len(empty):
            raise GeographyError(
                f"{path}, row {int(empty[0]) + 2}, column {column}: empty "
                f"({len(empty)} row(s) like it)"
            )
    for column in ("latitude", "longitude"):
        if column in frame.columns:
            numbers = pd.to_numeric(frame[column].replace("", None), errors="coerce")
            bad = frame.index[numbers.isna() & (frame[column] != "")]
            if len(bad):
                row = int(bad[0])
                raise GeographyError(
                    f"{path}, row {row + 2}, column {column}: "
                    f"{frame[column].iloc[row]!r} is not a number"
                )
            frame[column] = numbers
        else:
            frame[column] = None
    if "neighbourhood" not in frame.columns:
        frame["neighbourhood"] = None
    return frame[["postcode", "small_area", "neighbourhood", "latitude", "longitude"]]


def _read_areas(path: Path) -> pd.DataFrame:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GeographyError(f"{path}: not a readable GeoJSON file ({exc})") from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise GeographyError(f"{path}: a GeoJSON FeatureCollection with 'features' is needed")
    rows: list[dict[str, Any]] = []
    for number, feature in enumerate(features, start=1):
        properties = (feature or {}).get("properties") or {}
        code = properties.get("code")
        geometry = (feature or {}).get("geometry")
        if not code or not isinstance(geometry, dict):
            raise GeographyError(
                f"{path}, feature {number}: needs a 'code' property and a geometry"
            )
        rows.append(
            {
                "code": str(code),
                "name": str(properties.get("name") or code),
                "parent": properties.get("neighbourhood"),
                "geometry": json.dumps(geometry, separators=(",", ":")),
            }
        )
    return pd.DataFrame(rows, columns=["code", "name", "parent", "geometry"])


def load_geography(
    con: duckdb.DuckDBPyConnection, postcodes: Path, small_areas: Path
) -> GeographyLoad:
    """Load (replace) the postcode lookup and the small-area outlines in the warehouse.

    Args:
        con: a writable warehouse connection.
        postcodes: CSV with `postcode, small_area` and optionally `neighbourhood,
            latitude, longitude`.
        small_areas: GeoJSON features with a `code` property (and `name`, `neighbourhood`).

    Raises:
        GeographyError: naming the file, row and column of the first problem; nothing is
            replaced then.
    """
    lookup = _read_postcodes(Path(postcodes))
    areas = _read_areas(Path(small_areas))
    unknown = sorted(set(lookup["small_area"]) - set(areas["code"]))
    if unknown and len(areas):
        raise GeographyError(
            f"{postcodes}: {len(unknown)} small area(s) in the lookup have no outline in "
            f"{small_areas}, e.g. {unknown[0]}"
        )
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_geo_lookup", lookup)
        con.register("_geo_areas", areas)
        # Replaced whole, as the catalogue (model.insight_tables) defines them.
        for table in (GEO_POSTCODE, GEO_AREA):
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(create_table_sql(table_definition(table)))
        con.execute(
            f"""INSERT INTO {GEO_POSTCODE} BY NAME
            SELECT {postcode_key_sql("postcode")} AS postcode_key,
                   upper(trim(postcode)) AS postcode,
                   small_area, neighbourhood, CAST(latitude AS DOUBLE) AS latitude,
                   CAST(longitude AS DOUBLE) AS longitude
            FROM _geo_lookup"""
        )
        con.execute(
            f"""INSERT INTO {GEO_AREA} BY NAME
            SELECT code, name, parent, geometry FROM _geo_areas"""
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_geo_lookup")
        con.unregister("_geo_areas")
    return GeographyLoad(postcodes=len(lookup), areas=len(areas))
