import pytest

from sectorlink.registry import (
    Registry,
    create_dataset,
    create_organisation,
    create_project,
    directory_html,
    find_connections,
    graph_graphml,
    project_by_name,
    search_directory,
)


@pytest.fixture
def directory(registry: Registry) -> Registry:
    with registry.session() as s:
        create_organisation(
            s, name="Northgate Hospital", sector="health care", geography="Northgate"
        )
        create_organisation(s, name="Northgate Police", sector="police", geography="Northgate")
        create_organisation(s, name="Shelter North", sector="housing", geography="Northgate")
        create_organisation(s, name="Lead Safe Homes", sector="public health", geography="Eastport")
        create_dataset(
            s, source="ae_northgate", owner="Northgate Hospital", title="A&E attendances"
        )
        create_dataset(
            s, source="police_ops", owner="Northgate Police", title="Violent crime reports"
        )
        create_dataset(
            s, source="hmis", owner="Shelter North", title="Homeless services enrolments"
        )
        create_project(
            s, name="Safer Nights", aims="Reduce night-time violence by mapping assault hotspots "
            "from hospital and police data", population="adults in the night-time economy",
            geography="Northgate", partners=["Northgate Hospital", "Northgate Police"],
            datasets=["ae_northgate", "police_ops"], status="active",
        )  # fmt: skip
        create_project(
            s, name="Violence Reduction Unit", aims="Map violence hotspots and assaults to target "
            "prevention", population="young people aged 10-25", geography="Northgate",
            partners=["Northgate Police"], datasets=["police_ops"], status="active",
        )  # fmt: skip
        create_project(
            s, name="Street to Home", aims="Coordinate care for people experiencing homelessness "
            "who attend A&E", population="people experiencing homelessness", geography="Northgate",
            partners=["Shelter North", "Northgate Hospital"], datasets=["hmis", "ae_northgate"],
            status="proposed",
        )  # fmt: skip
        create_project(
            s, name="Lead Free Kids", aims="Predict childhood lead risk from housing inspections",
            population="children under 6", geography="Eastport", partners=["Lead Safe Homes"],
            status="completed",
        )  # fmt: skip
    return registry


def test_search_ranks_and_filters(directory: Registry) -> None:
    with directory.session() as s:
        hits = search_directory(s, "violence hotspots")
        assert [h.name for h in hits][:2] == ["Safer Nights", "Violence Reduction Unit"] or [
            h.name for h in hits
        ][:2] == ["Violence Reduction Unit", "Safer Nights"]
        assert all(h.kind == "project" for h in hits)
        police = search_directory(s, "", sector="police", kinds=["project"])
        assert {h.name for h in police} == {"Safer Nights", "Violence Reduction Unit"}
        assert [h.name for h in search_directory(s, "", status="proposed")] == ["Street to Home"]
        assert [h.name for h in search_directory(s, "", population="children")] == [
            "Lead Free Kids"
        ]
        assert {h.name for h in search_directory(s, "", geography="eastport")} == {
            "Lead Free Kids",
            "Lead Safe Homes",
        }
        # data sets are searched by source and title, and projects through their data sets
        assert {h.name for h in search_directory(s, "homeless")} >= {"hmis", "Street to Home"}
        assert search_directory(s, "violence", status="completed") == []


@pytest.mark.parametrize(
    "attack",
    [
        "' OR 1=1 --",
        "%",
        "_",
        "\\",
        "'; DROP TABLE project; --",
        "<script>alert('x')</script>",
        '" OR ""="',
    ],
)
def test_search_injection_matches_nothing(directory: Registry, attack: str) -> None:
    with directory.session() as s:
        assert search_directory(s, attack) == [] or all(
            h.score > 0 for h in search_directory(s, attack)
        )
        assert len(search_directory(s, "")) == 11  # nothing was dropped


def test_wildcards_are_literal(directory: Registry) -> None:
    with directory.session() as s:
        create_organisation(s, name="100% Community", sector="community")
        assert [h.name for h in search_directory(s, "100%")] == ["100% Community"]


def test_connections_show_reasons(directory: Registry) -> None:
    with directory.session() as s:
        found = find_connections(s, project_by_name(s, "Safer Nights"))
        names = [c.project for c in found]
        assert names[0] in {"Violence Reduction Unit", "Street to Home"}
        vru = next(c for c in found if c.project == "Violence Reduction Unit")
        reasons = " | ".join(vru.reasons)
        assert "shares data sets: police_ops" in reasons
        assert "shares organisations: Northgate Police" in reasons
        assert "same geography: Northgate" in reasons
        assert "similar aims" in reasons and "hotspot" in reasons
        home = next(c for c in found if c.project == "Street to Home")
        assert "shares data sets: ae_northgate" in " | ".join(home.reasons)
        assert "Lead Free Kids" not in names


def test_html_and_graphml_escape_markup(registry: Registry) -> None:
    with registry.session() as s:
        create_organisation(s, name="<script>alert(1)</script> & Co", sector="community")
        create_project(s, name="<b>Bold</b>", aims="<img src=x onerror=alert(1)>")
        html = directory_html(s)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;" in graph_graphml(s)
