import pytest
from fastapi.testclient import TestClient

from sectorlink.web import InsecureSettings, Settings, create_app
from sectorlink.web.settings import DEVELOPMENT_SECRET

from .conftest import PASSWORD, Api, detail


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_refuses_to_start_with_default_or_weak_secret(environment: str, sqlite_registry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InsecureSettings, match="built-in development secret"):
        create_app(Settings(environment=environment), registry=sqlite_registry)
    with pytest.raises(InsecureSettings, match="at least 32 characters"):
        create_app(Settings(environment=environment, secret_key="short"), registry=sqlite_registry)
    with pytest.raises(InsecureSettings, match="too little entropy"):  # 40 characters, 0 bits
        create_app(Settings(environment=environment, secret_key="s" * 40), registry=sqlite_registry)
    strong = "kV3q-9zR_x7LmP2wYt8sNf4hJd6bGc1aQe0uWoIr5Ty"
    create_app(Settings(environment=environment, secret_key=strong), registry=sqlite_registry)


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECTORLINK_ENV", "Production")
    monkeypatch.delenv("SECTORLINK_SECRET_KEY", raising=False)
    settings = Settings.from_env()
    assert settings.environment == "production" and settings.secret_key == DEVELOPMENT_SECRET
    with pytest.raises(InsecureSettings):
        settings.check()


def test_login_issues_a_working_token(api: Api) -> None:
    response = api.client.post("/auth/token", data={"username": "ANALYST", "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (
        me.json()["username"] == "analyst" and me.json()["organisation"] == "Regional Analytics Hub"
    )
    assert "password" not in me.text and "hash" not in me.text
    wrong = api.client.post("/auth/token", data={"username": "analyst", "password": "nope" * 4})
    assert wrong.status_code == 401


def test_requests_without_a_valid_token_are_401(api: Api) -> None:
    assert api.client.get("/organisations").status_code == 401
    bad = api.client.get("/organisations", headers={"Authorization": "Bearer slk_forged"})
    assert bad.status_code == 401 and "unknown, expired or revoked" in detail(bad)
    other_app = create_app(
        Settings(environment="test", secret_key="another-" + "y" * 40), registry=api.registry
    )
    with TestClient(other_app) as client:  # a token is worthless under another secret
        assert client.get("/organisations", headers=api.headers("admin")).status_code == 401


@pytest.mark.parametrize(
    ("method", "url", "body", "lowest"),
    [
        ("get", "/organisations", None, "viewer"),
        ("post", "/organisations", {"name": "New Org", "sector": "community"}, "analyst"),
        ("get", "/users", None, "admin"),
        ("get", "/audit/verify", None, "admin"),
        ("get", "/directory.yaml", None, "analyst"),
        (
            "post",
            "/agreements",
            {
                "reference": "DSA-9",
                "parties": {"Regional Analytics Hub": "recipient"},
                "datasets": ["ae_northgate"],
                "purposes": ["analysis"],
                "valid_from": "2025-01-01",
                "valid_to": "2026-01-01",
            },
            "admin",
        ),
    ],
)
def test_roles_are_checked_by_one_dependency(
    api: Api, method: str, url: str, body: dict[str, object] | None, lowest: str
) -> None:
    roles = ["viewer", "partner", "analyst", "admin"]
    for role in roles:
        kwargs = {"json": body} if body is not None else {}
        response = api.client.request(method, url, headers=api.headers(role), **kwargs)  # type: ignore[arg-type]
        if roles.index(role) < roles.index(lowest):
            assert response.status_code == 403, (role, response.text)
            assert f"needs the {lowest} role" in detail(response)
        else:
            assert response.status_code in (200, 201, 409), (role, response.text)


def test_partner_edits_only_its_own_data_sets(api: Api) -> None:
    api.post("/datasets", json={"source": "hub_data", "owner": "Regional Analytics Hub"})
    own = api.patch("/datasets/ae_northgate", "partner", json={"update_frequency": "weekly"})
    assert own.status_code == 200 and own.json()["update_frequency"] == "weekly"
    other = api.patch("/datasets/hub_data", "partner", json={"title": "mine now"})
    assert other.status_code == 403 and "belongs to 'Regional Analytics Hub'" in detail(other)
    assert api.patch("/datasets/hub_data", "analyst", json={"title": "ok"}).status_code == 200


def test_admin_creates_users(api: Api) -> None:
    response = api.post(
        "/users", "admin", json={"username": "newbie", "password": "x" * 12, "role": "viewer"}
    )
    assert response.status_code == 201 and "password" not in response.json()
    again = api.post(
        "/users", "admin", json={"username": "NEWBIE", "password": "x" * 12, "role": "viewer"}
    )
    assert again.status_code == 409
    partner = api.post(
        "/users", "admin", json={"username": "p2", "password": "x" * 12, "role": "partner"}
    )
    assert partner.status_code == 422 and "must belong to an organisation" in detail(partner)
