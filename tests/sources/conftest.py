"""Fixtures for ingest tests: write a spec and an extract into a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(name, text, encoding='utf-8') -> path; dedents the text."""

    def _write(name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_bytes(textwrap.dedent(text).encode(encoding))
        return path

    return _write


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "hub.duckdb"


@pytest.fixture
def query(warehouse: Path) -> Callable[[str], list[tuple[object, ...]]]:
    """query(sql) -> rows, read from the test warehouse."""

    def _query(sql: str) -> list[tuple[object, ...]]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    return _query
