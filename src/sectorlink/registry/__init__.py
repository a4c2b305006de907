"""The registry: the directory of data-sharing efforts and the agreements behind them.

Open one with `open_registry()` (SQLite file by default, `$SECTORLINK_REGISTRY_URL` or a
URL for PostgreSQL) and work in `with registry.session() as session:` blocks:

    >>> from sectorlink.registry import open_registry, create_organisation, search_directory
    >>> registry = open_registry("sqlite:///hub-registry.db")
    >>> with registry.session() as session:
    ...     create_organisation(session, name="Northgate Hospital NHS Trust", sector="health care")
    ...     hits = search_directory(session, "violence")

`register_region(registry, Path(".../manifest.json"))` registers a whole region's
partners, data sets, project and agreements. The access check and audit log that use
the agreements live in `sectorlink.governance`. See docs/directory.md.
"""

from sectorlink.registry.agreements import (
    agreement_state,
    create_agreement,
    list_agreements,
    update_agreement,
)
from sectorlink.registry.connections import Connection, find_connections
from sectorlink.registry.db import (
    DEFAULT_URL,
    URL_ENV,
    Registry,
    migrate,
    open_registry,
    resolve_url,
)
from sectorlink.registry.dcat import dcat_catalog
from sectorlink.registry.directory import (
    add_person,
    create_dataset,
    create_organisation,
    create_project,
    list_datasets,
    list_organisations,
    list_projects,
    update_dataset,
    update_organisation,
    update_project,
)
from sectorlink.registry.errors import Duplicate, InvalidInput, NotFound, RegistryError
from sectorlink.registry.graph import directory_graph, graph_graphml, graph_json
from sectorlink.registry.lookup import (
    agreement_by_reference,
    dataset_by_source,
    organisation_by_name,
    project_by_name,
)
from sectorlink.registry.printable import directory_html
from sectorlink.registry.region import HUB_NAME, RegionRegistration, register_region, spec_fields
from sectorlink.registry.search import SearchHit, search_directory
from sectorlink.registry.vocab import CONDITIONS, SECTORS
from sectorlink.registry.yamlio import export_directory, import_directory

__all__ = [
    "CONDITIONS",
    "DEFAULT_URL",
    "HUB_NAME",
    "SECTORS",
    "URL_ENV",
    "Connection",
    "Duplicate",
    "InvalidInput",
    "NotFound",
    "RegionRegistration",
    "Registry",
    "RegistryError",
    "SearchHit",
    "add_person",
    "agreement_by_reference",
    "agreement_state",
    "create_agreement",
    "create_dataset",
    "create_organisation",
    "create_project",
    "dataset_by_source",
    "dcat_catalog",
    "directory_graph",
    "directory_html",
    "export_directory",
    "find_connections",
    "graph_graphml",
    "graph_json",
    "import_directory",
    "list_agreements",
    "list_datasets",
    "list_organisations",
    "list_projects",
    "migrate",
    "open_registry",
    "organisation_by_name",
    "project_by_name",
    "register_region",
    "resolve_url",
    "search_directory",
    "spec_fields",
    "update_agreement",
    "update_dataset",
    "update_organisation",
    "update_project",
]
