import datetime as dt

import pytest

from sectorlink.registry import (
    Duplicate,
    InvalidInput,
    NotFound,
    Registry,
    add_person,
    create_agreement,
    create_dataset,
    create_organisation,
    create_project,
    organisation_by_name,
    update_agreement,
    update_organisation,
    update_project,
)


def _orgs(registry: Registry) -> None:
    with registry.session() as s:
        create_organisation(
            s, name="Northgate Hospital NHS Trust", sector="health care", geography="Northgate"
        )
        create_organisation(s, name="Regional Analytics Hub", sector="research and analytics")
        create_dataset(
            s,
            source="ae_northgate",
            owner="Northgate Hospital NHS Trust",
            fields=[("person_record", "nhs_number")],
        )


def test_organisation_names_differing_by_case_or_spacing_are_duplicates(registry: Registry) -> None:
    _orgs(registry)
    for clash in ("northgate hospital nhs trust", "  Northgate   Hospital NHS\tTrust "):
        expected = "already exists as 'Northgate Hospital NHS Trust'"
        with pytest.raises(Duplicate, match=expected), registry.session() as s:
            create_organisation(s, name=clash, sector="health care")
    with registry.session() as s:
        assert (
            organisation_by_name(s, "NORTHGATE hospital nhs trust").name
            == "Northgate Hospital NHS Trust"
        )


def test_rename_onto_another_name_is_refused(registry: Registry) -> None:
    _orgs(registry)
    with pytest.raises(Duplicate), registry.session() as s:
        org = organisation_by_name(s, "Regional Analytics Hub")
        update_organisation(s, org, {"name": "northgate hospital NHS trust"})


def test_unknown_vocabulary_and_fields_are_named(registry: Registry) -> None:
    with pytest.raises(InvalidInput, match="unknown sector 'space'"), registry.session() as s:
        create_organisation(s, name="X", sector="space")
    with registry.session() as s:
        org = create_organisation(s, name="Housing Trust", sector="Homelessness")
        assert org.sector == "housing/homelessness"
    with pytest.raises(InvalidInput, match="has no field 'shoe_size'"), registry.session() as s:
        create_dataset(
            s, source="h1", owner="Housing Trust", fields=[("person_record", "shoe_size")]
        )
    with pytest.raises(InvalidInput, match="lower-case"), registry.session() as s:
        create_dataset(s, source="Bad Source", owner="Housing Trust")
    with (
        pytest.raises(
            NotFound, match="unknown organisation 'Housing Trusts'; did you mean 'Housing Trust'"
        ),
        registry.session() as s,
    ):
        create_dataset(s, source="h2", owner="Housing Trusts")


def test_people_and_projects(registry: Registry) -> None:
    _orgs(registry)
    with registry.session() as s:
        org = organisation_by_name(s, "Northgate Hospital NHS Trust")
        add_person(s, org, name="Dr Ada Lane", role="Caldicott Guardian")
        project = create_project(
            s,
            name="Safer Nights",
            aims="Reduce night-time violence",
            sectors=["health", "police"],
            leads=["Regional Analytics Hub"],
            partners=["Northgate Hospital NHS Trust"],
            datasets=["ae_northgate"],
            contacts=[{"organisation": "Northgate Hospital NHS Trust", "name": "dr ada lane"}],
            start_date=dt.date(2025, 1, 1),
        )
        assert project.sectors == ["health care", "police"]
        assert [c.person.name for c in project.contact_links] == ["Dr Ada Lane"]
    with pytest.raises(InvalidInput, match=r"ends .* before it starts"), registry.session() as s:
        from sectorlink.registry import project_by_name

        update_project(s, project_by_name(s, "safer nights"), {"end_date": dt.date(2024, 1, 1)})
    with pytest.raises(InvalidInput, match="cannot update colour"), registry.session() as s:
        update_project(s, project_by_name(s, "safer nights"), {"colour": "red"})


def test_agreement_validation(registry: Registry) -> None:
    _orgs(registry)
    base = {
        "parties": {
            "Northgate Hospital NHS Trust": "provider",
            "Regional Analytics Hub": "recipient",
        },
        "datasets": ["ae_northgate"],
        "purposes": ["linkage"],
        "valid_from": dt.date(2025, 1, 1),
        "valid_to": dt.date(2026, 1, 1),
    }
    expected = r"ends \(2024-12-31\) before it starts \(2025-01-01\)"
    with pytest.raises(InvalidInput, match=expected), registry.session() as s:
        create_agreement(s, reference="DSA-1", **{**base, "valid_to": dt.date(2024, 12, 31)})
    with pytest.raises(NotFound, match="unknown data set 'ae_southgate'"), registry.session() as s:
        create_agreement(s, reference="DSA-1", **{**base, "datasets": ["ae_southgate"]})
    with (
        pytest.raises(NotFound, match="unknown organisation 'Nowhere Council'"),
        registry.session() as s,
    ):
        create_agreement(
            s, reference="DSA-1", **{**base, "parties": {"Nowhere Council": "recipient"}}
        )
    with pytest.raises(InvalidInput, match="purpose 'Linkage Please'"), registry.session() as s:
        create_agreement(s, reference="DSA-1", **{**base, "purposes": ["Linkage Please"]})
    with pytest.raises(InvalidInput, match="unknown agreement condition"), registry.session() as s:
        create_agreement(s, reference="DSA-1", **{**base, "conditions": ["be nice"]})
    with registry.session() as s:
        agreement = create_agreement(s, reference="DSA-1", **base)
    with pytest.raises(Duplicate), registry.session() as s:
        create_agreement(s, reference="dsa-1", **base)
    with pytest.raises(InvalidInput, match="before it starts"), registry.session() as s:
        from sectorlink.registry import agreement_by_reference

        update_agreement(s, agreement_by_reference(s, "DSA-1"), {"valid_to": dt.date(2020, 1, 1)})
    assert agreement.reference == "DSA-1"


def test_injection_text_is_stored_verbatim(registry: Registry) -> None:
    nasty = "Robert'); DROP TABLE organisation;-- <script>alert(1)</script>"
    with registry.session() as s:
        create_organisation(s, name=nasty, sector="community")
    with registry.session() as s:
        assert organisation_by_name(s, nasty).name == nasty
        create_organisation(s, name="Another", sector="community")  # the table still exists


def test_control_characters_are_refused(registry: Registry) -> None:
    with pytest.raises(InvalidInput, match="control characters"), registry.session() as s:
        create_organisation(s, name="Bad\x00Name", sector="community")


def test_values_longer_than_their_columns_are_refused_not_crashed(registry: Registry) -> None:
    _orgs(registry)
    too_long = [
        ({"name": "ß" * 200, "sector": "community"}, "organisation name is longer than 300"),
        ({"name": "Ok", "sector": "community", "geography": "x" * 301}, "geography is longer"),
    ]
    for values, message in too_long:
        with pytest.raises(InvalidInput, match=message), registry.session() as s:
            create_organisation(s, **values)
    weekly = "w" * 101
    with pytest.raises(InvalidInput, match="longer than 100"), registry.session() as s:
        create_dataset(s, source="d2", owner="Regional Analytics Hub", update_frequency=weekly)
    with pytest.raises(InvalidInput, match="at most 100 long"), registry.session() as s:
        create_dataset(s, source="d" * 101, owner="Regional Analytics Hub")
