"""Write one benchmark's figures into its own section of docs/benchmarks.md.

Each script owns a section between `<!-- BEGIN name -->` and `<!-- END name -->` and
replaces only that, so scripts run at different times never overwrite each other.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Figures written by the scripts in `benchmarks/`; each section says how to re-run it, on\n"
    "which machine and when. Speed is compared as ratios measured in the same run.\n"
)


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Python {platform.python_version()}"


def stamp() -> str:
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"_Measured {today} on {machine_description()}._"


def update_section(name: str, title: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the section `name` with `title` and `body` (markdown)."""
    doc.parent.mkdir(parents=True, exist_ok=True)
    block = (
        f"<!-- BEGIN {name} -->\n## {title}\n\n{stamp()}\n\n{body.rstrip()}\n<!-- END {name} -->"
    )
    with open(doc.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = doc.read_text() if doc.exists() else HEADER
        pattern = re.compile(
            rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.DOTALL
        )
        text = (
            pattern.sub(lambda _: block, text)
            if pattern.search(text)
            else text.rstrip() + "\n\n" + block + "\n"
        )
        doc.write_text(text)
