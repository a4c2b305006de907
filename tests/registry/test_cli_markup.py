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


def test_cli_revokes_tokens_and_deactivates_users(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 15, point 4, from the command line."""
    from sectorlink.governance import read_audit_log
    from sectorlink.registry.users import user_for_token

    url = f"sqlite:///{tmp_path / 'reg.db'}"
    monkeypatch.setenv("SECTORLINK_REGISTRY_URL", url)
    added = runner.invoke(
        app, ["registry", "add-user", "ana", "--role", "viewer", "--password-stdin"],
        input="a long password here\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    token = runner.invoke(app, ["registry", "token", "ana"]).output.strip()
    secret = "sectorlink-development-secret-do-not-use-in-production"
    registry = open_registry(url)

    def signed_in() -> bool:
        with registry.session() as session:
            return user_for_token(session, token, secret=secret) is not None

    assert signed_in()
    revoked = runner.invoke(app, ["registry", "revoke-tokens", "ana"])
    assert "revoked 1 token(s) of 'ana'" in revoked.output and not signed_in()
    token = runner.invoke(app, ["registry", "token", "ana"]).output.strip()
    gone = runner.invoke(app, ["registry", "deactivate-user", "ana"])
    assert "deactivated; 1 token(s) revoked" in gone.output and not signed_in()
    back = runner.invoke(app, ["registry", "deactivate-user", "ana", "--undo"])
    assert "reactivated" in back.output
    changes = read_audit_log(registry, type="registry-change", limit=100)
    assert any(c.action == "updated user" and c.actor.endswith("(cli)") for c in changes)
    registry.close()
