"""The insights layer: registry, one access check, a Grant-bound context, the gate at the
writers, whole releases, and the CLI around them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from sectorlink.cli import app
from sectorlink.governance import (
    AccessDenied,
    Grant,
    apply_disclosure_control,
    get_profile,
    read_audit_log,
)
from sectorlink.insights import (
    Analysis,
    AnalysisOutput,
    GeographyError,
    InsightError,
    NothingToPublish,
    UnknownAnalysis,
    UnprotectedOutput,
    build_context,
    get_analysis,
    list_analyses,
    load_geography,
    parse_month,
    run_analysis,
)
from sectorlink.insights.writers import write_csv, write_geojson, write_parquet
from sectorlink.model.catalogue import table_definition
from sectorlink.model.tables import TABLES
from sectorlink.model.types import DUCKDB_TYPES

runner = CliRunner()
IDENTIFIERS = {f.name for f in TABLES["person_record"].fields if f.identifier}


def _probe(tables: tuple[str, ...] = ("event", "violence")) -> Analysis:
    return Analysis(
        name="probe",
        title="Probe",
        question="What does the context hold?",
        purpose="analysis/probe",
        tables=tables,
        run=lambda ctx: AnalysisOutput(body=""),  # type: ignore[arg-type]
    )


def _grant(*sources: str) -> Grant:
    return Grant(
        organisation="hub",
        purpose="analysis/probe",
        action="read",
        datasets=sources,
        basis={s: "test" for s in sources},
        audit_seq=0,
        granted_at="",
    )


def test_registry_lists_analyses_and_names_them_on_a_miss() -> None:
    names = [a.name for a in list_analyses()]
    assert "service-overlap" in names
    assert names == sorted(names)
    with pytest.raises(UnknownAnalysis) as error:
        get_analysis("hotspotz")
    assert "service-overlap" in str(error.value)


def test_parameters_parse_and_refuse_bad_values() -> None:
    from sectorlink.insights import Parameter

    analysis = Analysis(
        name="p",
        title="p",
        question="p",
        purpose="analysis/p",
        tables=(),
        run=print,  # type: ignore[arg-type]
        parameters=(Parameter("days", int, 30, "window"), Parameter("strict", bool, False, "")),
    )
    assert analysis.parse_parameters({"days": "7", "strict": "yes"}) == {"days": 7, "strict": True}
    assert analysis.parse_parameters({}) == {"days": 30, "strict": False}
    with pytest.raises(ValueError, match="days must be a int"):
        analysis.parse_parameters({"days": "seven"})
    with pytest.raises(ValueError, match=r"has no parameter .weeks.*days, strict"):
        analysis.parse_parameters({"weeks": "1"})


def test_parse_month() -> None:
    assert parse_month("2024-02") == dt.date(2024, 2, 1)
    assert parse_month("2024-02", end=True) == dt.date(2024, 2, 29)
    assert parse_month("2024-12", end=True) == dt.date(2024, 12, 31)
    assert parse_month(None) is None
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month("02/2024")


def test_context_holds_only_granted_sources_and_no_identifiers(linked_region) -> None:
    ctx = build_context(
        linked_region.warehouse,
        _probe(),
        _grant("ae_northgate"),
        profile=get_profile("suppress-1-10"),
    )
    try:
        assert set(ctx.sql("SELECT DISTINCT source FROM event")["source"]) == {"ae_northgate"}
        assert set(ctx.sql("SELECT DISTINCT source FROM person_index")["source"]) == {
            "ae_northgate"
        }
        tables = set(ctx.sql("SHOW TABLES")["name"])
        assert "person_record" not in tables
        assert {"event", "violence", "person", "person_index", "geo_area"} <= tables
        for table in tables:
            columns = set(ctx.sql(f"DESCRIBE {table}")["column_name"])
            assert not (columns & (IDENTIFIERS - {"sex", "birth_year", "postcode"})), table
        assert "postcode" not in set(ctx.sql("DESCRIBE person")["column_name"])
        # The warehouse is detached: nothing outside the copy can be reached.
        with pytest.raises(duckdb.Error):
            ctx.sql("SELECT * FROM wh.person_record")
        linked = ctx.sql("SELECT count(*) AS n, count(person_key) AS k FROM event").iloc[0]
        assert linked["n"] > 0 and linked["k"] == linked["n"]
    finally:
        ctx.con.close()


def test_events_are_placed_by_coordinates_then_postcode(linked_region) -> None:
    ctx = build_context(
        linked_region.warehouse,
        _probe(("event",)),
        _grant("ambulance_westmoor", "police_northshire"),
        profile=get_profile("suppress-1-10"),
    )
    try:
        placed = ctx.sql("SELECT area_by, count(*) AS n, count(area) AS a FROM event GROUP BY 1")
        by = dict(zip(placed["area_by"], placed["n"], strict=True))
        assert by.get("coordinates", 0) > 0
        assert set(by) <= {"given", "coordinates", "postcode", "outside", "unplaced"}
        areas = set(ctx.sql("SELECT code FROM geo_area")["code"])
        used = set(ctx.sql("SELECT DISTINCT area FROM event WHERE area IS NOT NULL")["area"])
        assert used <= areas
    finally:
        ctx.con.close()


def test_a_run_checks_access_once_and_writes_a_whole_release(hub, tmp_path: Path) -> None:
    registry = hub.registry()
    before = len(read_audit_log(registry, limit=100_000))
    out = tmp_path / "release"
    run = run_analysis(
        "service-overlap",
        warehouse=hub.warehouse,
        registry=registry,
        organisation=hub.organisation,
        out_dir=out,
        actor="tester",
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["analysis"] == "service-overlap"
    assert summary["linkage_run"] == run.linkage_run
    assert summary["period"]["from"] <= summary["period"]["to"]
    assert {"shared_residents", "residents_by_services"} <= set(summary["tables"])
    for files in summary["tables"].values():
        for key in ("csv", "parquet", "suppression_log"):
            assert (out / files[key]).is_file()
    assert (out / "summary.html").is_file()
    entries = read_audit_log(registry, limit=100_000)[before:]
    assert [(e.action, e.outcome) for e in entries] == [
        ("read", "allowed"),
        ("publish", "published"),
    ]
    assert entries[0].purpose == "analysis/service-overlap"
    assert summary["access_audit_entry"] == entries[0].seq
    assert summary["audit_entry"] == entries[1].seq
    assert all(e.actor == "tester" for e in entries)
    # The counts published are the gate's: every value a multiple of 5 under the default profile.
    table = pd.read_csv(out / "residents_by_services.csv")
    assert all(int(v) % 5 == 0 for v in table["residents"] if v != "[c]")
    registry.close()


def test_an_organisation_without_agreement_is_refused_and_audited(hub, tmp_path: Path) -> None:
    registry = hub.registry()
    out = tmp_path / "release"
    with pytest.raises(AccessDenied):
        run_analysis(
            "service-overlap",
            warehouse=hub.warehouse,
            registry=registry,
            organisation="Northshire Police",
            out_dir=out,
        )
    assert not out.exists()
    last = read_audit_log(registry, limit=100_000)[-1]
    assert last.outcome == "refused" and last.purpose == "analysis/service-overlap"
    registry.close()


def test_a_period_with_nothing_publishes_nothing(hub, tmp_path: Path) -> None:
    registry = hub.registry()
    out = tmp_path / "release"
    with pytest.raises(NothingToPublish):
        run_analysis(
            "service-overlap",
            warehouse=hub.warehouse,
            registry=registry,
            organisation=hub.organisation,
            out_dir=out,
            period=(dt.date(1990, 1, 1), dt.date(1990, 12, 31)),
        )
    assert not out.exists()
    assert read_audit_log(registry, limit=100_000)[-1].outcome == "withheld"
    registry.close()


def test_a_failed_write_leaves_the_previous_release(hub, tmp_path: Path, monkeypatch) -> None:
    registry = hub.registry()
    out = tmp_path / "release"
    run_analysis(
        "service-overlap",
        warehouse=hub.warehouse,
        registry=registry,
        organisation=hub.organisation,
        out_dir=out,
    )
    first = (out / "summary.json").read_text()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("sectorlink.insights.run.write_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        run_analysis(
            "service-overlap",
            warehouse=hub.warehouse,
            registry=registry,
            organisation=hub.organisation,
            out_dir=out,
        )
    assert (out / "summary.json").read_text() == first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    registry.close()


def test_an_unlinked_warehouse_is_refused(tmp_path: Path, linked_region) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    registry = linked_region.registry()
    with pytest.raises(InsightError):
        run_analysis("service-overlap", warehouse=path, registry=registry, organisation="x")
    with pytest.raises(InsightError, match="does not exist"):
        run_analysis(
            "service-overlap", warehouse=tmp_path / "no.duckdb", registry=registry, organisation="x"
        )
    registry.close()


def test_writers_accept_only_protected_tables(tmp_path: Path) -> None:
    frame = pd.DataFrame({"area": ["A", "B"], "n": [3, 40]})
    for writer in (write_csv, write_parquet):
        with pytest.raises(UnprotectedOutput, match="disclosure gate"):
            writer(frame, tmp_path / "x")  # type: ignore[arg-type]
    with pytest.raises(UnprotectedOutput):
        write_geojson({"type": "Feature"}, tmp_path / "x.geojson")
    protected = apply_disclosure_control(frame, "suppress-1-10", name="t")
    write_csv(protected, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text()
    assert "[c]" in text and ",3" not in text  # hidden, never written as the count or a zero
    write_parquet(protected, tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert back["suppressed_n"].any() and back.loc[back["suppressed_n"], "n"].isna().all()


def test_tables_labelled_by_several_columns_keep_a_column_per_label(
    linked_region, tmp_path: Path
) -> None:
    ctx = build_context(
        linked_region.warehouse,
        _probe(("event",)),
        _grant("ae_northgate"),
        profile=get_profile("suppress-1-7-round-5"),
    )
    try:
        frame = pd.DataFrame(
            {"site": ["N", "N", "S"], "month": ["2024-01", "2024-02", "2024-01"], "n": [40, 3, 25]}
        )
        protected = ctx.publish("by_site", frame, title="By site", labels=["site", "month"])
    finally:
        ctx.con.close()
    assert protected is not None
    write_csv(protected, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert list(back.columns[:2]) == ["site", "month"]
    assert back.loc[0, "site"] == "N" and back.loc[0, "month"] == "2024-01"
    assert (back["site"] == "Total").sum() == 1 and "(" not in "".join(back["site"])
    write_parquet(protected, tmp_path / "t.parquet")
    assert list(pd.read_parquet(tmp_path / "t.parquet").columns[:2]) == ["site", "month"]


def test_publish_statistics_hides_rows_with_small_support(linked_region) -> None:
    ctx = build_context(
        linked_region.warehouse,
        _probe(("event",)),
        _grant("ae_northgate"),
        profile=get_profile("suppress-1-7-round-5"),
    )
    try:
        frame = pd.DataFrame({"area": ["A", "B", "C"], "rate": [0.5, 0.25, 0.0], "n": [4, 123, 0]})
        table = ctx.publish_statistics("rates", frame, title="Rates", support="n", labels=["area"])
        assert table.table.loc["A", "rate"] is None and table.suppressed.loc["A", "rate"]
        assert table.table.loc["B", "rate"] == 0.25 and table.table.loc["B", "n"] == 125
        assert not table.suppressed.loc["C"].any()
        assert [n.row for n in table.log] == ["A"]
        # A table the gate would hide entirely is not published, and the notes say why.
        assert (
            ctx.publish("tiny", pd.DataFrame({"k": ["a"], "n": [2]}), title="Tiny", labels=["k"])
            is None
        )
        assert "tiny" in ctx.withheld and any("Tiny" in n for n in ctx.notes)
        with pytest.raises(ValueError, match="hub owns"):
            ctx.keep("person_record", frame)
    finally:
        ctx.con.close()


def test_map_marks_suppressed_areas_never_zero(linked_region) -> None:
    ctx = build_context(
        linked_region.warehouse,
        _probe(("event",)),
        _grant("ambulance_westmoor"),
        profile=get_profile("suppress-1-10"),
    )
    try:
        codes = list(ctx.sql("SELECT code FROM geo_area ORDER BY code")["code"][:3])
        frame = pd.DataFrame({"area": codes, "n": [3, 50, 60]})
        table = ctx.publish("by_area", frame, title="By area", labels=["area"], totals=False)
        assert table is not None
        collection = ctx.publish_map("by_area_map", table, value="n", title="By area")
        props = {f["properties"]["code"]: f["properties"] for f in collection["features"]}
        assert props[codes[0]]["suppressed"] is True and props[codes[0]]["n"] is None
        for code in codes:  # hidden (the small cell, and any hidden to protect it) means null
            assert props[code]["suppressed"] == bool(table.suppressed.at[code, "n"])
            assert (props[code]["n"] is None) == props[code]["suppressed"]
        shown = [c for c in codes if not props[c]["suppressed"]]
        assert shown and all(props[c]["n"] >= 50 for c in shown)
        others = [p for c, p in props.items() if c not in codes]
        assert others and all(p["n"] == 0 and not p["suppressed"] for p in others)
    finally:
        ctx.con.close()


def test_geography_errors_name_file_row_and_column(tmp_path: Path, linked_region) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    areas = linked_region.region_dir / "geography" / "small_areas.geojson"
    bad = tmp_path / "postcodes.csv"
    bad.write_text("postcode,area\nNX1 1AA,E1\n")
    with pytest.raises(GeographyError, match="missing small_area"):
        load_geography(con, bad, areas)
    bad.write_text("postcode,small_area,latitude\nNX1 1AA,E1,52.1\nNX1 1AB,E1,north\n")
    with pytest.raises(GeographyError, match=r"row 3, column latitude: 'north'"):
        load_geography(con, bad, areas)
    bad.write_text("postcode,small_area\nNX1 1AA,\n")
    with pytest.raises(GeographyError, match="row 2, column small_area: empty"):
        load_geography(con, bad, areas)
    bad.write_text("postcode,small_area\nNX1 1AA,NOWHERE\n")
    with pytest.raises(GeographyError, match="no outline"):
        load_geography(con, bad, areas)
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)
    con.close()


def test_geography_tables_are_made_from_the_catalogue(tmp_path: Path, linked_region) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    geography = linked_region.region_dir / "geography"
    try:
        for _ in range(2):  # a second load replaces the first whole
            load_geography(con, geography / "postcodes.csv", geography / "small_areas.geojson")
        for name in ("geo_postcode", "geo_area"):
            described = con.execute(f"DESCRIBE {name}").fetchall()
            expected = [(f.name, DUCKDB_TYPES[f.type]) for f in table_definition(name).fields]
            assert [(r[0], r[1]) for r in described] == expected
        lookup = pd.read_csv(geography / "postcodes.csv", dtype=str)
        held = con.execute("SELECT count(*) FROM geo_postcode").fetchone()
    finally:
        con.close()
    assert held == (len(lookup),)


def test_cli_lists_runs_and_reports_mistakes(hub, tmp_path: Path) -> None:
    listed = runner.invoke(app, ["insights", "list"])
    assert listed.exit_code == 0 and "service-overlap" in listed.output
    base = ["--warehouse", str(hub.warehouse), "--registry", hub.registry_url]
    unknown = runner.invoke(app, ["insights", "run", "nope", *base, "--organisation", "x"])
    assert unknown.exit_code == 2 and "service-overlap" in unknown.output
    month = runner.invoke(
        app, ["insights", "run", "service-overlap", *base, "--organisation", "x", "--from", "2024"]
    )
    assert month.exit_code == 2 and "YYYY-MM" in month.output
    refused = runner.invoke(
        app, ["insights", "run", "service-overlap", *base, "--organisation", "Northshire Police"]
    )
    assert refused.exit_code == 3 and "access refused" in refused.output
    out = tmp_path / "rel"
    ok = runner.invoke(
        app,
        [
            "insights",
            "run",
            "service-overlap",
            *base,
            "--organisation",
            hub.organisation,
            "--out",
            str(out),
            "--from",
            "2024-01",
            "--to",
            "2024-12",
        ],
    )
    assert ok.exit_code == 0, ok.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["period"] == {"from": "2024-01-01", "to": "2024-12-31"}
