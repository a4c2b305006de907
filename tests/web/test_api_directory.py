from sectorlink.registry import register_region

from .conftest import HOSPITAL, HUB, Api, detail


def _project(api: Api, name: str, **extra: object) -> dict[str, object]:
    body = {"name": name, "aims": "Reduce violence by mapping assault hotspots", **extra}
    response = api.post("/projects", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def test_crud_round_trip(api: Api) -> None:
    created = api.post("/organisations", json={"name": "Northgate Police", "sector": "Police"})
    assert created.status_code == 201 and created.json()["sector"] == "police"
    org_id = created.json()["id"]
    person = api.post(
        f"/organisations/{org_id}/people", json={"name": "Sam Reid", "role": "Analyst"}
    )
    assert person.status_code == 201
    updated = api.patch(f"/organisations/{org_id}", json={"geography": "Northgate"})
    assert (
        updated.json()["geography"] == "Northgate"
        and updated.json()["people"][0]["name"] == "Sam Reid"
    )
    dataset = api.post(
        "/datasets",
        json={"source": "police_ops", "owner": "northgate police", "fields": ["event.start_time"]},
    )
    assert dataset.status_code == 201 and dataset.json()["owner"] == "Northgate Police"
    project = _project(
        api,
        "Safer Nights",
        partners=[HOSPITAL, "Northgate Police"],
        datasets=["ae_northgate", "police_ops"],
        geography="Northgate",
        start_date="2025-01-01",
        contacts=[{"organisation": "Northgate Police", "name": "Sam Reid"}],
    )
    got = api.get(f"/projects/{project['id']}").json()
    assert got["partners"] == [HOSPITAL, "Northgate Police"]
    assert got["contacts"] == [{"organisation": "Northgate Police", "name": "Sam Reid"}]
    patched = api.patch(
        f"/projects/{project['id']}", json={"status": "paused", "partners": [HOSPITAL]}
    )
    assert patched.json()["status"] == "paused" and patched.json()["partners"] == [HOSPITAL]
    assert api.get("/projects/999999").status_code == 404
    assert api.get("/datasets/police_ops").json()["fields"] == ["event.start_time"]


def test_bad_input_names_what_is_wrong(api: Api) -> None:
    dup = api.post(
        "/organisations",
        json={"name": "  northgate HOSPITAL nhs   trust ", "sector": "health care"},
    )
    assert dup.status_code == 409 and "already exists as 'Northgate Hospital NHS Trust'" in detail(
        dup
    )
    sector = api.post("/organisations", json={"name": "X", "sector": "astrology"})
    assert sector.status_code == 422 and "unknown sector 'astrology'" in detail(sector)
    dates = api.post(
        "/projects", json={"name": "P", "start_date": "2025-05-01", "end_date": "2025-01-01"}
    )
    assert dates.status_code == 422 and "before it starts" in detail(dates)
    unknown = api.post("/projects", json={"name": "P", "datasets": ["nope_data"]})
    assert unknown.status_code == 404 and "unknown data set 'nope_data'" in detail(unknown)
    field = api.post("/datasets", json={"source": "d1", "owner": HUB, "fields": ["event.colour"]})
    assert field.status_code == 422 and "no field 'colour'" in detail(field)
    extra = api.post("/organisations", json={"name": "Y", "sector": "community", "is_admin": True})
    assert extra.status_code == 422


def test_search_connections_and_injection(api: Api) -> None:
    api.post("/organisations", json={"name": "Northgate Police", "sector": "police"})
    a = _project(
        api,
        "Safer Nights",
        partners=["Northgate Police"],
        datasets=["ae_northgate"],
        geography="Northgate",
    )
    _project(
        api,
        "Violence Reduction Unit",
        partners=["Northgate Police"],
        datasets=["ae_northgate"],
        geography="Northgate",
    )
    hits = api.get("/search", params={"q": "violence hotspots", "kind": "project"}).json()
    assert {h["name"] for h in hits} == {"Safer Nights", "Violence Reduction Unit"}
    assert api.get("/search", params={"q": "x", "sector": "astrology"}).status_code == 422
    for attack in ("' OR '1'='1", "%' --", "<script>alert(1)</script>", "\x00"):
        response = api.get("/search", params={"q": attack})
        assert response.status_code == 200 and response.json() == []
    connections = api.get(f"/projects/{a['id']}/connections").json()
    assert connections[0]["project"] == "Violence Reduction Unit"
    assert any("shares data sets: ae_northgate" in r for r in connections[0]["reasons"])


def test_graph_catalog_yaml_and_pages(api: Api, sample_region) -> None:  # type: ignore[no-untyped-def]
    register_region(api.registry, sample_region)
    graph = api.get("/graph").json()
    assert {n["kind"] for n in graph["nodes"]} == {"organisation", "project", "dataset"}
    graphml = api.get("/graph.graphml")
    assert graphml.headers["content-type"].startswith("application/graphml+xml")
    catalog = api.get("/catalog.jsonld")
    assert catalog.headers["content-type"].startswith("application/ld+json")
    assert any(d["dct:identifier"] == "police_northgate" for d in catalog.json()["dcat:dataset"])
    assert "sectorlink_directory: 1" in api.get("/directory.yaml", "analyst").text
    assert api.client.get("/directory", follow_redirects=False).status_code == 303
    page = api.get("/directory")
    assert page.status_code == 200 and "DSA-NORTHGATE-POLICE" in page.text
    project_id = graph["nodes"][[n["kind"] for n in graph["nodes"]].index("project")]["id"].split(
        ":"
    )[1]
    assert "Who else works on this?" in api.get(f"/projects/{project_id}/page").text
    assert "Northgate Police" in api.get("/", params={"q": "police"}).text


def test_html_injection_is_escaped_in_pages(api: Api) -> None:
    api.post("/organisations", json={"name": "<script>alert('x')</script>", "sector": "community"})
    _project(api, "<img src=x onerror=alert(1)>", aims="<b>bold</b> violence")
    for url, params in (("/directory", None), ("/", {"q": "violence"}), ("/", {"q": "<script>"})):
        text = api.get(url, params=params).text
        assert "<script>alert" not in text and "<img src=x" not in text and "<b>bold" not in text
    assert "&lt;script&gt;" in api.get("/directory").text


def test_login_page_sets_cookie_for_pages(api: Api) -> None:
    from .conftest import PASSWORD

    form = api.client.get("/login")
    assert form.status_code == 200 and "password" in form.text
    token = api.client.cookies["sectorlink_csrf"]
    assert f'value="{token}"' in form.text  # the form carries its CSRF token
    forged = api.client.post("/login", data={"username": "viewer", "password": PASSWORD})
    assert forged.status_code == 403  # no CSRF token: refused before the password is checked
    wrong = api.client.post(
        "/login", data={"username": "viewer", "password": "wrong password!", "csrf_token": token}
    )
    assert wrong.status_code == 401
    response = api.client.post(
        "/login",
        data={"username": "viewer", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303 and "httponly" in response.headers["set-cookie"].lower()
    assert api.client.get("/directory").status_code == 200  # the client keeps the cookie
    assert api.client.get("/organisations").status_code == 401  # the API wants a bearer token
