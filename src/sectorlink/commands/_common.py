"""Helpers shared by command modules: one console, one way to report a user error."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def report_error(message: str) -> None:
    """Print a user-facing error (no traceback)."""
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a user-facing error (no traceback) and exit."""
    report_error(message)
    raise typer.Exit(code)
