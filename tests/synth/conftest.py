"""Small generated regions shared by the synth tests (generated once per session), and a
`reader` fixture that reads a region back: extracts as their specs say, truth, manifest."""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from sectorlink.synth import MessConfig, RegionManifest, generate_region

PEOPLE = 1500


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> RegionManifest:
    return generate_region(tmp_path_factory.mktemp("region"), people=PEOPLE, seed=7, progress=False)


@pytest.fixture(scope="session")
def messy_region(tmp_path_factory: pytest.TempPathFactory) -> RegionManifest:
    """Every record-level and row-level rate turned up, so rates can be measured on a
    small region."""
    mess = MessConfig(
        typo=0.3, nickname=0.5, maiden_name=0.6, middle_as_first=0.1, name_swap=0.1,
        missing_dob=0.15, year_only_dob=0.15, day_month_swap=0.2, age_instead_of_dob=0.2,
        missing_nhs=0.3, invalid_nhs=0.2, missing_ni=0.3, invalid_ni=0.3, postcode_typo=0.2,
        stale_address=0.5, sex_missing=0.1, shared_phone=0.5, duplicate_record=0.2,
        movers=0.3, twins=0.5, namesake_child=0.5, common_name=0.2, new_local_id=0.3,
        invalid_date=0.02, future_date=0.02, missing_record_id=0.02, resent_row=0.03,
        orphan_event=0.04,
    )  # fmt: skip
    return generate_region(
        tmp_path_factory.mktemp("messy"), people=2000, seed=11, mess=mess, progress=False
    )


@pytest.fixture(scope="session")
def small_region(tmp_path_factory: pytest.TempPathFactory) -> RegionManifest:
    """200 people: every extract still has rows, so ingest takes every file."""
    return generate_region(tmp_path_factory.mktemp("small"), people=200, seed=0, progress=False)


@pytest.fixture(scope="session")
def signals_region(tmp_path_factory: pytest.TempPathFactory) -> RegionManifest:
    """Default mess, enough people for the planted signals to show."""
    return generate_region(tmp_path_factory.mktemp("signals"), people=6000, seed=5, progress=False)


def spec_of(manifest: RegionManifest, entry: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (manifest.out_dir / entry.spec).read_text(encoding="utf-8")
    )
    return data


def first_data_row(manifest: RegionManifest, entry: Any) -> int:
    """The row number ingest gives an extract's first data row (a title above the header
    pushes it down)."""
    return int(spec_of(manifest, entry).get("file", {}).get("header_row", 1)) + 1


def read_rows(
    manifest: RegionManifest, entry: Any, raw: bool = False
) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of an extract, read the way its spec says: the rows ingest loads,
    or with `raw` every row (those listed in truth/expected_rejects.csv too)."""
    header, rows = _read_all(manifest, entry)
    if raw:
        return header, rows
    name = entry.file.rsplit("/", 1)[-1]
    rejected = {int(r["source_row"]) for r in read_truth(manifest, "expected_rejects")
                if r["file"] == name}  # fmt: skip
    first = first_data_row(manifest, entry)
    return header, [row for i, row in enumerate(rows, start=first) if i not in rejected]


def _read_all(manifest: RegionManifest, entry: Any) -> tuple[list[str], list[dict[str, str]]]:
    spec = spec_of(manifest, entry)
    path = manifest.out_dir / entry.file
    options = spec.get("file", {})
    skip = int(options.get("header_row", 1)) - 1  # a title above the header
    missing = set(options.get("missing", []))  # the partner's text for an empty value
    if options.get("format") == "excel":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        sheet = book[options["sheet"]] if "sheet" in options else book.worksheets[0]
        values = [
            ["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)
        ]
        book.close()
        header = [" ".join(name.split()) for name in values[skip]]  # as ingest reads it
        # Trailing empty cells are not stored in the sheet: pad rows to the header.
        padded = [row + [""] * (len(header) - len(row)) for row in values[skip + 1 :]]
        return header, [dict(zip(header, row, strict=True)) for row in padded]
    encoding = "utf-8-sig" if options.get("encoding", "utf-8") == "utf-8" else "latin-1"
    text = path.read_bytes().decode(encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=options.get("delimiter", ","))
    rows = [["" if value in missing else value for value in row] for row in reader][skip:]
    rows = [row for row in rows if row]  # empty lines (above a footer) are no rows
    rows = rows[: len(rows) - int(options.get("footer_rows", 0))]  # a report's closing lines
    header = [" ".join(name.split()) for name in rows[0]]  # 'Year of\nBirth', as ingest
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


def read_truth(manifest: RegionManifest, name: str) -> list[dict[str, str]]:
    with open(manifest.out_dir / manifest.truth[name], newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def manifest_json(manifest: RegionManifest) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((manifest.out_dir / "manifest.json").read_text())
    return data


@pytest.fixture(scope="session")
def reader() -> SimpleNamespace:
    return SimpleNamespace(
        spec=spec_of,
        rows=read_rows,
        truth=read_truth,
        manifest=manifest_json,
        first_row=first_data_row,
    )
