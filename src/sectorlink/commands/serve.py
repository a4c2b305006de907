"""`sectorlink serve`: run the registry's web app and API with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from sectorlink.commands._common import console, err_console, fail
from sectorlink.commands.registry import RegistryUrl


def serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    host: Annotated[
        str, typer.Option(help="Address to listen on (local only by default).")
    ] = "127.0.0.1",
    url: RegistryUrl = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            "--warehouse",
            envvar="SECTORLINK_WAREHOUSE",
            help="The DuckDB warehouse the pages read (linkage, local codes, running analyses).",
        ),
    ] = None,
    releases: Annotated[
        Path | None,
        typer.Option(
            "--releases",
            envvar="SECTORLINK_RELEASES",
            help="Folder of the analyses' releases (RELEASES/NAME/summary.json).",
        ),
    ] = None,
    uploads: Annotated[
        Path | None,
        typer.Option(
            "--uploads",
            envvar="SECTORLINK_UPLOADS",
            help="Where extracts sent from the browser are kept (default: beside the warehouse).",
        ),
    ] = None,
) -> None:
    """Serve the web app (directory, analyses, extracts, agreements, audit) and the REST API
    (OpenAPI docs at /docs)."""
    import dataclasses

    import uvicorn

    from sectorlink.web import InsecureSettings, Settings, create_app
    from sectorlink.web.hubpaths import HubPaths
    from sectorlink.web.settings import DEVELOPMENT_WARNING

    try:
        settings = Settings.from_env()
        if url:
            settings = dataclasses.replace(settings, registry_url=url)
        hub = dataclasses.replace(
            HubPaths.from_env(), warehouse=warehouse, releases=releases, uploads=uploads
        )
        app = create_app(settings, hub=hub)
    except (InsecureSettings, ValueError) as error:
        fail(str(error))
    if "SECTORLINK_ENV" not in os.environ:
        err_console.print(DEVELOPMENT_WARNING, style="bold red", markup=False, highlight=False)
    console.print(
        f"Serving on http://{host}:{port} ({settings.environment}); API docs at /docs",
        markup=False,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
