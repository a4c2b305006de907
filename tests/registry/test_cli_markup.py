"""Issue 15, point 9: Rich markup in stored names and in arguments prints as text."""

from pathlib import Path

from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.registry import create_organisation, open_registry

runner = CliRunner()


def test_markup_in_names_and_arguments_is_printed_not_rendered(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'reg.db'}"
    monkeypatch.setenv("SECTORLINK_REGISTRY_URL", url)
    monkeypatch.setenv("COLUMNS", "250")
    registry = open_registry(url)
    with registry.session() as session:  # as the API would store them
        create_organisation(session, name="Markup [/x] Org", sector="police")
        create_organisation(
            session, name="[link=https://evil.example]Click[/link]", sector="police"
        )
    registry.close()
    found = runner.invoke(app, ["registry", "search", "org"])  # crashed with a MarkupError
    assert found.exit_code == 0, found.output
    assert "Markup [/x] Org" in found.output
    linked = runner.invoke(app, ["registry", "search", "click"])
    assert "[link=https://evil.example]Click[/link]" in linked.output
    refused = runner.invoke(
        app,
        ["registry", "check-access", "--organisation", "Markup [/x] Org", "--purpose", "[/x]",
         "--dataset", "[bold]x[/bold]"],
    )  # fmt: skip
    assert refused.exit_code == 1, refused.output
    assert "MarkupError" not in refused.output and "[/x]" in refused.output
    listed = runner.invoke(app, ["audit", "list", "--type", "access"])
    assert listed.exit_code == 0 and "Markup [/x] Org" in listed.output
    actors = runner.invoke(app, ["audit", "list", "--type", "registry-change"])
    assert "(library)" in actors.output
