"""Lead risk over the API: score a new address or child from its facts with the saved
lead-risk model (`SECTORLINK_LEAD_MODEL`, a file written by `sectorlink lead model`).

The facts come in the request, so no person-level data is read from the hub; the model's
reference value is checked against the one in force on the scoring date (refused with
409 unless `allow_other_reference`)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from sectorlink.insights.lead.model import LeadModelArtefact, LeadModelError, ReferenceValueMismatch
from sectorlink.insights.lead.score import LeadScoreError, score_facts
from sectorlink.web.deps import Analyst

router = APIRouter(prefix="/lead", tags=["lead risk"])
MODEL_ENV = "SECTORLINK_LEAD_MODEL"


class LeadScoreRequest(BaseModel):
    facts: dict[str, float | str | None] = Field(
        description="Facts by feature name (year_built, condition, tenure, "
        "violations_before, hazards_found_before, age_months, child_max_before, ...); "
        "a fact left out is unknown"
    )
    as_of: dt.date | None = Field(default=None, description="Scoring date (default today)")
    allow_other_reference: bool = Field(
        default=False,
        description="Score even when the reference value in force is not the model's",
    )


def lead_model(request: Request) -> LeadModelArtefact:
    """The model named by the app's `lead_model_path` state or `SECTORLINK_LEAD_MODEL`."""
    path = getattr(request.app.state, "lead_model_path", None) or os.environ.get(MODEL_ENV)
    if not path:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"no lead-risk model is configured: set {MODEL_ENV} to a file written by "
            "`sectorlink lead model`",
        )
    try:
        return LeadModelArtefact.load(Path(path))
    except LeadModelError as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(error)) from None


@router.post("/score")
def score(
    body: LeadScoreRequest,
    _: Analyst,
    artefact: Annotated[LeadModelArtefact, Depends(lead_model)],
) -> dict[str, Any]:
    """Score a home (facts about the building and its history) or a child (any child
    fact or the age given), with the reasons behind the score."""
    try:
        return score_facts(
            artefact,
            body.facts,
            on=body.as_of or dt.date.today(),
            allow_other_reference=body.allow_other_reference,
        )
    except ReferenceValueMismatch as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
    except LeadScoreError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
