"""Send an extract from the browser: upload a file, pick its spec (or draft one from the
file), see what `ingest --check` finds before anything loads, fix the spec and check
again, then load it and read the load's report.

A partner sends only its own organisation's data sets; analysts and admins any. Uploads
are limited in size and type and written only under the hub's uploads folder, each in a
folder of its own with a random name; a load is audited.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import HTMLResponse, Response

from sectorlink.governance import append_audit_entry
from sectorlink.registry.errors import NotFound
from sectorlink.registry.lookup import dataset_by_source
from sectorlink.registry.users import role_at_least
from sectorlink.sources import FileFormatError, SourceError, SpecError, ingest, load_spec
from sectorlink.sources.draft import draft_spec
from sectorlink.web.deps import RegistryDep
from sectorlink.web.hubpaths import HubPaths
from sectorlink.web.protection import CsrfChecked
from sectorlink.web.routes.hub_pages import HubDep, PageUser, _needs, _page, _read_only

router = APIRouter(include_in_schema=False)

ALLOWED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".gz", ".zst")
UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CHUNK = 1 << 20


def _uploads(hub: HubPaths) -> Path:
    if hub.uploads is not None:
        return hub.uploads
    if hub.warehouse is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="set SECTORLINK_WAREHOUSE (and SECTORLINK_UPLOADS) to send extracts here",
        )
    return hub.warehouse.parent / "uploads"


def _known_specs(hub: HubPaths) -> dict[str, str]:
    """The specs of the current loads, by source (what a returning partner sends again)."""
    con = _read_only(hub)
    if con is None:
        return {}
    try:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if "load" not in tables:
            return {}
        rows = con.execute(
            """SELECT source, any_value(spec_path) FROM load
            WHERE superseded_by IS NULL AND spec_path IS NOT NULL GROUP BY 1 ORDER BY 1"""
        ).fetchall()
    finally:
        con.close()
    return {str(s): str(p) for s, p in rows if Path(str(p)).is_file()}


def _may_send(user: Any, source: str, registry: RegistryDep) -> None:
    if role_at_least(user.role, "analyst"):
        return
    with registry.session() as session:
        try:
            dataset = dataset_by_source(session, source)
        except NotFound:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"{source!r} is not a registered data set; ask the hub to register it",
            ) from None
        if user.organisation_id is None or dataset.owner_id != user.organisation_id:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"a partner sends only its own organisation's data sets; {source!r} "
                f"belongs to {dataset.owner.name!r}",
            )


def _folder(hub: HubPaths, upload_id: str) -> Path:
    if not UPLOAD_ID.match(upload_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such upload")
    folder = _uploads(hub) / upload_id
    if not folder.is_dir():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such upload (expired?)")
    return folder


def _extract(folder: Path) -> Path:
    files = [p for p in folder.iterdir() if p.name != "spec.yaml" and not p.name.startswith(".")]
    if len(files) != 1:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the upload has no file")
    return files[0]


def _check(folder: Path, request: Request, user: Any, spec_text: str, **extra: Any) -> Response:
    """Write the spec beside the upload, run ingest --check, and show what it found."""
    spec_path = folder / "spec.yaml"
    spec_path.write_text(spec_text, encoding="utf-8")
    extract = _extract(folder)
    context: dict[str, Any] = {
        "title": "Send an extract: check",
        "upload_id": folder.name,
        "file_name": extract.name,
        "spec_text": spec_text,
        "result": None,
        "error": "",
        **extra,
    }
    try:
        spec = load_spec(spec_path)
        context["source"] = spec.source
        context["result"] = ingest(spec, extract, check=True)
    except (SpecError, FileFormatError, SourceError) as problem:
        context["error"] = str(problem)
    code = status.HTTP_200_OK if context["result"] is not None else status.HTTP_400_BAD_REQUEST
    response = _page(request, "extract_check.html", user, **context)
    response.status_code = code
    return response


@router.get("/extracts/new", response_class=HTMLResponse)
def extract_form(request: Request, user: PageUser, hub: HubDep) -> Response:
    partner = _needs(user, "partner")
    return _page(
        request,
        "extract_new.html",
        partner,
        title="Send an extract",
        specs=_known_specs(hub),
        limit_mb=hub.max_upload_mb,
        error="",
    )


@router.post("/extracts", response_class=HTMLResponse)
async def extract_upload(
    request: Request,
    user: PageUser,
    hub: HubDep,
    registry: RegistryDep,
    _: CsrfChecked,
    file: Annotated[UploadFile, File()],
    spec: Annotated[str, Form()] = "",
) -> Response:
    partner = _needs(user, "partner")
    name = Path(file.filename or "").name
    suffix = "".join(Path(name).suffixes[-2:]).lower() if name else ""
    if not name or not any(suffix.endswith(s) for s in ALLOWED_SUFFIXES):
        response = _page(
            request,
            "extract_new.html",
            partner,
            title="Send an extract",
            specs=_known_specs(hub),
            limit_mb=hub.max_upload_mb,
            error=f"{name or 'the file'} is not a table this hub reads: send "
            + ", ".join(ALLOWED_SUFFIXES),
        )
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    known = _known_specs(hub)
    if spec and spec not in known:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no spec for {spec!r}")
    if spec:
        _may_send(partner, spec, registry)
    folder = _uploads(hub) / secrets.token_urlsafe(24)
    folder.mkdir(parents=True)
    target = folder / re.sub(r"[^A-Za-z0-9._-]", "_", name)
    limit = hub.max_upload_mb * CHUNK
    written = 0
    with target.open("wb") as out:
        while chunk := await file.read(CHUNK):
            written += len(chunk)
            if written > limit:
                out.close()
                target.unlink()
                folder.rmdir()
                response = _page(
                    request,
                    "extract_new.html",
                    partner,
                    title="Send an extract",
                    specs=known,
                    limit_mb=hub.max_upload_mb,
                    error=f"{name} is larger than this hub's limit of {hub.max_upload_mb} MB",
                )
                response.status_code = status.HTTP_413_CONTENT_TOO_LARGE
                return response
            out.write(chunk)
    if spec:
        return _check(folder, request, partner, Path(known[spec]).read_text(encoding="utf-8"))
    try:
        draft = draft_spec(target)
    except (FileFormatError, SourceError) as problem:
        return _check(folder, request, partner, "", draft_error=str(problem))
    return _check(folder, request, partner, draft.text, todo=draft.todo, drafted=True)


@router.post("/extracts/{upload_id}/check", response_class=HTMLResponse)
def extract_recheck(
    upload_id: str,
    request: Request,
    user: PageUser,
    hub: HubDep,
    _: CsrfChecked,
    spec_text: Annotated[str, Form(max_length=200_000)],
) -> Response:
    partner = _needs(user, "partner")
    return _check(_folder(hub, upload_id), request, partner, spec_text)


@router.post("/extracts/{upload_id}/load", response_class=HTMLResponse)
def extract_load(
    upload_id: str,
    request: Request,
    user: PageUser,
    hub: HubDep,
    registry: RegistryDep,
    _: CsrfChecked,
) -> Response:
    partner = _needs(user, "partner")
    folder = _folder(hub, upload_id)
    if hub.warehouse is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="no warehouse is configured")
    try:
        spec = load_spec(folder / "spec.yaml")
    except (OSError, SpecError) as problem:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(problem)) from None
    _may_send(partner, spec.source, registry)
    extract = _extract(folder)
    try:
        result = ingest(spec, extract, warehouse=hub.warehouse)
    except (SpecError, FileFormatError, SourceError):
        return _check(folder, request, partner, (folder / "spec.yaml").read_text())
    organisation = partner.organisation.name if partner.organisation else "hub"
    append_audit_entry(
        registry,
        actor=f"web:{partner.username}",
        organisation=organisation,
        action="ingest",
        purpose="linkage",
        datasets=[result.source],
        outcome="recorded",
        reason=f"{result.status} {extract.name}",
        detail={
            "load_id": result.load_id,
            "rows_read": result.rows_read,
            "rows_rejected": result.rows_rejected,
        },
    )
    return _page(
        request,
        "extract_loaded.html",
        partner,
        title="Extract loaded",
        result=result,
        file_name=extract.name,
    )
