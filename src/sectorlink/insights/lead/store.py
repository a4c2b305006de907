"""What the lead-risk run keeps in the hub's warehouse, and reading it back.

`lead_inspection_list` (homes ranked, explained), `lead_risk_child` (children scored, by
person key only), `lead_risk_model` (one row: the model artefact as JSON and its card) and
`lead_field_issue` (results left out, by the partner's own event id). They are replaced
whole by each run and leave the hub only through `sectorlink.insights.lead.lists`."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from sectorlink.insights.lead.model import LeadModelArtefact, LeadModelError
from sectorlink.insights.lead.pipeline import LeadRiskResult

MODEL_TABLE = "lead_risk_model"
INSPECTION_TABLE = "lead_inspection_list"
CHILD_TABLE = "lead_risk_child"
ISSUE_TABLE = "lead_field_issue"


def kept_tables(result: LeadRiskResult, card: str) -> dict[str, pd.DataFrame]:
    a = result.artefact
    homes = result.property_scores
    inspection = pd.DataFrame(
        {
            "rank": homes["rank"].astype("int64"),
            "source": homes["source"],
            "property_id": homes["property_id"],
            "score": homes["score"],
            "child_risk": homes["child_risk"],
            "hazard_risk": homes["hazard_risk"],
            "known_hazard": homes["hazards_found_before"] > 0,
            "lead_assessed": homes["lead_assessments_before"] > 0,
            "reasons": homes["reasons"],
            "as_of": result.score_date,
        }
    )
    children = result.child_scores
    child = pd.DataFrame(
        {
            "person_key": children["person_key"],
            "source": children["source"],
            "property_id": children["property_id"],
            "score": children["score"],
            "reasons": children["reasons"],
            "as_of": result.score_date,
        }
    )
    model = pd.DataFrame(
        {
            "trained_at": [a.trained_at],
            "reference_value": [a.reference_value],
            "trained_from": [a.trained_from],
            "trained_to": [a.trained_to],
            "artefact": [a.to_json()],
            "card": [card],
        }
    )
    return {
        INSPECTION_TABLE: inspection,
        CHILD_TABLE: child,
        MODEL_TABLE: model,
        ISSUE_TABLE: result.issues,
    }


def load_model(warehouse: Path) -> LeadModelArtefact:
    """The model the last lead-risk run kept in `warehouse`."""
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        raise LeadModelError(f"{warehouse}: cannot be opened ({error})") from None
    try:
        rows = con.execute(f"SELECT artefact FROM {MODEL_TABLE} LIMIT 1").fetchall()
    except duckdb.CatalogException:
        raise LeadModelError(
            f"{warehouse} holds no lead-risk model: run `sectorlink insights run lead-risk`"
        ) from None
    finally:
        con.close()
    if not rows:
        raise LeadModelError(f"{warehouse}: the lead-risk model table is empty")
    return LeadModelArtefact.from_json(str(rows[0][0]), where=f"{warehouse} ({MODEL_TABLE})")
