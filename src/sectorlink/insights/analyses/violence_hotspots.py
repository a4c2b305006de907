"""Violence hotspots: the Cardiff Model from A&E (ISTV), ambulance and police data.

The analysis is built in `sectorlink.insights.violence` (one module per step); this
module only declares it. See docs/insights/violence.md.
"""

from __future__ import annotations

from sectorlink.insights.registry import Analysis, Parameter, register
from sectorlink.insights.violence.release import KEPT_EVENTS, KEPT_INCIDENTS, run_violence

ANALYSIS = register(
    Analysis(
        name="violence-hotspots",
        title="Violence hotspots",
        question="Where and when do assaults concentrate, how complete is the A&E (ISTV) "
        "collection, and what share of the assaults A&E treats do the police never hear of?",
        purpose="analysis/violence-hotspots",
        tables=("event", "violence"),
        event_types=("ae_assault", "ambulance_callout", "police_incident"),
        run=run_violence,
        parameters=(
            Parameter(
                "ambulance_hours",
                float,
                6.0,
                "an ambulance call up to this many hours before the A&E arrival is the "
                "same assault",
            ),
            Parameter(
                "police_days",
                float,
                2.0,
                "a police record within this many days of the assault is the same assault",
            ),
            Parameter(
                "max_distance_km",
                float,
                3.0,
                "events whose places lie farther apart than this are not one incident",
            ),
            Parameter(
                "hotspot_fdr",
                float,
                0.05,
                "false-discovery rate (Benjamini-Hochberg) for the hotspot tests",
            ),
            Parameter("permutations", int, 9999, "Monte Carlo draws for Gi*"),
            Parameter(
                "place_radius_m",
                float,
                150.0,
                "radius of a place (a venue and its frontage, a street segment): incidents "
                "crowding within it are counted whole in the area holding most of them",
            ),
            Parameter("peak_window_hours", int, 4, "length of a hotspot's peak window"),
            Parameter(
                "place_by_description",
                bool,
                True,
                "place incidents no source located by their named place",
            ),
            Parameter(
                "ambulance_rule",
                str,
                "ChiefComplaint=Assault",
                "which call-outs are assaults: ATTRIBUTE=value|value",
            ),
            Parameter(
                "police_rule",
                str,
                "OffenceGroup=Violence with injury|Violence without injury|Domestic abuse",
                "which police records are violence: ATTRIBUTE=value|value",
            ),
            Parameter(
                "police_place_attribute",
                str,
                "LocationType",
                "the police attribute holding the place type",
            ),
        ),
        outputs=(
            "incidents_by_area",
            "hotspots",
            "incidents_by_place_type",
            "incidents_by_hour_of_week",
            "hotspot_hours",
            "hotspot_days",
            "method_by_place_type",
            "unknown_to_police",
            "istv_quality",
            "named_places",
            "monthly_trend",
            "placement",
        ),
        person_tables=(KEPT_INCIDENTS, KEPT_EVENTS),
    )
)
