"""docs/synthetic-region.md documents every rate, partner file, column and truth file."""

from __future__ import annotations

from pathlib import Path

import pytest

from sectorlink.synth import MessConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "synthetic-region.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_rate_is_documented_with_its_default(doc):
    defaults = MessConfig()
    for name in MessConfig.names():
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"rate {name} is not in the mess table"
        documented = float(row.split("|")[2])
        assert documented == getattr(defaults, name), f"default of {name} differs from the code"


def test_every_extract_file_and_column_is_documented(region, reader, doc):
    for entry in region.extracts:
        assert f"`{Path(entry.file).name}`" in doc, entry.file
        assert f"`{entry.source}`" in doc
        header, _ = reader.rows(region, entry)
        for column in header:
            assert f"`{column}`" in doc, f"{entry.file}: column {column} is not documented"


def test_every_truth_file_and_column_is_documented(region, doc):
    for path in region.truth.values():
        assert f"`{Path(path).name}`" in doc, path
        header = (region.out_dir / path).read_text(encoding="utf-8").splitlines()[0].split(",")
        for column in header:
            assert column in doc, f"{path}: column {column} is not documented"
