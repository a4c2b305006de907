"""The partner layouts: each partner's files, columns, formats and mapping specs."""

from __future__ import annotations

from sectorlink.synth.partners import (
    advice,
    ae,
    ambulance,
    gp,
    hmis,
    law_centre,
    lead_programme,
    police,
    social_care,
)
from sectorlink.synth.partners.base import ChunkContext, FileLayout, FinalContext, IdSpace, Partner

PARTNERS: tuple[Partner, ...] = (
    ae.PARTNER,
    ambulance.PARTNER,
    police.PARTNER,
    hmis.PARTNER,
    social_care.ASC_PARTNER,
    social_care.CSC_PARTNER,
    advice.PARTNER,
    gp.PARTNER,
    law_centre.PARTNER,
    lead_programme.PARTNER,
)

__all__ = ["PARTNERS", "ChunkContext", "FileLayout", "FinalContext", "IdSpace", "Partner"]
