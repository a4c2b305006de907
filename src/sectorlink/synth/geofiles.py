"""The region's map as files: GeoJSON polygons, address and postcode coordinates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth.geography import Region
from sectorlink.synth.writers import CsvSink

ADDRESS_BLOCK = 200_000


def _polygon(ring: np.ndarray) -> dict[str, Any]:
    coords = np.round(ring, 6).tolist()
    return {"type": "Polygon", "coordinates": [[*coords, coords[0]]]}


def _feature_collection(features: list[dict[str, Any]]) -> str:
    return (
        json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
        + "\n"
    )


def write_geography(region: Region, out: Path) -> dict[str, Any]:
    """Write geography/ and return the manifest's geography section."""
    geo = out / "geography"
    geo.mkdir(parents=True, exist_ok=True)
    # One feature per area: a Python loop over areas (hundreds), never over people.
    nb_features = [
        {
            "type": "Feature",
            "properties": {
                "code": str(region.nb_code[i]),
                "name": str(region.nb_name[i]),
                "town": str(region.town_name[region.nb_town[i]]),
                "deprivation": round(float(region.nb_deprivation[i]), 4),
            },
            "geometry": _polygon(region.nb_ring[i]),
        }
        for i in range(len(region.nb_code))
    ]
    (geo / "neighbourhoods.geojson").write_text(_feature_collection(nb_features), encoding="utf-8")
    sa_features = [
        {
            "type": "Feature",
            "properties": {
                "code": str(region.sa_code[i]),
                "neighbourhood": str(region.nb_code[region.sa_nb[i]]),
                "name": f"{region.nb_name[region.sa_nb[i]]} {'ABCD'[i % 4]}",
            },
            "geometry": _polygon(region.sa_ring[i]),
        }
        for i in range(len(region.sa_code))
    ]
    (geo / "small_areas.geojson").write_text(_feature_collection(sa_features), encoding="utf-8")

    sink = CsvSink(geo / "addresses.csv")
    for start in range(0, region.n_addresses, ADDRESS_BLOCK):
        a = np.arange(start, min(start + ADDRESS_BLOCK, region.n_addresses))
        sink.write(
            pa.table(
                {
                    "address_id": pa.array(a),
                    "uprn": pa.array(region.addr_uprn[a]),
                    "address": fmt.text(region.street_line(a)),
                    "locality": fmt.text(region.locality(a)),
                    "town": fmt.text(region.town(a)),
                    "postcode": fmt.text(region.postcode_of(a)),
                    "small_area": fmt.text(region.sa_code[region.addr_sa[a]]),
                    "neighbourhood": fmt.text(region.nb_code[region.addr_nb(a)]),
                    "latitude": fmt.number(region.addr_lat[a], 6),
                    "longitude": fmt.number(region.addr_lon[a], 6),
                    # Building age is public (council tax, EPC records); condition and tenure
                    # are not, so they appear only in the lead extract and the truth.
                    "year_built": pa.array(region.year_built[a]),
                }
            )
        )
    sink.close()
    pc_sink = CsvSink(geo / "postcodes.csv")
    pc_sink.write(
        pa.table(
            {
                "postcode": fmt.text(region.postcode),
                "small_area": fmt.text(region.sa_code[region.postcode_sa]),
                "neighbourhood": fmt.text(region.nb_code[region.sa_nb[region.postcode_sa]]),
                "latitude": fmt.number(region.postcode_lat, 6),
                "longitude": fmt.number(region.postcode_lon, 6),
            }
        )
    )
    pc_sink.close()
    lon = region.nb_ring[..., 0]
    lat = region.nb_ring[..., 1]
    return {
        "crs": "EPSG:4326",
        "bbox": [
            round(float(lon.min()), 6),
            round(float(lat.min()), 6),
            round(float(lon.max()), 6),
            round(float(lat.max()), 6),
        ],
        "neighbourhoods": "geography/neighbourhoods.geojson",
        "small_areas": "geography/small_areas.geojson",
        "addresses": "geography/addresses.csv",
        "postcodes": "geography/postcodes.csv",
    }
