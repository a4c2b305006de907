"""Where the web app finds the hub's data: the warehouse and the insight releases.

* `SECTORLINK_WAREHOUSE`: the DuckDB warehouse (linkage pages, the common language's
  local codes, running an analysis).
* `SECTORLINK_RELEASES`: the folder holding one release folder per analysis
  (`RELEASES/<analysis>/summary.json`), as `sectorlink demo` writes under `insights/`.
* `SECTORLINK_UPLOADS`: where extracts sent from the browser are kept (default: `uploads`
  beside the warehouse); `SECTORLINK_MAX_UPLOAD_MB` (default 200) caps one file.

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
    uploads: Path | None = None
    max_upload_mb: int = 200

    @classmethod
    def from_env(cls) -> HubPaths:
        warehouse = os.environ.get("SECTORLINK_WAREHOUSE") or None
        releases = os.environ.get("SECTORLINK_RELEASES") or None
        uploads = os.environ.get("SECTORLINK_UPLOADS") or None
        limit = os.environ.get("SECTORLINK_MAX_UPLOAD_MB", "200")
        if not limit.isdigit() or int(limit) < 1:
            raise ValueError(
                f"SECTORLINK_MAX_UPLOAD_MB must be a positive whole number, not {limit!r}"
            )
        return cls(
            warehouse=Path(warehouse) if warehouse else None,
            releases=Path(releases) if releases else None,
            uploads=Path(uploads) if uploads else None,
            max_upload_mb=int(limit),
        )
