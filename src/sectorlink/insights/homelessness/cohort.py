"""A provider's cohort list: its own clients who are frequent A&E attenders, by its own
ids. Read from the person-level tables the `homeless-care` analysis keeps in the hub
(`housing_status`, `homeless_provider_client`); the list leaves the hub for that provider
only, after `authorise` (`care-coordination`, export of the A&E data sets), audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from sectorlink.governance import authorise
from sectorlink.insights.context import InsightError
from sectorlink.insights.homelessness.agreements import PURPOSE
from sectorlink.insights.homelessness.analysis import PROVIDER_TABLE, STATUS_TABLE
from sectorlink.insights.homelessness.frequent import frequent_attenders
from sectorlink.model.sql import table_exists
from sectorlink.registry.db import Registry
from sectorlink.registry.lookup import dataset_by_source


def provider_cohort(
    warehouse: Path,
    registry: Registry,
    organisation: str,
    *,
    period: tuple[dt.date, dt.date],
    attendances: int = 4,
    window_days: int = 365,
    actor: str = "sectorlink alerts cohort",
) -> pd.DataFrame:
    """`organisation`'s clients with `attendances`+ A&E attendances within `window_days`
    in the period: `client_id` (its own id), `attendances`, `most_in_window`, `status`
    (strongest at any attendance in the period).

    Raises:
        InsightError: the analysis has not been run (no `housing_status` table).
        AccessDenied: no agreement lets the A&E data out to the organisation (audited).
    """
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{warehouse!s}' AS wh (READ_ONLY)")
        if not all(table_exists(con, t) for t in (STATUS_TABLE, PROVIDER_TABLE)):
            raise InsightError(
                "no housing status in the warehouse: run `sectorlink insights run homeless-care`"
            )
        con.execute(f"CREATE TEMP TABLE hc_status AS SELECT * FROM wh.{STATUS_TABLE}")
        con.execute(f"CREATE TEMP TABLE clients AS SELECT * FROM wh.{PROVIDER_TABLE}")
        con.execute("DETACH wh")
        frequent = frequent_attenders(
            con, period=period, attendances=attendances, window_days=window_days
        )
        sources = [
            r[0] for r in con.execute("SELECT DISTINCT provider_source FROM clients").fetchall()
        ]
        with registry.session() as session:
            own = [s for s in sources if dataset_by_source(session, s).owner.name == organisation]
        con.register("_frequent", frequent)
        cohort = con.execute(
            """SELECT c.provider_record_id AS client_id, any_value(f.attendances) AS attendances,
                       any_value(f.most_in_window) AS most_in_window,
                       any_value(f.status) AS status
            FROM _frequent f
            JOIN hc_status s ON s.person_key = f.person_key
            JOIN clients c ON c.source = s.source AND c.event_id = s.event_id
            WHERE c.provider_source IN (SELECT unnest(?::VARCHAR[]))
              AND s.arrival >= ?::DATE AND s.arrival < ?::DATE + 1
            GROUP BY c.provider_record_id ORDER BY attendances DESC, client_id""",
            [own, period[0], period[1]],
        ).df()
        ae_sources = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT source FROM hc_status WHERE kind = 'ae' ORDER BY 1"
            ).fetchall()
        ]
    finally:
        con.close()
    authorise(
        registry,
        organisation=organisation,
        purpose=PURPOSE,
        datasets=ae_sources,
        action="export",
        actor=actor,
        detail={
            "cohort": "frequent attenders",
            "clients": len(cohort),
            "period": [period[0].isoformat(), period[1].isoformat()],
        },
    )
    return cohort
