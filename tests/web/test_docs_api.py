"""docs/api.md must list every API route, so the docs cannot fall behind the code."""

from pathlib import Path

from sectorlink.registry.db import Registry
from sectorlink.web import Settings, create_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_route_is_documented() -> None:
    registry = Registry.open("sqlite://")
    spec = create_app(Settings(environment="test"), registry=registry).openapi()
    text = DOC.read_text()
    missing = [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method in operations
        if f"`{method.upper()} {path}`" not in text
    ]
    assert not missing, f"routes missing from docs/api.md: {missing}"
    for variable in ("SECTORLINK_ENV", "SECTORLINK_SECRET_KEY", "SECTORLINK_TOKEN_DAYS"):
        assert variable in text
    registry.close()
