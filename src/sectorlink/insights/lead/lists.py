"""The person-level lists that leave the hub, each through `authorise` and audited.

* `child_list`: the children the last run scored, for the organisation that owns the
  lead data set (the health department), with its own record ids and nothing else that
  identifies them (no names, no person keys); refused for anyone else.
* `inspection_list`: the homes ranked for a proactive inspection (property ids, scores,
  explanations; no child), for an organisation an agreement covers for the purpose.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from sectorlink.governance import AccessDenied, append_audit_entry, authorise
from sectorlink.insights.lead.store import CHILD_TABLE, INSPECTION_TABLE
from sectorlink.model.sql import literal_list
from sectorlink.registry.db import Registry
from sectorlink.registry.lookup import dataset_by_source, organisation_by_name

PURPOSE = "analysis/lead-risk"


class ListUnavailable(LookupError):
    """The warehouse holds no list: the lead-risk analysis has not run."""


def _read(warehouse: Path, query: str) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(query).df()
    except duckdb.CatalogException:
        raise ListUnavailable(
            f"{warehouse} holds no lead-risk lists: run `sectorlink insights run lead-risk`"
        ) from None
    finally:
        con.close()


def child_list(
    warehouse: Path, registry: Registry, organisation: str, *, actor: str | None = None
) -> pd.DataFrame:
    """`rank, source, record_ids, score, reasons, as_of` for the children of the data sets
    `organisation` owns. AccessDenied (audited) when it owns none of them."""
    sources = _read(warehouse, f"SELECT DISTINCT source FROM {CHILD_TABLE}")["source"].tolist()
    with registry.session() as session:
        org = organisation_by_name(session, organisation)
        owned = [s for s in sources if dataset_by_source(session, s).owner_id == org.id]
        name = org.name
    if not owned:
        record = append_audit_entry(
            registry,
            actor=actor or organisation,
            organisation=name,
            action="export",
            purpose=PURPOSE,
            datasets=sources,
            outcome="refused",
            reason="the child-level lead-risk list goes only to the organisation that owns "
            "the tests, with its own record ids",
            detail={"output": CHILD_TABLE},
        )
        raise AccessDenied(
            f"{name} owns none of the data sets the child list comes from "
            f"({', '.join(sources)}): it goes only to their owner",
            audit_seq=record.seq,
        )
    listed = literal_list(owned)
    frame = _read(
        warehouse,
        f"""SELECT row_number() OVER (ORDER BY c.score DESC, min(i.record_id)) AS rank,
                   c.source, string_agg(i.record_id, ' ' ORDER BY i.record_id) AS record_ids,
                   c.score, c.reasons, c.as_of
            FROM {CHILD_TABLE} c JOIN person_index i
              ON i.person_key = c.person_key AND i.source = c.source
            WHERE c.source IN {listed}
            GROUP BY c.person_key, c.source, c.score, c.reasons, c.as_of
            ORDER BY rank""",
    )
    authorise(
        registry,
        organisation=name,
        purpose=PURPOSE,
        datasets=owned,
        action="export",
        actor=actor,
        detail={"output": CHILD_TABLE, "children": len(frame)},
    )
    return frame


def inspection_list(
    warehouse: Path,
    registry: Registry,
    organisation: str,
    *,
    top: int | None = None,
    actor: str | None = None,
) -> pd.DataFrame:
    """The ranked homes (all, or the `top` ones), after an audited access check."""
    limit = f"LIMIT {int(top)}" if top else ""
    frame = _read(
        warehouse,
        f"""SELECT rank, source, property_id, score, child_risk, hazard_risk, known_hazard,
                   lead_assessed, reasons, as_of
            FROM {INSPECTION_TABLE} ORDER BY rank {limit}""",
    )
    authorise(
        registry,
        organisation=organisation,
        purpose=PURPOSE,
        datasets=sorted(set(frame["source"])) or ["(none)"],
        action="export",
        actor=actor,
        detail={"output": INSPECTION_TABLE, "homes": len(frame)},
    )
    return frame
