"""Issue 15, point 16: the --pprl demo keeps the partners' key out of the hub's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sectorlink import demo


class _Encoded(Exception):
    """Raised where the hub would start linking: the partners' side is done."""


@pytest.mark.slow
def test_pprl_demo_writes_the_shared_key_beside_not_inside_the_hubs_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "demo"

    def stop(*_: object, **__: object) -> None:
        raise _Encoded

    monkeypatch.setattr(demo, "link_encoded_region", stop)
    with pytest.raises(_Encoded):
        demo.run_demo(out, people=400, pprl=True)
    assert list((out / "encoded").glob("*.enc.parquet"))
    hub_files = [p for p in out.rglob("*") if p.is_file()]
    key = (
        (out / "partners-shared.key").read_text()
        if (out / "partners-shared.key").exists()
        else None
    )
    assert key is None  # before: written beside warehouse.duckdb
    partners = tmp_path / "demo-partners" / "partners-shared.key"
    assert partners.is_file() and (partners.stat().st_mode & 0o077) == 0
    secret = partners.read_text().strip()
    assert len(secret) == 64
    for path in hub_files:  # the key is in no file the hub holds
        assert secret.encode() not in path.read_bytes(), path
