"""The docs must name every command, profile, condition and action the code has."""

from pathlib import Path

from sectorlink.commands.audit import audit_app
from sectorlink.commands.registry import registry_app
from sectorlink.governance import PROFILES
from sectorlink.registry.vocab import ACTIONS, CONDITIONS, SECTORS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _names(app: object) -> list[str]:
    return [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[attr-defined]


def test_directory_doc_lists_every_command_and_sector() -> None:
    text = (DOCS / "directory.md").read_text()
    for name in _names(registry_app):
        assert f"sectorlink registry {name}" in text or f"/ `{name} " in text, name
    for sector in SECTORS:
        assert sector in text, sector


def test_governance_doc_lists_profiles_conditions_actions_and_audit_commands() -> None:
    text = (DOCS / "governance.md").read_text()
    for name in [*PROFILES, *CONDITIONS, *ACTIONS]:
        assert f"`{name}`" in text, name
    for name in _names(audit_app):
        assert f"sectorlink audit {name}" in text, name
