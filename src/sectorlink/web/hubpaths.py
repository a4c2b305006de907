"""Where the web app finds the hub's data: the warehouse and the insight releases.

* `SECTORLINK_WAREHOUSE`: the DuckDB warehouse (linkage pages, the common language's
  local codes, running an analysis).
* `SECTORLINK_RELEASES`: the folder holding one release folder per analysis
  (`RELEASES/<analysis>/summary.json`), as `sectorlink demo` writes under `insights/`.

Both are optional: a page that needs a missing one says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HubPaths:
    warehouse: Path | None = None
    releases: Path | None = None

    @classmethod
    def from_env(cls) -> HubPaths:
        warehouse = os.environ.get("SECTORLINK_WAREHOUSE") or None
        releases = os.environ.get("SECTORLINK_RELEASES") or None
        return cls(
            warehouse=Path(warehouse) if warehouse else None,
            releases=Path(releases) if releases else None,
        )
