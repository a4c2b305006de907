"""The web app in a real browser (Playwright driving Debian's chromium): each role signs in
through the form and sees what it may; the pages render with no request leaving the
machine; every page passes an axe-core accessibility check with no serious violation; a
partner sends an extract with a mistake, sees it at its row and column, fixes the spec and
loads it; the hotspot map renders; a caseworker acknowledges an alert. Screenshots of each
page go to `$SECTORLINK_SCREENSHOTS` (default: the test's own folder)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sectorlink.insights import list_analyses, run_all
from sectorlink.insights.homelessness.agreements import register_care_coordination
from sectorlink.insights.homelessness.alerts import raise_alerts
from sectorlink.registry.users import create_user
from sectorlink.web import Settings, create_app
from sectorlink.web.hubpaths import HubPaths

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).parents[1] / "web" / "vendor" / "axe-4.14.1.min.js"
PASSWORD = "correct horse battery staple"
USERS = {
    "viewer": ("viewer", None),
    "partner": ("partner", "Northgate Hospital NHS Trust"),
    "caseworker": ("partner", "Northshire Homelessness Partnership"),
    "analyst": ("analyst", "Regional Analytics Hub"),
    "admin": ("admin", "Regional Analytics Hub"),
}
PAGES = {
    "viewer": ["/", "/network", "/insights", "/model", "/model/code-sets/istv_assault_method",
               "/model/tables/violence", "/agreements/page"]
    + [f"/insights/{a.name}" for a in list_analyses()],
    "partner": ["/extracts/new", "/vulnerable"],
    "caseworker": ["/inbox"],
    "analyst": ["/linkage"],
    "admin": ["/audit/page", "/agreements/new/page"],
}  # fmt: skip

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
        for name, (role, organisation) in USERS.items():
            create_user(
                session, username=name, password=PASSWORD, role=role, organisation=organisation
            )
    register_care_coordination(registry, hub.warehouse)
    raise_alerts(hub.warehouse, registry)
    releases = tmp_path / "releases"
    # As the demo does; an analysis the small region cannot support publishes nothing,
    # and its page says there is no release.
    run_all(
        warehouse=hub.warehouse,
        registry=registry,
        organisation=hub.organisation,
        out_dir=releases,
    )
    app = create_app(
        Settings(environment="test", secret_key="b" * 48),
        registry=registry,
        hub=HubPaths(warehouse=hub.warehouse, releases=releases, uploads=tmp_path / "uploads"),
    )
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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


def _sign_in(page, base: str, name: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_web_app_in_a_browser(server: str, hub, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("SECTORLINK_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    axe = AXE.read_text(encoding="utf-8")
    requested: list[str] = []
    problems: list[str] = []

    def watch(page) -> None:  # type: ignore[no-untyped-def]
        page.on("request", lambda request: requested.append(request.url))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        page.on(
            "console", lambda m: problems.append(m.text) if "Content Security" in m.text else None
        )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for name, urls in PAGES.items():
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                page = context.new_page()
                watch(page)
                _sign_in(page, server, name)
                assert page.url == f"{server}/", f"{name} did not land on the directory"
                for url in urls:
                    response = page.goto(server + url)
                    assert response is not None and response.ok, (name, url)
                    shot = f"{name}{url.replace('/', '_')}.png".replace("__", "_")
                    page.screenshot(path=str(shots / shot))  # the first screenful
                    page.evaluate(axe + "\n;undefined")
                    violations = page.evaluate(
                        "axe.run(document, {resultTypes: ['violations']}).then(r => "
                        "r.violations.filter(v => v.impact === 'serious' || "
                        "v.impact === 'critical').map(v => v.id + ': ' + v.help))"
                    )
                    assert violations == [], (name, url, violations)
                context.close()

            context = browser.new_context()
            page = context.new_page()
            watch(page)
            # A viewer sees the releases but may not run them or open the linkage page.
            _sign_in(page, server, "viewer")
            page.goto(f"{server}/insights/service-overlap")
            assert page.locator("svg").count() >= 1 and page.locator("table").count() >= 1
            assert page.get_by_role("button", name="Run now").count() == 0
            refused = page.goto(f"{server}/linkage")
            assert refused is not None and refused.status == 403
            # The hotspot map renders from the release, offline.
            page.goto(f"{server}/insights/violence-hotspots")
            assert page.locator("svg path").count() > 10, "the hotspot map has no areas"
            context.close()

            # A partner sends an extract with a mistake, sees where it is, fixes it, loads it.
            context = browser.new_context()
            page = context.new_page()
            watch(page)
            _sign_in(page, server, "partner")
            raw = (hub.region_dir / "extracts" / "northgate_ed_attendances.csv").read_bytes()
            lines = raw.split(b"\r\n")[:31]
            cells = lines[5].split(b";")
            cells[0] = b""
            lines[5] = b";".join(cells)
            extract = tmp_path / "northgate_ed_attendances.csv"
            extract.write_bytes(b"\r\n".join(lines) + b"\r\n")
            page.goto(f"{server}/extracts/new")
            page.locator("input[type=file]").set_input_files(str(extract))
            page.locator("select[name=spec]").select_option("ae_northgate")
            page.get_by_role("button", name="Check it").click()
            assert "row 6" in page.content() and "AttendanceNo" in page.content()
            spec = page.locator("#spec_text")
            spec.fill(spec.input_value().replace("column: PatientName", "column: PatientNam"))
            page.get_by_role("button", name="Check again").click()
            assert "PatientNam" in page.locator(".error").inner_text()
            spec = page.locator("#spec_text")
            spec.fill(spec.input_value().replace("column: PatientNam\n", "column: PatientName\n"))
            page.get_by_role("button", name="Check again").click()
            page.get_by_role("button", name="Load it").click()
            assert "loaded as data set" in page.content()
            page.screenshot(path=str(shots / "partner_extracts_loaded.png"))
            context.close()

            # A caseworker acknowledges an alert.
            context = browser.new_context()
            page = context.new_page()
            watch(page)
            _sign_in(page, server, "caseworker")
            page.goto(f"{server}/inbox")
            buttons = page.get_by_role("button", name=re.compile("Acknowledge the alert"))
            before = buttons.count()
            assert before >= 1
            buttons.first.click()
            assert "acknowledged" in page.locator(".message").inner_text()
            assert page.get_by_role("button", name=re.compile("Acknowledge the alert")).count() == (
                before - 1
            )
            context.close()

            # A wrong password says so, on the form.
            context = browser.new_context()
            page = context.new_page()
            _sign_in(page, server, "viewer", password="not the password")
            assert "password" in page.locator(".error").inner_text().lower()
            context.close()
        finally:
            browser.close()
    outside = [u for u in requested if not u.startswith(server) and not u.startswith("data:")]
    assert outside == [], outside
    assert problems == [], problems
