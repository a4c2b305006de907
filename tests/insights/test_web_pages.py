"""The hub's web pages for people who do not code, through the real HTTP interface: each
role sees what it may and nothing more, releases are read from the insights registry,
forms need their CSRF token, and every response carries the security headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sectorlink.insights import list_analyses, run_analysis
from sectorlink.registry.users import create_user
from sectorlink.web import Settings, create_app
from sectorlink.web.hubpaths import HubPaths

SECRET = "pages-test-secret-" + "y" * 40
PASSWORD = "correct horse battery staple"
HOSPITAL = "Northgate Hospital NHS Trust"


@dataclass
class Site:
    app: object
    releases: Path
    registry: object

    def client(self, role: str | None) -> TestClient:
        client = TestClient(self.app)  # type: ignore[arg-type]
        if role is not None:
            form = client.get("/login")
            token = client.cookies["sectorlink_csrf"]
            assert f'value="{token}"' in form.text
            signed = client.post(
                "/login",
                data={"username": role, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert signed.status_code == 303, signed.text
        return client


@pytest.fixture
def site(hub, tmp_path: Path) -> Iterator[Site]:
    registry = hub.registry()
    with registry.session() as session:
        for role, organisation in (
            ("admin", hub.organisation),
            ("analyst", hub.organisation),
            ("partner", HOSPITAL),
            ("viewer", None),
        ):
            create_user(
                session, username=role, password=PASSWORD, role=role, organisation=organisation
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
        Settings(environment="test", secret_key=SECRET),
        registry=registry,
        hub=HubPaths(warehouse=hub.warehouse, releases=releases),
    )
    yield Site(app, releases, registry)
    registry.close()


def test_pages_need_sign_in(site: Site) -> None:
    client = site.client(None)
    for url in ("/insights", "/insights/service-overlap", "/model", "/linkage", "/audit/page"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", url


def test_analyses_are_listed_from_the_registry(site: Site) -> None:
    page = site.client("viewer").get("/insights")
    assert page.status_code == 200
    for analysis in list_analyses():
        assert f'href="/insights/{analysis.name}"' in page.text
    assert "No release yet" in page.text or len(list_analyses()) == 1


def test_a_release_page_shows_gated_tables_and_serves_only_its_files(site: Site) -> None:
    client = site.client("viewer")
    page = client.get("/insights/service-overlap")
    assert page.status_code == 200
    assert "Residents by number of services" in page.text
    assert "<svg" in page.text  # the chart, drawn inline
    assert "Run now" not in page.text  # a viewer may not run analyses
    links = re.findall(r'href="(/insights/service-overlap/files/[^"]+)"', page.text)
    assert any(link.endswith(".csv") for link in links)
    for link in links:
        assert client.get(link).status_code == 200, link
    for escape in ("../registry.db", "..%2F..%2Fregistry.db", "summary.json.bak"):
        assert client.get(f"/insights/service-overlap/files/{escape}").status_code == 404
    assert client.get("/insights/no-such-analysis").status_code == 404


def test_running_an_analysis_needs_the_role_and_the_csrf_token(site: Site) -> None:
    viewer = site.client("viewer")
    token = viewer.cookies["sectorlink_csrf"]
    refused = viewer.post("/insights/service-overlap/run", data={"csrf_token": token})
    assert refused.status_code == 403
    analyst = site.client("analyst")
    page = analyst.get("/insights/service-overlap")
    assert "Run now" in page.text
    forged = analyst.post("/insights/service-overlap/run", data={"csrf_token": "guess"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    before = (site.releases / "service-overlap" / "summary.json").read_text()
    ran = analyst.post(
        "/insights/service-overlap/run",
        data={"csrf_token": analyst.cookies["sectorlink_csrf"]},
        follow_redirects=False,
    )
    assert ran.status_code == 303 and "released" in ran.headers["location"]
    after = (site.releases / "service-overlap" / "summary.json").read_text()
    assert after != before and '"actor": "web:analyst"' in after


def test_the_common_language_shows_each_partners_local_codes(site: Site) -> None:
    client = site.client("partner")
    index = client.get("/model")
    assert 'href="/model/code-sets/istv_assault_method"' in index.text
    codes = client.get("/model/code-sets/istv_assault_method")
    assert codes.status_code == 200
    assert "ae_northgate" in codes.text and "punch/kick" in codes.text
    table = client.get("/model/tables/violence")
    assert "assault_method" in table.text and "ISB 1594" in table.text
    assert client.get("/model/code-sets/nope").status_code == 404


def test_linkage_and_audit_pages_by_role(site: Site) -> None:
    assert site.client("viewer").get("/linkage").status_code == 403
    linkage = site.client("analyst").get("/linkage")
    assert linkage.status_code == 200 and "duckdb" in linkage.text
    assert site.client("analyst").get("/audit/page").status_code == 403
    audit = site.client("admin").get("/audit/page?action=publish")
    assert audit.status_code == 200 and "The chain verifies" in audit.text
    assert "analysis/service-overlap" in audit.text


def test_every_response_carries_the_security_headers(site: Site) -> None:
    client = site.client("viewer")
    for url in ("/login", "/insights", "/static/app.css", "/health"):
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["content-security-policy"], url
        assert headers["x-content-type-options"] == "nosniff"
    cookie = site.client(None).get("/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert site.client(None).get("/static/..%2Fapp.py").status_code == 404


def _northgate_sample(hub, tmp_path: Path, rows: int = 30) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    """The first rows of the A&E extract with the record id of data row 5 blanked."""
    raw = (hub.region_dir / "extracts" / "northgate_ed_attendances.csv").read_bytes()
    lines = raw.split(b"\r\n")[: rows + 1]
    cells = lines[5].split(b";")
    cells[0] = b""
    lines[5] = b";".join(cells)
    spec = (hub.region_dir / "specs" / "northgate_ed_attendances.yaml").read_text()
    return b"\r\n".join(lines) + b"\r\n", spec


def _upload(client: TestClient, name: str, content: bytes, spec: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        "/extracts",
        data={"csrf_token": client.cookies["sectorlink_csrf"], "spec": spec},
        files={"file": (name, content, "text/csv")},
    )


def test_send_an_extract_check_fix_and_load(site: Site, hub, tmp_path: Path) -> None:
    client = site.client("partner")
    form = client.get("/extracts/new")
    assert form.status_code == 200 and 'value="ae_northgate"' in form.text
    content, spec = _northgate_sample(hub, tmp_path)
    checked = _upload(client, "northgate_ed_attendances.csv", content, spec="ae_northgate")
    assert checked.status_code == 200, checked.text
    assert "row 6" in checked.text and "AttendanceNo" in checked.text  # the mistake, where it is
    upload_id = re.search(r'action="/extracts/([^/]+)/load"', checked.text).group(1)  # type: ignore[union-attr]
    # A spec naming a column the file lacks: the error says which; fixing it checks clean.
    broken = spec.replace("column: PatientName", "column: PatientNameX")
    token = client.cookies["sectorlink_csrf"]
    bad = client.post(
        f"/extracts/{upload_id}/check", data={"csrf_token": token, "spec_text": broken}
    )
    assert bad.status_code == 400 and "PatientNameX" in bad.text
    good = client.post(
        f"/extracts/{upload_id}/check", data={"csrf_token": token, "spec_text": spec}
    )
    assert good.status_code == 200 and "Load it" in good.text
    loaded = client.post(f"/extracts/{upload_id}/load", data={"csrf_token": token})
    assert loaded.status_code == 200 and "loaded" in loaded.text
    assert all(p.is_relative_to(tmp_path) for p in (tmp_path / "uploads").rglob("*"))
    last = site.registry.__class__  # the audit entry names the web user
    from sectorlink.governance import read_audit_log

    entry = read_audit_log(site.registry, limit=100_000)[-1]  # type: ignore[arg-type]
    assert entry.action == "ingest" and entry.actor == "web:partner" and last


def test_uploads_refused_by_type_size_owner_and_token(site: Site, hub, tmp_path: Path) -> None:
    client = site.client("partner")
    assert _upload(client, "payload.exe", b"MZ").status_code == 400
    refused = _upload(client, "victims.tsv", b"a\tb\n1\t2\n", spec="police_northshire")
    assert refused.status_code in (403, 404)
    forged = client.post(
        "/extracts", data={"csrf_token": "x"}, files={"file": ("a.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert forged.status_code == 403
    site.app.state.hub = HubPaths(  # type: ignore[attr-defined]
        warehouse=hub.warehouse, releases=site.releases, max_upload_mb=1
    )
    big = _upload(client, "big.csv", b"a,b\n" + b"1,2\n" * 400_000)
    assert big.status_code == 413 and "1 MB" in big.text
    assert site.client("viewer").get("/extracts/new").status_code == 403
    drafted = _upload(
        client, "fresh.csv", b"PatientID,FirstName,Surname,DOB\n1,Ann,Lee,01/02/1980\n"
    )
    assert drafted.status_code in (200, 400) and "drafted" in drafted.text


def test_agreement_pages_list_show_use_and_validate_beside_the_field(site: Site) -> None:
    viewer = site.client("viewer")
    listing = viewer.get("/agreements/page")
    assert listing.status_code == 200
    first = re.search(r'href="/agreements/(\d+)/page">(DSA-[^<]+)<', listing.text)
    assert first is not None
    page = viewer.get(f"/agreements/{first.group(1)}/page")
    assert page.status_code == 200 and "What was done under it" in page.text
    used = re.search(r"(\d+) access decision\(s\)", page.text)
    assert used is not None and int(used.group(1)) > 0  # the linkage read rests on it
    assert "Edit this agreement" not in page.text
    assert site.client("analyst").get("/agreements/new/page").status_code == 403
    admin = site.client("admin")
    token = admin.cookies["sectorlink_csrf"]
    form = {
        "csrf_token": token,
        "reference": "DSA-WEB-1",
        "title": "Hospital to hub, for the web test",
        "parties": f"{HOSPITAL}: provider\nRegional Analytics Hub: recipient",
        "datasets": "ae_northgate",
        "purposes": "analysis",
        "valid_from": "2026-01-01",
        "valid_to": "2025-01-01",
        "conditions": "aggregate_outputs_only",
    }
    bad = admin.post("/agreements/new/page", data=form)
    assert bad.status_code == 422
    assert re.search(r'id="e-valid_to">the agreement ends before it starts', bad.text)
    assert 'value="Hospital to hub, for the web test"' in bad.text  # what was typed is kept
    unknown = admin.post(
        "/agreements/new/page",
        data={**form, "valid_to": "2027-01-01", "parties": "Nobody: provider"},
    )
    assert unknown.status_code == 422 and 'id="e-parties"' in unknown.text
    assert admin.post("/agreements/new/page", data={**form, "csrf_token": ""}).status_code == 403
    made = admin.post(
        "/agreements/new/page", data={**form, "valid_to": "2027-01-01"}, follow_redirects=False
    )
    assert made.status_code == 303
    shown = admin.get(made.headers["location"])
    assert "DSA-WEB-1" in shown.text and "aggregate_outputs_only" in shown.text
    edit_url = made.headers["location"].replace("/page", "/edit")
    edited = admin.post(
        edit_url,
        data={**form, "valid_to": "2027-01-01", "purposes": "analysis, linkage"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    assert "analysis, linkage" in admin.get(made.headers["location"]).text


def test_directory_pages_organisation_dataset_network_and_filters(site: Site) -> None:
    client = site.client("viewer")
    home = client.get("/?q=northgate&status=active")
    assert home.status_code == 200 and 'name="population"' in home.text
    found = client.get("/?q=northgate")
    org = re.search(r'href="/organisations/(\d+)/page"', found.text)
    assert org is not None
    page = client.get(f"/organisations/{org.group(1)}/page")
    assert page.status_code == 200 and "ae_northgate" in page.text and "DSA-" in page.text
    dataset = re.search(r'href="/datasets/(\d+)/page"', page.text)
    assert dataset is not None
    shown = client.get(f"/datasets/{dataset.group(1)}/page")
    assert shown.status_code == 200 and "Shared under" in shown.text and "DSA-" in shown.text
    network = client.get("/network")
    assert network.status_code == 200 and "<svg" in network.text
    assert f'href="/organisations/{org.group(1)}/page"' in network.text
    assert client.get("/organisations/999999/page").status_code == 404


def test_the_caseworker_inbox_lists_and_acknowledges_own_alerts(site: Site, hub) -> None:
    from sectorlink.insights.homelessness.agreements import register_care_coordination
    from sectorlink.insights.homelessness.alerts import raise_alerts

    register_care_coordination(site.registry, hub.warehouse)  # type: ignore[arg-type]
    raised = raise_alerts(hub.warehouse, site.registry)  # type: ignore[arg-type]
    with site.registry.session() as session:  # type: ignore[attr-defined]
        create_user(
            session,
            username="caseworker",
            password=PASSWORD,
            role="partner",
            organisation="Northshire Homelessness Partnership",
        )
    client = site.client("caseworker")
    inbox = client.get("/inbox")
    assert inbox.status_code == 200, inbox.text
    ids = re.findall(r'action="/inbox/(AL-[0-9a-f]{20})/acknowledge"', inbox.text)
    assert ids and len(ids) <= max(1, getattr(raised, "raised", len(ids)))
    assert "complaint" not in inbox.text.lower()  # nothing else of the health record
    done = client.post(
        f"/inbox/{ids[0]}/acknowledge",
        data={"csrf_token": client.cookies["sectorlink_csrf"]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = client.get("/inbox")
    assert (
        f'action="/inbox/{ids[0]}/acknowledge"' not in after.text and "acknowledged" in after.text
    )
    # The hospital's partner user sees its own organisation's (no) alerts, never these.
    other = site.client("partner").get("/inbox")
    assert other.status_code == 200 and ids[0] not in other.text
    forged = client.post(f"/inbox/{ids[1 % len(ids)]}/acknowledge", data={"csrf_token": "no"})
    assert forged.status_code == 403


def test_the_combined_view_shows_a_partner_only_its_own_ids(site: Site, hub) -> None:
    from sectorlink.insights import run_analysis as run

    run("vulnerability", warehouse=hub.warehouse, registry=site.registry,  # type: ignore[arg-type]
        organisation=hub.organisation)  # fmt: skip
    client = site.client("partner")
    page = client.get("/vulnerable?purpose=direct-care&top=200")
    assert page.status_code == 200, page.text
    links = re.findall(r'href="(/vulnerable/person\?[^"]+)"', page.text)
    assert links, "the hospital holds nobody in the top 200"
    assert all("source=ae_northgate" in link for link in links)  # its own records only
    person = client.get(links[0].replace("&amp;", "&"))
    assert person.status_code == 200 and "Flags, newest first" in person.text
    assert client.get("/vulnerable?purpose=marketing").status_code == 422
    assert site.client("viewer").get("/vulnerable").status_code == 403
    other = client.get("/vulnerable/person?source=gp_riverside&record_id=1&purpose=direct-care")
    assert other.status_code in (403, 404)
