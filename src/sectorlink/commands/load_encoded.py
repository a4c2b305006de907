"""`sectorlink load-encoded`: load partners' encodings (and their rows) into the hub."""

from __future__ import annotations

from pathlib import Path

import typer

from sectorlink.commands._common import console, err_console, fail
from sectorlink.commands.registry import RegistryUrl, opened
from sectorlink.governance import AccessDenied, Grant
from sectorlink.governance.doors import NOT_AUDITED, acting_user, authorise_load, record_load
from sectorlink.pprl.load import (
    EncodedExtract,
    EncodedFileError,
    EncodedLoad,
    EncodedPackage,
    load_checked,
    read_all,
)
from sectorlink.pprl.package import PackageError
from sectorlink.warehouse import DEFAULT_WAREHOUSE, connect
from sectorlink.warehouse.provenance import record_load_authority


def register(app: typer.Typer) -> None:
    @app.command("load-encoded")
    def load_encoded_command(
        files: list[Path] = typer.Argument(
            ...,
            help="Partners' packages from sectorlink encode: each manifest "
            "(NAME.manifest.json) or encodings file (NAME.parquet, its manifest found beside "
            "it); an encodings file sent alone loads the encodings only.",
        ),
        warehouse: Path = typer.Option(
            DEFAULT_WAREHOUSE,
            "--warehouse",
            "-w",
            help="DuckDB warehouse file (created when missing).",
        ),
        replace: bool = typer.Option(
            False, "--replace", help="Load a file again even when the same file was loaded before."
        ),
        registry: RegistryUrl = None,
        organisation: str | None = typer.Option(
            None,
            "--organisation",
            help="The organisation loading them (with a registry: it must own each data set "
            "or receive it under a current agreement).",
        ),
    ) -> None:
        """Load encoded extracts for `sectorlink link --engine bloom`, all in one transaction.

        Every file is checked first (the manifest's SHA-256 and row counts, format,
        columns against the model's identifier marks, keyed tokens, keys, one key and
        schema); any problem loads nothing. A package's rows go into the tables plain
        ingest writes (event, the detail tables, property...), so every analysis reads them.
        With a registry each data set is checked against the organisation's agreements
        (encoded identifiers only suffice) and each load audited. Exit status: 0 when
        loaded, 2 when a file is refused, 3 when the registry refuses.
        """
        try:
            items = read_all(files)
        except (EncodedFileError, PackageError, ValueError) as exc:
            fail(str(exc))
        if registry is None:
            err_console.print(f"[yellow]Note:[/yellow] {NOT_AUDITED}", highlight=False)
            results = _load(items, warehouse, replace)
        else:
            results = _governed_load(items, warehouse, replace, registry, organisation)
        for r in results:
            sources = ", ".join(r.sources)
            if r.status == "skipped":
                console.print(f"[yellow]skipped[/yellow] {r.file} ({sources}): already loaded")
                continue
            extra = f", {r.replaced:,} replaced" if r.replaced else ""
            rows = "".join(f", {n:,} {t}" for t, n in r.rows.items())
            console.print(
                f"[green]loaded[/green] {r.file}: {r.records:,} encoded records{rows} "
                f"({sources}){extra}",
                highlight=False,
            )
            for note in r.notes:
                console.print(f"[yellow]Note:[/yellow] {note}", highlight=False)


def _load(
    items: list[EncodedExtract | EncodedPackage], warehouse: Path, replace: bool
) -> list[EncodedLoad]:
    try:
        return load_checked(items, warehouse=warehouse, replace=replace)
    except (EncodedFileError, PackageError, ValueError) as exc:
        fail(str(exc))


def _governed_load(
    items: list[EncodedExtract | EncodedPackage],
    warehouse: Path,
    replace: bool,
    url: str,
    organisation: str | None,
) -> list[EncodedLoad]:
    """Each data set passes the access check (action `read`: encodings are not identifiers
    in the clear) before anything loads; each load is audited and its authority kept."""
    if not organisation:
        fail("with a registry, say which organisation is loading: --organisation NAME")
    actor = acting_user()
    with opened(url) as reg:
        grants: dict[str, Grant] = {}
        for item in items:
            extract = item.encodings if isinstance(item, EncodedPackage) else item
            roles = item.files() if isinstance(item, EncodedPackage) else {"encodings": item.path}
            source = ",".join(extract.sources)
            try:
                grants[source] = authorise_load(
                    reg,
                    organisation=organisation,
                    source=source,
                    files=roles,
                    identifiers=False,
                    actor=actor,
                    door="load-encoded",
                )
            except AccessDenied as refusal:
                fail(str(refusal), code=3)
        results = _load(items, warehouse, replace)
        entries: dict[str, int] = {}
        for r in results:
            source = ",".join(r.sources)
            entries[source] = record_load(
                reg,
                grants[source],
                outcome={
                    "status": r.status,
                    "file": str(r.file),
                    "load_id": r.load_id,
                    "records": r.records,
                    "rows": r.rows,
                    "replaced": r.replaced,
                },
                actor=actor,
                action="load-encoded",
            )
    con = connect(warehouse)
    try:
        for r in results:
            if r.status != "loaded" or not r.load_id:
                continue
            source = ",".join(r.sources)
            grant = grants[source]
            record_load_authority(
                con,
                load_id=r.load_id,
                organisation=grant.organisation,
                basis=grant.basis.get(source, ""),
                access_audit_entry=grant.audit_seq,
                load_audit_entry=entries[source],
                actor=actor,
            )
    finally:
        con.close()
    return results
