"""The region's manifest: what was generated, from what, and where each file is."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ExtractInfo:
    """One extract file as the manifest lists it (paths relative to the region folder)."""

    source: str
    partner: str
    sector: str
    spec: str
    file: str
    description: str
    rows: int = 0
    """Data rows written, the rows planted for ingest to reject included."""
    expected_rejects: int = 0
    """How many of them ingest must reject (listed in truth/expected_rejects.csv)."""


@dataclass(frozen=True)
class RegionManifest:
    """What `generate_region` wrote. `out_dir` is where; every other path is relative to it."""

    out_dir: Path
    seed: int
    people: int
    generated_with: str
    start_date: str
    end_date: str
    extracts: tuple[ExtractInfo, ...]
    truth: dict[str, str]
    geography: dict[str, Any]
    mess: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("out_dir")
        data["extracts"] = [asdict(e) for e in self.extracts]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def path(self, relative: str) -> Path:
        return self.out_dir / relative

    @classmethod
    def load(cls, out_dir: Path | str) -> RegionManifest:
        out_dir = Path(out_dir)
        data = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
        data["extracts"] = tuple(ExtractInfo(**e) for e in data["extracts"])
        return cls(out_dir=out_dir, **data)
