"""Helpers shared by command modules: one console, one way to report a user error."""

from __future__ import annotations

import getpass
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)


def report_error(message: str) -> None:
    """Print a user-facing error (no traceback). The message is escaped: it often quotes
    what a user typed or stored (a name with `[/x]` in it must print, not crash Rich)."""
    err_console.print(
        f"[bold red]error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True
    )


def say(message: str) -> None:
    """Print a line that may hold user-supplied text, with no Rich markup read from it."""
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a user-facing error (no traceback) and exit."""
    report_error(message)
    raise typer.Exit(code)


def cli_actor() -> str:
    """Who is acting, for the audit log: the OS user running the command."""
    try:
        return f"{getpass.getuser()} (cli)"
    except Exception:  # no user name in some containers
        return "unknown (cli)"
