"""`sectorlink registry ...`: the directory of data-sharing efforts and its agreements."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sectorlink.commands._common import cli_actor, console, fail, say
from sectorlink.registry import (
    Registry,
    RegistryError,
    dcat_catalog,
    directory_html,
    export_directory,
    find_connections,
    graph_graphml,
    graph_json,
    import_directory,
    open_registry,
    project_by_name,
    register_region,
    search_directory,
)

registry_app = typer.Typer(
    help="The directory: organisations, projects, data sets, agreements.", no_args_is_help=True
)

RegistryUrl = Annotated[
    str | None,
    typer.Option(
        "--registry",
        envvar="SECTORLINK_REGISTRY_URL",
        help="Registry database URL (default sqlite:///sectorlink-registry.db).",
    ),
]


@contextmanager
def opened(url: str | None) -> Iterator[Registry]:
    """Open the registry; turn the library's errors into one-line messages."""
    try:
        registry = open_registry(url)
    except Exception as error:  # a bad URL or an unreachable server: say so, no traceback
        fail(f"cannot open the registry: {error}")
    registry.actor = cli_actor()  # every write from the command line is audited as the OS user
    try:
        yield registry
    except RegistryError as error:
        fail(str(error))
    finally:
        registry.close()


@registry_app.command("migrate")
def migrate(url: RegistryUrl = None) -> None:
    """Create the registry's tables, or bring them up to date."""
    with opened(url) as registry:
        say(f"Registry at {registry.url} is up to date.")


@registry_app.command("region")
def region(
    manifest: Annotated[Path, typer.Argument(help="The region's manifest.json.")],
    hub: Annotated[str, typer.Option(help="The analytics hub's name.")] = "Regional Analytics Hub",
    url: RegistryUrl = None,
) -> None:
    """Register a region's partners, data sets, project and agreements (idempotent)."""
    with opened(url) as registry:
        result = register_region(registry, manifest, hub=hub)
    say(
        f"{len(result.organisations)} organisations, {len(result.datasets)} data sets, "
        f"{len(result.agreements)} agreements; project {result.project!r}. "
        f"Added {len(result.created)}."
    )
    for item in result.created:
        say(f"  + {item}")


@registry_app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="Words to find (all must match).")] = "",
    sector: Annotated[str | None, typer.Option(help="Only this sector.")] = None,
    geography: Annotated[str | None, typer.Option(help="Geography containing this text.")] = None,
    population: Annotated[
        str | None, typer.Option(help="Projects whose population contains this.")
    ] = None,
    status: Annotated[str | None, typer.Option(help="Projects with this status.")] = None,
    url: RegistryUrl = None,
) -> None:
    """Search projects, organisations and data sets."""
    with opened(url) as registry, registry.session() as session:
        hits = search_directory(
            session, text, sector=sector, geography=geography, population=population, status=status
        )
        for hit in hits:
            # names are stored by users: escaped, so `[/x]` prints and `[link=...]` is text
            console.print(
                f"{hit.kind:<12} {escape(hit.name)}  [dim]{escape(', '.join(hit.matched))}[/dim]",
                highlight=False,
            )
        console.print(f"{len(hits)} result(s)")


@registry_app.command("connections")
def connections(
    project: Annotated[str, typer.Argument(help="Project name.")], url: RegistryUrl = None
) -> None:
    """Who else works on this? Other projects, ranked, with the reasons."""
    with opened(url) as registry, registry.session() as session:
        found = find_connections(session, project_by_name(session, project))
        for c in found:
            say(f"{c.score:6.2f}  {c.project}")
            for reason in c.reasons:
                say(f"        - {reason}")
        if not found:
            console.print(
                "No other project shares its data sets, partners, population, geography or aims."
            )


@registry_app.command("graph")
def graph(
    out: Annotated[Path, typer.Argument(help="File to write (.graphml or .json).")],
    url: RegistryUrl = None,
) -> None:
    """Write the network of organisations, projects and data sets."""
    with opened(url) as registry, registry.session() as session:
        if out.suffix.lower() == ".json":
            out.write_text(json.dumps(graph_json(session), indent=2, ensure_ascii=False))
        else:
            out.write_text(graph_graphml(session))
    say(f"Wrote {out}")


@registry_app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="YAML file to write.")], url: RegistryUrl = None
) -> None:
    """Export the whole directory as YAML."""
    with opened(url) as registry:
        export_directory(registry, out)
    say(f"Wrote {out}")


@registry_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A directory YAML file.")], url: RegistryUrl = None
) -> None:
    """Import a directory YAML file: add what is new, update what exists."""
    with opened(url) as registry:
        result = import_directory(registry, path)
    say(f"Added {len(result.created)}, updated {len(result.updated)}.")


@registry_app.command("dcat")
def dcat(
    out: Annotated[Path, typer.Argument(help="JSON-LD file to write.")],
    base_uri: Annotated[
        str, typer.Option(help="Base of the data sets' identifiers.")
    ] = "urn:sectorlink:",
    url: RegistryUrl = None,
) -> None:
    """Export the data sets as a DCAT catalogue (JSON-LD)."""
    with opened(url) as registry, registry.session() as session:
        out.write_text(
            json.dumps(dcat_catalog(session, base_uri=base_uri), indent=2, ensure_ascii=False)
        )
    say(f"Wrote {out}")


@registry_app.command("html")
def html(
    out: Annotated[Path, typer.Argument(help="HTML file to write.")], url: RegistryUrl = None
) -> None:
    """Write the printable HTML directory."""
    with opened(url) as registry, registry.session() as session:
        out.write_text(directory_html(session))
    say(f"Wrote {out}")


@registry_app.command("add-user")
def add_user(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="viewer, partner, analyst or admin.")],
    organisation: Annotated[str | None, typer.Option(help="The user's organisation.")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input.")
    ] = False,
    url: RegistryUrl = None,
) -> None:
    """Add a user who signs in to the API (the password is asked for, never an argument)."""
    from sectorlink.registry.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with opened(url) as registry, registry.session() as session:
        user = create_user(
            session, username=username, password=password, role=role, organisation=organisation
        )
        say(f"Added {user.role} {user.username!r}.")


@registry_app.command("token")
def token(
    username: Annotated[str, typer.Argument()],
    days: Annotated[int, typer.Option(min=1, help="How long it lasts.")] = 30,
    url: RegistryUrl = None,
) -> None:
    """Issue an API token for a user (printed once; keyed by SECTORLINK_SECRET_KEY)."""
    import datetime as dt

    from sectorlink.registry.lookup import user_by_name
    from sectorlink.registry.users import issue_token
    from sectorlink.web.settings import InsecureSettings, Settings

    try:
        settings = Settings.from_env()
        settings.check()
    except InsecureSettings as error:
        fail(str(error))
    with opened(url) as registry, registry.session() as session:
        user = user_by_name(session, username)
        value = issue_token(
            session, user, secret=settings.secret_key, label="cli", lifetime=dt.timedelta(days=days)
        )
    print(value)


@registry_app.command("revoke-tokens")
def revoke_tokens_command(
    username: Annotated[str, typer.Argument()], url: RegistryUrl = None
) -> None:
    """Revoke every API token of a user (it can still sign in again); audited."""
    from sectorlink.registry.lookup import user_by_name
    from sectorlink.registry.users import revoke_tokens

    with opened(url) as registry, registry.session() as session:
        user = user_by_name(session, username)
        revoked = revoke_tokens(session, user)
        session.flush()
    say(f"revoked {revoked} token(s) of {user.username!r}")


@registry_app.command("deactivate-user")
def deactivate_user(
    username: Annotated[str, typer.Argument()],
    undo: Annotated[bool, typer.Option("--undo", help="Reactivate instead.")] = False,
    url: RegistryUrl = None,
) -> None:
    """Stop a user signing in and revoke its tokens (or, with --undo, let it back); audited."""
    from sectorlink.registry.lookup import user_by_name
    from sectorlink.registry.users import set_active

    with opened(url) as registry, registry.session() as session:
        user = user_by_name(session, username)
        revoked = set_active(session, user, undo)
    state = "reactivated" if undo else f"deactivated; {revoked} token(s) revoked"
    say(f"{user.username!r} {state}")


@registry_app.command("set-disclosure-minimum")
def set_minimum(
    min_count: Annotated[
        int, typer.Argument(min=2, help="Counts 1..MIN_COUNT-1 are always hidden.")
    ],
    url: RegistryUrl = None,
) -> None:
    """Set the region's minimum disclosure threshold (custom profiles may not go below it).

    For whoever administers the registry; audited with the value before and after.
    """
    from sectorlink.registry.settings import disclosure_minimum, set_disclosure_minimum

    with opened(url) as registry, registry.session() as session:
        before = disclosure_minimum(session)
        set_disclosure_minimum(session, min_count)
    say(f"disclosure minimum: {before} -> {min_count} (counts 1-{min_count - 1} always hidden)")


@registry_app.command("check-access")
def check_access(
    organisation: Annotated[
        str, typer.Option(help="The requesting organisation: its name, or its id as #12.")
    ],
    purpose: Annotated[str, typer.Option(help="Why, e.g. linkage or analysis/violence-hotspots.")],
    dataset: Annotated[list[str], typer.Option(help="A data set's source name (repeat for more).")],
    action: Annotated[
        str, typer.Option(help="read, read_identifiers, export or publish.")
    ] = "read",
    url: RegistryUrl = None,
) -> None:
    """Ask the access check (the answer is written to the audit log either way)."""
    from sectorlink.governance import AccessDenied, authorise

    with opened(url) as registry:
        try:
            grant = authorise(
                registry,
                organisation=organisation,
                purpose=purpose,
                datasets=dataset,
                action=action,
                actor=cli_actor(),
            )
        except AccessDenied as denied:
            fail(f"refused: {denied.reason} (audit entry {denied.audit_seq})", code=1)
    basis = ", ".join(f"{s} by {b}" for s, b in grant.basis.items())
    say(f"allowed: {basis} (audit entry {grant.audit_seq})")


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")
