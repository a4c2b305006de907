from sqlalchemy import text

from sectorlink.registry import register_region

from .conftest import HUB, Api, detail

AGREEMENT = {
    "reference": "DSA-AE",
    "parties": {"Northgate Hospital NHS Trust": "provider", HUB: "recipient"},
    "datasets": ["ae_northgate"],
    "purposes": ["linkage", "analysis"],
    "valid_from": "2024-01-01",
    "valid_to": "2099-12-31",
    "conditions": ["aggregate_outputs_only"],
}


def test_agreement_bad_input(api: Api) -> None:
    backwards = api.post("/agreements", "admin", json={**AGREEMENT, "valid_to": "2023-12-31"})
    assert backwards.status_code == 422
    assert "ends (2023-12-31) before it starts (2024-01-01)" in detail(backwards)
    unknown_ds = api.post("/agreements", "admin", json={**AGREEMENT, "datasets": ["nope"]})
    assert unknown_ds.status_code == 404 and "unknown data set 'nope'" in detail(unknown_ds)
    unknown_org = api.post(
        "/agreements", "admin", json={**AGREEMENT, "parties": {"Ghost Org": "recipient"}}
    )
    assert unknown_org.status_code == 404 and "unknown organisation 'Ghost Org'" in detail(
        unknown_org
    )
    created = api.post("/agreements", "admin", json=AGREEMENT)
    assert created.status_code == 201 and created.json()["state"] == "current"
    assert api.post("/agreements", "admin", json=AGREEMENT).status_code == 409
    agreement_id = created.json()["id"]
    expired = api.patch(f"/agreements/{agreement_id}", "admin", json={"valid_to": "2024-06-30"})
    assert expired.json()["state"] == "expired"


def test_access_checks_are_audited_both_ways(api: Api) -> None:
    api.post("/agreements", "admin", json=AGREEMENT)
    allowed = api.post(
        "/access-checks", json={"purpose": "analysis/violence", "datasets": ["ae_northgate"]}
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["basis"] == {"ae_northgate": "DSA-AE"}
    outside = api.post(
        "/access-checks", json={"purpose": "marketing", "datasets": ["ae_northgate"]}
    )
    assert outside.status_code == 403 and "does not permit purpose 'marketing'" in detail(outside)
    export = api.post(
        "/access-checks",
        json={"purpose": "analysis", "datasets": ["ae_northgate"], "action": "export"},
    )
    assert export.status_code == 403 and "aggregate outputs only" in detail(export)
    other_org = api.post(
        "/access-checks",
        json={
            "organisation": "Northgate Hospital NHS Trust",
            "purpose": "analysis",
            "datasets": ["ae_northgate"],
        },
    )
    assert other_org.status_code == 403 and "only for your own organisation" in detail(other_org)
    entries = api.get("/audit", "admin", params={"type": "access"}).json()
    assert [e["outcome"] for e in entries] == ["allowed", "refused", "refused"]
    assert {e["event"] for e in entries} == {"access"} and entries[0]["organisation_id"]
    assert entries[1]["actor"] == "analyst" and entries[1]["purpose"] == "marketing"
    assert entries[1]["seq"] == outside.json()["audit_seq"]
    assert api.get("/audit/verify", "admin").json()["ok"] is True


def test_expired_agreement_refused(api: Api) -> None:
    api.post(
        "/agreements",
        "admin",
        json={**AGREEMENT, "valid_from": "2020-01-01", "valid_to": "2021-01-01"},
    )
    response = api.post(
        "/access-checks", json={"purpose": "analysis", "datasets": ["ae_northgate"]}
    )
    assert response.status_code == 403 and "expired on 2021-01-01" in detail(response)


def test_tampered_audit_log_is_reported(api: Api, sample_region) -> None:  # type: ignore[no-untyped-def]
    register_region(api.registry, sample_region)
    for purpose in ("linkage", "analysis", "fraud"):
        api.post("/access-checks", json={"purpose": purpose, "datasets": ["ae_northgate"]})
    with api.registry.engine.begin() as c:
        if api.registry.engine.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        else:
            c.execute(text("DROP TRIGGER audit_entry_no_update"))
        c.execute(text("UPDATE audit_entry SET outcome = 'allowed' WHERE seq = 3"))
    report = api.get("/audit/verify", "admin").json()
    assert report["ok"] is False and report["problems"] == [
        "entry 3: contents do not match its hash (edited)"
    ]
    assert api.get("/audit/verify", "admin", params={"expected_head": "bad"}).status_code == 422
