"""Homeless care: housing status at A&E and ambulance call-outs from the homelessness
providers' records and the hospital's own marker, what the hospital did not know,
frequent attenders, and how the care-coordination alerts were answered. The logic is in
`sectorlink.insights.homelessness`."""

from __future__ import annotations

from sectorlink.insights.homelessness.analysis import PROVIDER_TABLE, STATUS_TABLE, run
from sectorlink.insights.homelessness.status import (
    AE_EVENT_TYPES,
    AMBULANCE_EVENT_TYPES,
    PROVIDER_EVENT_TYPES,
)
from sectorlink.insights.registry import Analysis, Parameter, register

ANALYSIS = register(
    Analysis(
        name="homeless-care",
        title="Homelessness and A&E",
        question="What was the housing status of people at each A&E attendance and "
        "ambulance call-out, how many homeless attenders did the hospital not record as "
        "such, who attends most often, and were the care-coordination alerts answered?",
        purpose="analysis/homeless-care",
        tables=("event", "housing_episode", "person_index", "record_flag", "alert"),
        event_types=AE_EVENT_TYPES + AMBULANCE_EVENT_TYPES + PROVIDER_EVENT_TYPES,
        parameters=(
            Parameter(
                "contact_days", int, 90, "a contact this many days back makes a person known"
            ),
            Parameter(
                "exit_homeless_days",
                int,
                None,
                "an exit to a homeless situation keeps a person known this many days "
                "(default: the HMIS's own median spell length, or 180)",
            ),
            Parameter(
                "nfa_days",
                int,
                None,
                "or longer, while the hospital recorded no fixed abode since, this many "
                "days back (default: the exit horizon)",
            ),
            Parameter(
                "frequent_attendances", int, 4, "A&E attendances that make a frequent attender"
            ),
            Parameter("frequent_window_days", int, 365, "within this many days"),
        ),
        outputs=(
            "attendances_by_status",
            "attenders_by_status",
            "hospital_recording",
            "attendances_by_month",
            "frequent_attenders_by_status",
            "alerts_per_week",
            "alert_response",
        ),
        person_tables=(STATUS_TABLE, PROVIDER_TABLE),
        run=run,
    )
)
