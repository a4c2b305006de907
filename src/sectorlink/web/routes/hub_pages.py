"""The hub's pages for people who do not code: the analyses and their releases, the
common language, linkage runs and the audit log.

Every page needs a signed-in user; each checks the role it needs with the same role order
the API uses (viewer < partner < analyst < admin). The analysis pages are generated from
the insights registry: adding an analysis adds its page. Forms carry a CSRF token.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from sectorlink.governance import AccessDenied, read_audit_log, verify_audit_log
from sectorlink.insights import (
    InsightError,
    NothingToPublish,
    UnknownAnalysis,
    get_analysis,
    list_analyses,
    run_analysis,
)
from sectorlink.model.codesets import CODE_SETS
from sectorlink.model.tables import TABLES
from sectorlink.registry.db import Registry
from sectorlink.registry.models import User
from sectorlink.registry.users import role_at_least
from sectorlink.sources.vocabulary import local_codes, unmapped_codes
from sectorlink.web.deps import RegistryDep, page_user
from sectorlink.web.hubpaths import HubPaths
from sectorlink.web.protection import CsrfChecked, csrf_token

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
templates.env.globals["csrf_token"] = csrf_token
router = APIRouter(include_in_schema=False)
PageUser = Annotated[User | None, Depends(page_user)]
STATIC = Path(__file__).parent.parent / "static"


def get_hub(request: Request) -> HubPaths:
    hub: HubPaths = getattr(request.app.state, "hub", None) or HubPaths()
    return hub


HubDep = Annotated[HubPaths, Depends(get_hub)]


class SignInFirst(Exception):
    """Raised by a page dependency: the visitor is not signed in."""


def _needs(user: User | None, role: str) -> User:
    if user is None:
        raise SignInFirst()
    if not role_at_least(user.role, role):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"this page needs the {role} role or above; you are {user.role}",
        )
    return user


def _page(request: Request, template: str, user: User, **context: Any) -> Response:
    return templates.TemplateResponse(request, template, {"user": user, **context})


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such file")
    return FileResponse(path)


# -- insights ---------------------------------------------------------------------------


def _release(hub: HubPaths, name: str) -> tuple[Path | None, dict[str, Any] | None]:
    if hub.releases is None:
        return None, None
    folder = hub.releases / name
    summary = folder / "summary.json"
    if not summary.is_file():
        return folder, None
    return folder, json.loads(summary.read_text(encoding="utf-8"))


def _csv_rows(path: Path, limit: int = 200) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = [row for _, row in zip(range(limit), reader, strict=False)]
    return header, rows


@router.get("/insights", response_class=HTMLResponse)
def insights_index(request: Request, user: PageUser, hub: HubDep) -> Response:
    viewer = _needs(user, "viewer")
    cards = []
    for analysis in list_analyses():
        _, summary = _release(hub, analysis.name)
        cards.append({"analysis": analysis, "summary": summary})
    return _page(request, "insights.html", viewer, title="Analyses", cards=cards)


@router.get("/insights/{name}", response_class=HTMLResponse)
def insight_page(name: str, request: Request, user: PageUser, hub: HubDep) -> Response:
    viewer = _needs(user, "viewer")
    try:
        analysis = get_analysis(name)
    except UnknownAnalysis as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from None
    folder, summary = _release(hub, name)
    tables, figures = [], []
    if folder is not None and summary is not None:
        for table_name, files in summary.get("tables", {}).items():
            header, rows = _csv_rows(folder / files["csv"])
            tables.append({"name": table_name, "files": files, "header": header, "rows": rows})
        for figure_name, file in summary.get("figures", {}).items():
            svg = (folder / file).read_text(encoding="utf-8")
            # Our own SVG, drawn by sectorlink from protected tables with every label escaped.
            figures.append({"name": figure_name, "svg": Markup(svg)})
    return _page(
        request,
        "insight.html",
        viewer,
        title=analysis.title,
        analysis=analysis,
        summary=summary,
        tables=tables,
        figures=figures,
        can_run=role_at_least(viewer.role, "analyst") and hub.warehouse is not None,
        message=request.query_params.get("message", ""),
    )


@router.get("/insights/{name}/files/{file}")
def insight_file(name: str, file: str, user: PageUser, hub: HubDep) -> Response:
    _needs(user, "viewer")
    folder, summary = _release(hub, name)
    if folder is None or summary is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{name} has no release yet")
    listed = {"summary.json", "summary.html", *summary.get("maps", {}).values()}
    listed |= set(summary.get("figures", {}).values())
    for files in summary.get("tables", {}).values():
        listed |= {files["csv"], files["parquet"], files["suppression_log"]}
    if file not in listed:  # only what the release lists: no path can leave the folder
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{file} is not in the release")
    return FileResponse(folder / file, filename=file)


@router.post("/insights/{name}/run")
def insight_run(
    name: str,
    request: Request,
    user: PageUser,
    hub: HubDep,
    registry: RegistryDep,
    _: CsrfChecked,
) -> Response:
    analyst = _needs(user, "analyst")
    if hub.warehouse is None or hub.releases is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="set SECTORLINK_WAREHOUSE and SECTORLINK_RELEASES to run analyses here",
        )
    organisation = analyst.organisation.name if analyst.organisation else ""
    message = _run(name, hub, registry, organisation, f"web:{analyst.username}")
    return RedirectResponse(f"/insights/{name}?message={message}", status_code=303)


def _run(name: str, hub: HubPaths, registry: Registry, organisation: str, actor: str) -> str:
    assert hub.warehouse is not None and hub.releases is not None
    try:
        run = run_analysis(
            name,
            warehouse=hub.warehouse,
            registry=registry,
            organisation=organisation,
            out_dir=hub.releases / name,
            actor=actor,
        )
    except UnknownAnalysis as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from None
    except AccessDenied as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=error.reason) from None
    except NothingToPublish as nothing:
        return f"nothing published: {nothing}"
    except InsightError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
    return f"released {run.period[0]} to {run.period[1]} (audit entry {run.summary['audit_entry']})"


# -- the common language ----------------------------------------------------------------


def _read_only(hub: HubPaths) -> duckdb.DuckDBPyConnection | None:
    if hub.warehouse is None or not hub.warehouse.is_file():
        return None
    return duckdb.connect(str(hub.warehouse), read_only=True)


@router.get("/model", response_class=HTMLResponse)
def model_index(request: Request, user: PageUser) -> Response:
    viewer = _needs(user, "viewer")
    return _page(
        request,
        "model.html",
        viewer,
        title="The common language",
        tables=list(TABLES.values()),
        code_sets=list(CODE_SETS.values()),
    )


@router.get("/model/tables/{name}", response_class=HTMLResponse)
def model_table(name: str, request: Request, user: PageUser) -> Response:
    viewer = _needs(user, "viewer")
    table = TABLES.get(name)
    if table is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no model table {name!r}")
    return _page(request, "model_table.html", viewer, title=f"Table {name}", table=table)


@router.get("/model/code-sets/{name}", response_class=HTMLResponse)
def model_code_set(name: str, request: Request, user: PageUser, hub: HubDep) -> Response:
    viewer = _needs(user, "viewer")
    code_set = CODE_SETS.get(name)
    if code_set is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no code set {name!r}")
    by_code: dict[str, list[dict[str, str]]] = {c.code: [] for c in code_set.codes}
    waiting: list[dict[str, Any]] = []
    notes: list[str] = []
    con = _read_only(hub)
    if con is not None:
        try:
            mapped, notes = local_codes(con)
            for row in mapped[mapped["code_set"] == name].to_dict("records"):
                by_code.setdefault(row["code"], []).append(row)
            fields = {
                f"{t.name}.{f.name}"
                for t in TABLES.values()
                for f in t.fields
                if f.code_set == name
            }
            pending = unmapped_codes(con)
            pending = pending[(pending["table_name"] + "." + pending["field"]).isin(fields)]
            waiting = pending.to_dict("records")
        finally:
            con.close()
    return _page(
        request,
        "code_set.html",
        viewer,
        title=f"Code set {name}",
        code_set=code_set,
        by_code=by_code,
        waiting=waiting,
        notes=notes,
        has_warehouse=con is not None,
    )


# -- linkage and audit ------------------------------------------------------------------


@router.get("/linkage", response_class=HTMLResponse)
def linkage_page(request: Request, user: PageUser, hub: HubDep) -> Response:
    analyst = _needs(user, "analyst")
    runs: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    con = _read_only(hub)
    if con is not None:
        try:
            tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
            if "linkage_run" in tables:
                runs = (
                    con.execute(
                        """SELECT run_id, started_at, engine, records, sources, links, persons,
                              training_mode, threshold_probability
                    FROM linkage_run ORDER BY started_at DESC LIMIT 50"""
                    )
                    .df()
                    .to_dict("records")
                )
            if "person_key_history" in tables:
                history = (
                    con.execute(
                        """SELECT run_id, event, count(*) AS keys, sum(records) AS records
                    FROM person_key_history GROUP BY ALL ORDER BY run_id DESC, event"""
                    )
                    .df()
                    .to_dict("records")
                )
        finally:
            con.close()
    return _page(
        request,
        "linkage.html",
        analyst,
        title="Linkage runs",
        runs=runs,
        history=history,
        has_warehouse=con is not None,
    )


@router.get("/audit/page", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: PageUser,
    registry: RegistryDep,
    action: str = "",
    outcome: str = "",
    organisation: str = "",
) -> Response:
    admin = _needs(user, "admin")
    entries = read_audit_log(registry, limit=100_000)
    shown = [
        e
        for e in reversed(entries)
        if (not action or e.action == action)
        and (not outcome or e.outcome == outcome)
        and (not organisation or organisation.casefold() in e.organisation.casefold())
    ][:500]
    verification = verify_audit_log(registry)
    return _page(
        request,
        "audit.html",
        admin,
        title="Audit log",
        entries=shown,
        actions=sorted({e.action for e in entries}),
        outcomes=sorted({e.outcome for e in entries}),
        action=action,
        outcome=outcome,
        organisation=organisation,
        verification=verification,
    )
