"""The web app in a real browser (Playwright driving Debian's chromium): each role signs in
through the form and sees what it may; the pages render with no request leaving the
machine; every page passes an axe-core accessibility check with no serious violation.
Screenshots of each page go to `$SECTORLINK_SCREENSHOTS` (default: the test's folder)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sectorlink.insights import run_analysis
from sectorlink.registry.users import create_user
from sectorlink.web import Settings, create_app
from sectorlink.web.hubpaths import HubPaths

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).parents[1] / "web" / "vendor" / "axe-4.14.1.min.js"
PASSWORD = "correct horse battery staple"
PAGES = {
    "viewer": [
        "/",
        "/insights",
        "/insights/service-overlap",
        "/model",
        "/model/code-sets/istv_assault_method",
        "/model/tables/violence",
    ],
    "analyst": ["/linkage"],
    "admin": ["/audit/page"],
}

if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI needs chromium for the browser tests: scripts/setup.sh --spark")
    pytest.skip(
        "chromium is not installed (scripts/setup.sh --spark installs it)", allow_module_level=True
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(hub, tmp_path: Path) -> Iterator[str]:
    import uvicorn

    registry = hub.registry()
    with registry.session() as session:
        for role in ("viewer", "analyst", "admin"):
            create_user(
                session,
                username=role,
                password=PASSWORD,
                role=role,
                organisation=None if role == "viewer" else hub.organisation,
            )
    releases = tmp_path / "releases"
    run_analysis(
        "service-overlap",
        warehouse=hub.warehouse,
        registry=registry,
        organisation=hub.organisation,
        out_dir=releases / "service-overlap",
    )
    app = create_app(
        Settings(environment="test", secret_key="b" * 48),
        registry=registry,
        hub=HubPaths(warehouse=hub.warehouse, releases=releases),
    )
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)
    registry.close()


def _sign_in(page, base: str, role: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(role)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_each_role_sees_its_pages_offline_and_accessible(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("SECTORLINK_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    axe = AXE.read_text(encoding="utf-8")
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for role, urls in PAGES.items():
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                page = context.new_page()
                page.on("request", lambda request: requested.append(request.url))
                page.on(
                    "response",
                    lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
                )
                _sign_in(page, server, role)
                assert page.url == f"{server}/", f"{role} did not land on the directory"
                for url in urls:
                    response = page.goto(server + url)
                    assert response is not None and response.ok, (role, url)
                    name = f"{role}{url.replace('/', '_') or '_home'}.png"
                    page.screenshot(path=str(shots / name), full_page=True)
                    page.evaluate(axe + "\n;undefined")
                    violations = page.evaluate(
                        "axe.run(document, {resultTypes: ['violations']}).then(r => "
                        "r.violations.filter(v => v.impact === 'serious' || "
                        "v.impact === 'critical').map(v => v.id + ': ' + v.help))"
                    )
                    assert violations == [], (role, url, violations)
                context.close()
            # The chart and the release's tables render, with hidden cells marked.
            context = browser.new_context()
            page = context.new_page()
            _sign_in(page, server, "viewer")
            page.goto(f"{server}/insights/service-overlap")
            assert page.locator("svg").count() >= 1
            assert page.locator("table").count() >= 1
            assert page.get_by_role("button", name="Run now").count() == 0
            refused = page.goto(f"{server}/linkage")
            assert refused is not None and refused.status == 403
            assert "needs the analyst role" in page.content()
            context.close()
            context = browser.new_context()
            page = context.new_page()
            # A wrong password says so, on the form.
            _sign_in(page, server, "viewer", password="not the password")
            assert "password" in page.locator(".error").inner_text().lower()
            context.close()
        finally:
            browser.close()
    outside = [u for u in requested if not u.startswith(server) and not u.startswith("data:")]
    assert outside == [], outside
    assert problems == [], problems
    assert len(list(shots.glob("*.png"))) == sum(len(u) for u in PAGES.values())
