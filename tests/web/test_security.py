"""Issue 15: what a hostile but ordinary user could do through the API, closed."""

from sectorlink.governance import read_audit_log

from .conftest import HOSPITAL, HUB, PASSWORD, Api, detail

MARKETING = {"purpose": "marketing", "datasets": ["ae_northgate"], "action": "export"}


def _agreement(api: Api) -> None:
    created = api.post(
        "/agreements",
        "admin",
        json={
            "reference": "DSA-AE",
            "parties": {HOSPITAL: "provider", HUB: "recipient"},
            "datasets": ["ae_northgate"],
            "purposes": ["analysis"],
            "valid_from": "2024-01-01",
            "valid_to": "2099-12-31",
        },
    )
    assert created.status_code == 201, created.text


def test_analyst_cannot_make_itself_a_data_sets_owner(api: Api) -> None:
    # point 1: before, 200, and the access check then allowed marketing exports 'by owner'
    _agreement(api)
    taken = api.patch("/datasets/ae_northgate", "analyst", json={"owner": HUB})
    assert taken.status_code == 403 and "only an admin may change" in detail(taken)
    assert api.get("/datasets/ae_northgate").json()["owner"] == HOSPITAL
    assert api.post("/access-checks", "analyst", json=MARKETING).status_code == 403


def test_partner_cannot_give_its_data_set_away(api: Api) -> None:
    # point 2
    given = api.patch("/datasets/ae_northgate", "partner", json={"owner": HUB})
    assert given.status_code == 403
    assert api.get("/datasets/ae_northgate").json()["owner"] == HOSPITAL


def test_admin_changes_owner_audited_and_owner_access_keeps_to_registered_purposes(
    api: Api,
) -> None:
    _agreement(api)
    moved = api.patch("/datasets/ae_northgate", "admin", json={"owner": HUB})
    assert moved.status_code == 200 and moved.json()["owner"] == HUB
    change = read_audit_log(api.registry, type="registry-change", limit=1000)[-1]
    assert change.actor == "admin (api)" and change.action == "updated dataset"
    assert change.detail["before"]["owner"]["name"] == HOSPITAL
    assert change.detail["after"]["owner"]["name"] == HUB
    # owning it allows the hub's registered purposes (analysis), never marketing
    assert api.post("/access-checks", "analyst", json=MARKETING).status_code == 403
    refused = api.post("/access-checks", "analyst", json=MARKETING)
    assert "none of its registered purposes (analysis)" in detail(refused)
    owned = api.post("/access-checks", json={"purpose": "analysis", "datasets": ["ae_northgate"]})
    assert owned.status_code == 200 and owned.json()["basis"] == {"ae_northgate": "owner"}


def test_renaming_an_organisation_is_admin_only_and_audited_by_id(api: Api) -> None:
    # point 3
    hub_id = next(o["id"] for o in api.get("/organisations").json() if o["name"] == HUB)
    renamed = api.patch(f"/organisations/{hub_id}", "analyst", json={"name": "Someone Else"})
    assert renamed.status_code == 403 and "only an admin may rename" in detail(renamed)
    edited = api.patch(f"/organisations/{hub_id}", "analyst", json={"geography": "Northgate"})
    assert edited.status_code == 200  # other details stay an analyst's to edit
    assert (
        api.patch(f"/organisations/{hub_id}", "admin", json={"name": "Hub Two"}).status_code == 200
    )
    change = read_audit_log(api.registry, type="registry-change", limit=1000)[-1]
    assert change.organisation_id == hub_id and change.actor == "admin (api)"
    assert change.detail["before"]["name"] == HUB and change.detail["after"]["name"] == "Hub Two"
    checked = api.post("/access-checks", json={"purpose": "analysis", "datasets": ["ae_northgate"]})
    decision = read_audit_log(api.registry, type="access")[-1]
    assert decision.organisation_id == hub_id and checked.status_code == 403


def test_every_registry_write_is_a_typed_audit_entry(api: Api) -> None:
    # point 6: agreements, users and data sets
    _agreement(api)
    agreement_id = api.get("/agreements").json()[0]["id"]
    api.patch(f"/agreements/{agreement_id}", "admin", json={"valid_to": "2030-01-01"})
    api.post(
        "/users",
        "admin",
        json={"username": "newbie", "password": "a long password 1", "role": "viewer"},
    )
    api.patch("/datasets/ae_northgate", "partner", json={"title": "A&E attendances"})
    changes = read_audit_log(api.registry, type="registry-change", limit=1000)
    actions = [(c.action, c.actor) for c in changes]
    assert ("created agreement", "admin (api)") in actions
    assert ("updated agreement", "admin (api)") in actions
    assert ("created user", "admin (api)") in actions
    assert ("updated dataset", "partner (api)") in actions
    updated = next(c for c in changes if c.action == "updated agreement")
    assert updated.detail["before"]["valid_to"] == "2099-12-31"
    assert updated.detail["after"]["valid_to"] == "2030-01-01"
    created_user = next(c for c in changes if c.action == "created user")
    assert "password_hash" not in created_user.detail["after"]
    assert api.get("/audit/verify", "admin").json()["ok"] is True


def _login(api: Api, username: str, password: str):  # type: ignore[no-untyped-def]
    return api.client.post("/auth/token", data={"username": username, "password": password})


def test_sign_out_revokes_the_token_and_admins_deactivate_users(api: Api) -> None:
    # point 4: before, a token still worked after signing out; no way to revoke or deactivate
    token = _login(api, "analyst", PASSWORD).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/auth/me", headers=headers).status_code == 200
    out = api.client.post("/auth/sign-out", headers=headers)
    assert out.status_code == 200 and out.json()["tokens_revoked"] == 1
    assert api.client.get("/auth/me", headers=headers).status_code == 401
    users = {u["username"]: u["id"] for u in api.get("/users", "admin").json()}
    assert api.post(f"/users/{users['partner']}/deactivate", "analyst").status_code == 403
    gone = api.post(f"/users/{users['partner']}/deactivate", "admin")
    assert gone.status_code == 200 and gone.json() == {
        "username": "partner", "tokens_revoked": 1, "active": False,
    }  # fmt: skip
    assert api.get("/auth/me", "partner").status_code == 401
    assert _login(api, "partner", PASSWORD).status_code == 401
    revoked = api.post(f"/users/{users['viewer']}/revoke-tokens", "admin")
    assert revoked.json()["tokens_revoked"] == 1 and api.get("/auth/me").status_code == 401
    changes = read_audit_log(api.registry, type="registry-change", limit=1000)
    assert any(
        c.action == "updated user" and c.detail["after"].get("active") is False for c in changes
    )
    assert sum(c.action == "updated token" for c in changes) >= 3


def test_wrong_passwords_lock_the_account_with_an_audited_lock(api: Api) -> None:
    # point 5: before, 30 wrong passwords and then the right one answered 200
    answers = [_login(api, "analyst", "wrong password!").status_code for _ in range(6)]
    assert answers[:5] == [401] * 5 and answers[5] == 429
    right = _login(api, "analyst", PASSWORD)
    assert right.status_code == 429 and "too many failed sign-ins" in detail(right)
    locks = [e for e in read_audit_log(api.registry, type="auth") if e.action == "sign-in locked"]
    assert len(locks) == 1 and locks[0].detail["account"] == "analyst"
    # the address is limited too: many accounts from one address
    for i in range(20):
        _login(api, f"nobody{i}", "wrong password!")
    assert _login(api, "admin", PASSWORD).status_code == 429


def test_production_refuses_weak_or_derived_secrets(sqlite_registry) -> None:  # type: ignore[no-untyped-def]
    # point 7: before, any 32 characters were accepted
    import secrets

    import pytest

    from sectorlink.web import InsecureSettings, Settings, create_app
    from sectorlink.web.settings import DEVELOPMENT_SECRET

    for weak in (" " * 32, DEVELOPMENT_SECRET + "x", "ab" * 20, "X" + DEVELOPMENT_SECRET[:-1]):
        with pytest.raises(InsecureSettings, match="not fit for 'production'"):
            create_app(Settings(environment="production", secret_key=weak), sqlite_registry)
    create_app(
        Settings(environment="production", secret_key=secrets.token_urlsafe(48)), sqlite_registry
    )


def test_serve_warns_loudly_in_development(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import uvicorn
    from typer.testing import CliRunner

    from sectorlink.cli import app

    monkeypatch.delenv("SECTORLINK_ENV", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    result = CliRunner().invoke(app, ["serve", "--registry", "sqlite://"])
    assert result.exit_code == 0, result.output
    assert "DEVELOPMENT MODE" in result.output and "public" in result.output


def test_explicit_nulls_in_patch_are_422_not_500(api: Api) -> None:
    # point 10: before, 500s from an explicit null in these PATCH bodies
    org_id = api.get("/organisations").json()[0]["id"]
    project = api.post("/projects", json={"name": "Null test", "partners": [HUB]})
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    tried = [
        (f"/organisations/{org_id}", {"name": None}),
        (f"/organisations/{org_id}", {"sector": None}),
    ]
    tried += [
        (f"/projects/{project_id}", {k: None}) for k in ("name", "status", "sectors", "partners")
    ]
    for url, body in tried:
        answer = api.patch(url, "admin", json=body)
        assert answer.status_code == 422, (url, body, answer.text)
        assert isinstance(answer.json()["detail"], list)
        assert "null" in detail(answer) or "not a valid value" in detail(answer)


def test_only_an_admin_sets_the_disclosure_minimum(api: Api) -> None:
    # point 13: the minimum a custom profile may go down to is the admin's to set
    assert api.get("/settings/disclosure-minimum").json() == {"min_count": 8}
    body = {"min_count": 3}
    assert (
        api.client.put(
            "/settings/disclosure-minimum", json=body, headers=api.headers("analyst")
        ).status_code
        == 403
    )
    assert (
        api.client.put(
            "/settings/disclosure-minimum", json={"min_count": 1}, headers=api.headers("admin")
        ).status_code
        == 422
    )
    done = api.client.put("/settings/disclosure-minimum", json=body, headers=api.headers("admin"))
    assert done.status_code == 200 and api.get("/settings/disclosure-minimum").json() == body
    change = read_audit_log(api.registry, type="registry-change", limit=1000)[-1]
    assert change.actor == "admin (api)" and change.detail["after"]["value"] == "3"
