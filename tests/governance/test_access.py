import datetime as dt
from pathlib import Path

import pytest

from sectorlink.governance import AccessDenied, authorise, read_audit_log, verify_audit_log
from sectorlink.registry import (
    Registry,
    agreement_by_reference,
    create_agreement,
    create_dataset,
    create_organisation,
    register_region,
    update_agreement,
)
from sectorlink.registry.testing import write_sample_region

HUB = "Regional Analytics Hub"


@pytest.fixture
def region(registry: Registry, tmp_path: Path) -> Registry:
    manifest = write_sample_region(tmp_path / "region", encoded=("police_northgate",))
    register_region(registry, manifest)
    return registry


def test_covered_read_is_granted_and_audited(region: Registry) -> None:
    grant = authorise(
        region,
        organisation="regional analytics hub",
        purpose="linkage",
        datasets=["ae_northgate", "police_northgate"],
        actor="analyst@hub",
    )
    assert grant.organisation == HUB
    assert grant.basis == {
        "ae_northgate": "DSA-NORTHGATE-HOSPITAL-NHS-TRUST",
        "police_northgate": "DSA-NORTHGATE-POLICE",
    }
    entry = read_audit_log(region)[-1]
    assert entry.seq == grant.audit_seq
    assert entry.outcome == "allowed" and entry.actor == "analyst@hub"
    assert entry.datasets == ("ae_northgate", "police_northgate")
    assert entry.purpose == "linkage"


def test_sub_purpose_is_covered(region: Registry) -> None:
    grant = authorise(
        region, organisation=HUB, purpose="analysis/violence-hotspots", datasets=["ae_northgate"]
    )
    assert grant.purpose == "analysis/violence-hotspots"


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (
            {
                "organisation": "Northgate Police",
                "purpose": "analysis",
                "datasets": ["ae_northgate"],
            },
            "no agreement shares 'ae_northgate' with 'Northgate Police'",
        ),
        (
            {"organisation": HUB, "purpose": "marketing", "datasets": ["ae_northgate"]},
            "does not permit purpose 'marketing' (permits: analysis, ",
        ),
        (
            {
                "organisation": HUB,
                "purpose": "analysis",
                "datasets": ["ae_northgate"],
                "action": "export",
            },
            "allows aggregate outputs only, so 'export' is refused",
        ),
        (
            {
                "organisation": HUB,
                "purpose": "linkage",
                "datasets": ["police_northgate"],
                "action": "read_identifiers",
            },
            "allows encoded identifiers only",
        ),
        (
            {
                "organisation": "Nowhere Council",
                "purpose": "analysis",
                "datasets": ["ae_northgate"],
            },
            "unknown organisation 'Nowhere Council'",
        ),
        (
            {"organisation": HUB, "purpose": "analysis", "datasets": ["ae_southgate"]},
            "unknown data set 'ae_southgate'",
        ),
        ({"organisation": HUB, "purpose": "analysis", "datasets": []}, "names no data set"),
        (
            {
                "organisation": HUB,
                "purpose": "analysis",
                "datasets": ["ae_northgate"],
                "action": "delete",
            },
            "unknown action 'delete'",
        ),
    ],
)
def test_requests_outside_agreements_are_refused_and_audited(
    region: Registry, request_: dict[str, object], reason: str
) -> None:
    with pytest.raises(AccessDenied) as refused:
        authorise(region, **request_)  # type: ignore[arg-type]
    assert reason in refused.value.reason
    entry = read_audit_log(region)[-1]
    assert entry.seq == refused.value.audit_seq
    assert entry.outcome == "refused" and reason in entry.reason
    assert verify_audit_log(region).ok


def test_expired_and_revoked_and_future_agreements(region: Registry) -> None:
    with region.session() as s:
        agreement = agreement_by_reference(s, "DSA-NORTHGATE-HOSPITAL-NHS-TRUST")
        update_agreement(
            s, agreement, {"valid_from": dt.date(2020, 1, 1), "valid_to": dt.date(2021, 3, 31)}
        )
    with pytest.raises(AccessDenied, match="expired on 2021-03-31"):
        authorise(region, organisation=HUB, purpose="analysis", datasets=["ae_northgate"])
    # the same request on a day the agreement was in force is allowed
    authorise(
        region,
        organisation=HUB,
        purpose="analysis",
        datasets=["ae_northgate"],
        on=dt.date(2021, 1, 1),
    )
    with pytest.raises(AccessDenied, match="not valid until 2020-01-01"):
        authorise(
            region,
            organisation=HUB,
            purpose="analysis",
            datasets=["ae_northgate"],
            on=dt.date(2019, 1, 1),
        )
    with region.session() as s:
        update_agreement(s, agreement_by_reference(s, "DSA-NORTHGATE-POLICE"), {"revoked": True})
    with pytest.raises(AccessDenied, match="DSA-NORTHGATE-POLICE was revoked"):
        authorise(region, organisation=HUB, purpose="analysis", datasets=["police_northgate"])


def test_every_data_set_must_be_covered(region: Registry) -> None:
    with region.session() as s:
        update_agreement(
            s,
            agreement_by_reference(s, "DSA-NORTHGATE-POLICE"),
            {"valid_to": dt.date(2021, 1, 1), "valid_from": dt.date(2020, 1, 1)},
        )
    with pytest.raises(AccessDenied) as refused:
        authorise(
            region,
            organisation=HUB,
            purpose="linkage",
            datasets=["ae_northgate", "police_northgate"],
        )
    assert "'police_northgate': agreement DSA-NORTHGATE-POLICE expired" in refused.value.reason
    assert "ae_northgate" not in refused.value.reason.replace("'police_northgate'", "")


def test_owner_reads_its_own_data_and_providers_do_not_receive(registry: Registry) -> None:
    with registry.session() as s:
        create_organisation(s, name="Hospital", sector="health care")
        create_organisation(s, name="Police", sector="police")
        create_dataset(s, source="ae", owner="Hospital")
        create_dataset(s, source="crime", owner="Police")
        create_agreement(
            s, reference="DSA-X", parties={"Hospital": "provider", "Police": "provider"},
            datasets=["ae", "crime"], purposes=["analysis"],
            valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2099, 1, 1),
        )  # fmt: skip
    grant = authorise(registry, organisation="Hospital", purpose="analysis", datasets=["ae"])
    assert grant.basis == {"ae": "owner"}
    with pytest.raises(
        AccessDenied, match="names the organisation as provider, not as a recipient"
    ):
        authorise(registry, organisation="Hospital", purpose="analysis", datasets=["crime"])


def test_organisations_are_recorded_and_named_by_stable_id(region: Registry) -> None:
    """Issue 15, point 3: a rename does not change who an audit entry or grant names."""
    from sectorlink.registry import organisation_by_name, update_organisation

    with region.session() as s:
        hub_id = organisation_by_name(s, HUB).id
    grant = authorise(region, organisation=f"#{hub_id}", purpose="linkage",
                      datasets=["ae_northgate"])  # fmt: skip
    assert grant.organisation == HUB and grant.organisation_id == hub_id
    with region.session(actor="admin@hub") as s:
        update_organisation(s, organisation_by_name(s, HUB), {"name": "Hub Renamed"})
    entries = read_audit_log(region, limit=1000)
    assert entries[-2].organisation_id == hub_id and entries[-2].event == "access"
    rename = entries[-1]
    assert rename.event == "registry-change" and rename.organisation_id == hub_id
    assert rename.detail["before"]["name"] == HUB and rename.actor == "admin@hub"
    again = authorise(region, organisation=f"#{hub_id}", purpose="linkage",
                      datasets=["ae_northgate"])  # fmt: skip
    assert again.organisation == "Hub Renamed" and again.organisation_id == hub_id
    with pytest.raises(AccessDenied, match="no organisation with id 99999"):
        authorise(region, organisation="#99999", purpose="linkage", datasets=["ae_northgate"])
