"""Every CLI command is documented: in the README's command list or in a docs page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import typer.main

from sectorlink.cli import app

ROOT = Path(__file__).resolve().parents[1]


def commands(command: object, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            yield from commands(sub, (*prefix, name))
    else:
        yield " ".join(prefix)


def test_every_cli_command_is_documented():
    text = (ROOT / "README.md").read_text() + "".join(
        p.read_text() for p in sorted((ROOT / "docs").rglob("*.md"))
    )
    names = list(commands(typer.main.get_command(app)))
    assert len(names) > 10
    missing = [name for name in names if f"sectorlink {name}" not in text]
    assert not missing, (
        f"commands not mentioned as `sectorlink <command>` in README or docs: {missing}"
    )


def test_every_docs_page_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    unlinked = [p.name for p in (ROOT / "docs").glob("*.md") if f"docs/{p.name}" not in readme]
    assert not unlinked, f"docs pages missing from the README's table: {unlinked}"
