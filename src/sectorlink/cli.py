"""The `sectorlink` command line: a thin layer over library functions.

Each module in :mod:`sectorlink.commands` exposes ``register(app)`` and adds its own
commands, so the CLI grows a feature at a time without one file holding them all.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

import sectorlink.commands
from sectorlink.commands._common import report_error
from sectorlink.warehouse import WarehouseError

app = typer.Typer(
    name="sectorlink",
    help="A cross-sector data hub for community health: map, ingest, link and analyse "
    "partners' extracts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    for module_info in sorted(
        pkgutil.iter_modules(sectorlink.commands.__path__), key=lambda m: m.name
    ):
        module = importlib.import_module(f"sectorlink.commands.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def main() -> None:
    try:
        app()
    except WarehouseError as exc:  # any command that opens the warehouse
        report_error(str(exc))
        raise SystemExit(2) from None
