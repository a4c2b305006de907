"""The synthetic region generator: messy partner extracts with known answers.

>>> from sectorlink.synth import generate_region, MessConfig
>>> manifest = generate_region("region", people=2_000, mess=MessConfig(typo=0.1), progress=False)

See docs/synthetic-region.md for every partner layout, kind of mess and truth file.
"""

from sectorlink.synth.config import (
    END_DATE,
    LEAD_REFERENCE_VALUES,
    START_DATE,
    MessConfig,
    parse_rate_overrides,
    preset_mess,
)
from sectorlink.synth.manifest import ExtractInfo, RegionManifest
from sectorlink.synth.region import OutputFolderError, generate_region

__all__ = [
    "END_DATE",
    "LEAD_REFERENCE_VALUES",
    "START_DATE",
    "ExtractInfo",
    "MessConfig",
    "OutputFolderError",
    "RegionManifest",
    "generate_region",
    "parse_rate_overrides",
    "preset_mess",
]
