"""The event streams of one chunk: their columns with defaults, and the container.

Each generator (violence, homelessness, services, crisis, lead, MLP) appends frames to
the streams it feeds; the partner layouts then read one stream each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sectorlink.synth.frames import NAT_D, NAT_S, Frame, concat

NAN = float("nan")

SCHEMAS: dict[str, dict[str, Any]] = {
    "ae": {
        "pidx": -1,
        "arrival": NAT_S,
        "category": 0,
        "complaint": "",
        "ambulance": False,
        "homeless": False,
        "assault_id": -1,
        "crisis": False,
        "assault_time": NAT_S,
        "method": -1,
        "place_type": -1,
        "place_desc": "",
        "assault_postcode": "",
        "told_police": -1,
    },
    "ambulance": {
        "pidx": -1,
        "call": NAT_S,
        "complaint": "",
        "lat": NAN,
        "lon": NAN,
        "postcode": "",
        "priority": 3,
        "conveyed": False,
        "assault_id": -1,
        "crisis": False,
    },
    "police": {
        "pidx": -1,
        "when": NAT_S,
        "offence": 0,
        "place_type": 0,
        "lat": NAN,
        "lon": NAN,
        "postcode": "",
        "assault_id": -1,
    },
    "hmis": {
        "pidx": -1,
        "entry": NAT_D,
        "exit": NAT_D,
        "project": 0,
        "prior": 99,
        "move_in": NAT_D,
        "destination": -1,
        "reason": "",
        "housing_loss": False,
        "crisis": False,
        "literal": False,
    },
    "asc": {"pidx": -1, "start": NAT_D, "end": NAT_D, "service": 0, "reason": ""},
    "csc": {"pidx": -1, "start": NAT_D, "end": NAT_D, "service": 0, "reason": ""},
    "advice": {"pidx": -1, "date": NAT_D, "support": 0, "debt": NAN, "gain": NAN},
    "gp_condition": {"pidx": -1, "date": NAT_D, "condition": 0, "severity": ""},
    "mlp": {
        "pidx": -1,
        "screen": NAT_D,
        "income": False,
        "housing": False,
        "education": False,
        "legal_status": False,
        "literacy": False,
        "personal_safety": False,
        "referred": False,
        "referral": NAT_D,
        "domain": -1,
        "intake": NAT_D,
        "outcome": -1,
        "outcome_date": NAT_D,
        "benefit": NAN,
    },
    "lead": {
        "pidx": -1,
        "date": NAT_D,
        "sample": 0,
        "result": NAN,
        "address": -1,
        "true_level": NAN,
    },
    "inspection": {
        "address": -1,
        "date": NAT_D,
        "lead_check": False,
        "lead_found": False,
        "violations": 0,
        "outcome": "",
    },
}


@dataclass
class Streams:
    """Frames appended per stream, concatenated on demand."""

    parts: dict[str, list[Frame]] = field(default_factory=lambda: {k: [] for k in SCHEMAS})
    _built: dict[str, Frame] = field(default_factory=dict)

    def add(self, name: str, frame: Frame) -> None:
        unknown = set(frame) - set(SCHEMAS[name])
        if unknown:
            raise KeyError(f"stream {name!r} has no columns {sorted(unknown)}")
        self.parts[name].append(frame)
        self._built.pop(name, None)

    def get(self, name: str) -> Frame:
        if name not in self._built:
            self._built[name] = concat(self.parts[name], SCHEMAS[name])
        return self._built[name]


def dt_seconds(days: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """datetime64[s] from datetime64[D] days plus seconds into the day."""
    return np.asarray(days.astype("datetime64[s]") + seconds.astype("timedelta64[s]"))
