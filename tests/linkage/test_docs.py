"""docs/linkage.md documents every table, comparison and option the code has."""

from __future__ import annotations

from pathlib import Path

from sectorlink.linkage import TABLE_DOCS
from sectorlink.linkage.blocking import CANDIDATES
from sectorlink.linkage.comparisons import build_comparisons
from sectorlink.linkage.fields import LINKAGE_FIELDS
from sectorlink.linkage.sql_dialect import Dialect

DOC = (Path(__file__).resolve().parents[2] / "docs" / "linkage.md").read_text()


def test_every_table_is_documented() -> None:
    for table in TABLE_DOCS:
        assert f"`{table}`" in DOC, table


def test_every_comparison_is_documented() -> None:
    for comparison in build_comparisons(Dialect("duckdb"), set(LINKAGE_FIELDS)):
        assert comparison.description.split(",")[0].split(" ")[0].lower() in DOC.lower()


def test_the_commands_and_options_are_documented() -> None:
    for text in ("--engine", "--out", "--truth", "--threshold", "--lenient", "sectorlink evaluate"):
        assert text in DOC, text


def test_blocking_rules_are_described() -> None:
    assert len(CANDIDATES) >= 15
    assert "pre-filter count" in DOC
