"""The demo never deletes a folder it did not make."""

from __future__ import annotations

import pytest

from sectorlink.demo import MARKER, DemoError, prepare_out_dir


def test_refuses_a_foreign_non_empty_folder(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(DemoError, match="not made by the demo"):
        prepare_out_dir(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_empties_its_own_folder(tmp_path):
    out = tmp_path / "demo"
    prepare_out_dir(out)
    (out / "old.txt").write_text("from the last run")
    prepare_out_dir(out)
    assert sorted(p.name for p in out.iterdir()) == [MARKER]
