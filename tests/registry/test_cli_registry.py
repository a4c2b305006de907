"""The CLI is a thin layer: one run through every registry and audit command."""

import re
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.registry.testing import write_sample_region

runner = CliRunner()


def test_registry_and_audit_commands(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'reg.db'}"
    monkeypatch.setenv("SECTORLINK_REGISTRY_URL", url)
    monkeypatch.setenv("COLUMNS", "250")  # no wrapping of long messages
    manifest = write_sample_region(tmp_path / "region")

    def run(*args: str, code: int = 0, stdin: str | None = None) -> str:
        result = runner.invoke(app, list(args), input=stdin)
        assert result.exit_code == code, result.output
        return result.output

    assert "up to date" in run("registry", "migrate")
    assert "Added 11." in run("registry", "region", str(manifest))
    assert "Added 0" in run("registry", "region", str(manifest))
    assert "police_northgate" in run("registry", "search", "police")
    project = "Northgate community health data collaborative"
    assert "No other project" in run("registry", "connections", project)
    assert "unknown project 'Nope'" in run("registry", "connections", "Nope", code=2)
    for name in ("d.graphml", "d.json"):
        run("registry", "graph", str(tmp_path / name))
    run("registry", "export", str(tmp_path / "d.yaml"))
    assert "Added 0" in run("registry", "import", str(tmp_path / "d.yaml"))
    run("registry", "dcat", str(tmp_path / "d.jsonld"))
    run("registry", "html", str(tmp_path / "d.html"))
    assert "<html" in (tmp_path / "d.html").read_text()
    run(
        "registry",
        "add-user",
        "ana",
        "--role",
        "analyst",
        "--password-stdin",
        stdin="a long password here\n",
    )
    assert run("registry", "token", "ana").strip().startswith("slk_")
    hub = "Regional Analytics Hub"
    ok = run("registry", "check-access", "--organisation", hub, "--purpose", "linkage",
             "--dataset", "ae_northgate", "--dataset", "police_northgate")  # fmt: skip
    assert "allowed" in ok
    refused = run("registry", "check-access", "--organisation", "Northgate Police", "--purpose",
                  "analysis", "--dataset", "ae_northgate", code=1)  # fmt: skip
    assert "no agreement shares 'ae_northgate' with 'Northgate Police'" in refused
    assert "refused" in run("audit", "list")
    verified = " ".join(run("audit", "verify").split())  # Rich wraps long lines
    assert "intact:" in verified and "witness file: matches" in verified
    access = run("audit", "list", "--type", "access").strip().splitlines()
    assert len(access) == 2 and all(" access " in line for line in access)
    changes = run("audit", "list", "--type", "registry-change")
    assert "created user" in changes and "created dataset" in changes
    head = re.search(r"\d+:[0-9a-f]{64}", verified).group()  # type: ignore[union-attr]
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP TRIGGER audit_entry_no_update"))
        c.execute(text("UPDATE audit_entry SET outcome = 'allowed' WHERE seq = 2"))
    engine.dispose()
    tampered = run("audit", "verify", "--expect-head", head, code=1)
    assert "entry 2: contents do not match its hash" in tampered


def test_serve_refuses_default_secret_in_production(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SECTORLINK_ENV", "production")
    monkeypatch.delenv("SECTORLINK_SECRET_KEY", raising=False)
    result = runner.invoke(app, ["serve", "--registry", "sqlite://"])
    assert result.exit_code == 2 and "built-in development secret" in result.output
