"""docs/architecture.md states the imports between packages as they are in the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "sectorlink"


def _imports() -> dict[str, set[str]]:
    """Package -> the other sectorlink packages its modules import."""
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).parts
        package = parts[0] if len(parts) > 1 else path.stem
        if package == "__init__":
            continue
        targets = found.setdefault(package, set())
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                bits = name.split(".")
                if bits[0] == "sectorlink" and len(bits) > 1 and bits[1] != package:
                    targets.add(bits[1])
    return found


def _documented() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## The packages and the direction of imports", 1)[1].split("\n## ")[0]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`[a-z_]+`", cells[0]):
            table[cells[0].strip("`")] = set(re.findall(r"`([a-z_]+)`", cells[2]))
    return table


def test_the_import_table_matches_the_code() -> None:
    assert _documented() == _imports()


def test_nothing_imports_the_cli_or_the_web_app_and_model_imports_nothing() -> None:
    imports = _imports()
    assert imports["model"] == set()
    for package, targets in imports.items():
        if package not in ("cli", "commands"):
            assert "commands" not in targets, package
        if package != "commands":
            assert "web" not in targets, package
