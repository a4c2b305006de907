"""The violence events of each source, in one shape: what, who, when and where.

Three kinds of record describe an assault:

* `ae`: an A&E attendance for assault (`ae_assault`) with its ISTV fields (`violence`):
  when the assault happened (else the arrival), method, place type and description, the
  assault postcode when the patient knew it;
* `ambulance`: a call-out whose chief complaint is an assault (the attribute and values
  are rules, since each service names them its own way), with the incident coordinates;
* `police`: a crime record of a violence offence group, with the offence time and place.

`collect_events` writes them to the temporary table `v_event` on the context's
connection. Every event keeps the small area the layer placed it in (`area`, `area_by`)
and a point (its own coordinates, else its postcode's centroid) for distance checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from sectorlink.insights.geography import GEO_POSTCODE, postcode_key_sql
from sectorlink.model.codesets import get_code_set
from sectorlink.model.sql import literal_list, quote_literal
from sectorlink.model.types import fold_code

EVENT_TABLE = "v_event"
KINDS = ("ae", "ambulance", "police")

# Police location types as forces write them, beyond the ISTV crosswalk's own spellings.
EXTRA_PLACE_SPELLINGS = {
    "street/road": "02",
    "street or road": "02",
    "public place": "02",
    "licensed premises": "03",
    "pub/club": "03",
    "workplace": "04",
    "transport": "06",
    "public transport": "06",
    "unknown": "98",
}


class EventRuleError(ValueError):
    """A rule naming which ambulance or police records are violence cannot be read."""


@dataclass(frozen=True)
class AttributeRule:
    """Records whose attribute `name` (in the event's `attributes`) is one of `values`."""

    name: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, *, what: str) -> AttributeRule:
        """`Attribute=value|value` (values compared without case or extra space)."""
        name, sep, values = text.partition("=")
        parts = tuple(v.strip() for v in values.split("|") if v.strip())
        if not sep or not name.strip() or not parts:
            raise EventRuleError(
                f"{what}: write the rule as ATTRIBUTE=value|value "
                f"(e.g. ChiefComplaint=Assault), not {text!r}"
            )
        return cls(name.strip(), parts)

    def sql(self, alias: str = "e") -> str:
        folded = literal_list(fold_code(v) for v in self.values)
        return f"lower(trim({alias}.attributes->>{quote_literal(self.name)})) IN {folded}"


@dataclass(frozen=True)
class EventRules:
    """Which records of each source are violence, and where their place type is."""

    ambulance: AttributeRule = AttributeRule("ChiefComplaint", ("Assault",))
    police: AttributeRule = AttributeRule(
        "OffenceGroup", ("Violence with injury", "Violence without injury", "Domestic abuse")
    )
    police_place_attribute: str = "LocationType"

    @classmethod
    def from_params(cls, params: dict[str, object]) -> EventRules:
        default = cls()
        ambulance = params.get("ambulance_rule")
        police = params.get("police_rule")
        return cls(
            ambulance=AttributeRule.parse(str(ambulance), what="ambulance_rule")
            if ambulance
            else default.ambulance,
            police=AttributeRule.parse(str(police), what="police_rule")
            if police
            else default.police,
            police_place_attribute=str(
                params.get("police_place_attribute") or default.police_place_attribute
            ),
        )


def place_crosswalk() -> pd.DataFrame:
    """Folded place-type spellings to ISTV location type codes."""
    mapping = get_code_set("istv_location_type").crosswalk()
    mapping.update(EXTRA_PLACE_SPELLINGS)
    return pd.DataFrame({"spelling": list(mapping), "code": list(mapping.values())})


def collect_events(
    con: duckdb.DuckDBPyConnection, rules: EventRules | None = None
) -> dict[str, int]:
    """Write `v_event` (one row per violence event of every kind) and return the count
    of events per kind.

    Columns: `eid` (a row number), `source, event_id, kind, person_key, event_time` (when
    the assault happened, as this source knows it: ISTV assault time, else arrival;
    offence time; call time), `arrival, assault_time` (A&E only), `month` (of
    `event_time`), `area, area_by, lat, lon, place_type, method, method_other,
    description, site_code, told_police` (ISTV's 'police informed', A&E only),
    `has_istv` (the attendance has an ISTV row).
    """
    rules = rules or EventRules()
    con.register("_v_place_codes", place_crosswalk())
    place_key = quote_literal(rules.police_place_attribute)
    # The event's own coordinates, else its postcode's centroid (never half of each).
    own = "e.latitude IS NOT NULL AND e.longitude IS NOT NULL"
    point = f"""CASE WHEN {own} THEN e.latitude ELSE g.latitude END AS lat,
        CASE WHEN {own} THEN e.longitude ELSE g.longitude END AS lon"""
    postcode_join = (
        f"LEFT JOIN {GEO_POSTCODE} g ON g.postcode_key = {postcode_key_sql('e.postcode')}"
    )
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {EVENT_TABLE} AS
            SELECT row_number() OVER (ORDER BY kind, source, event_id) AS eid, *,
                   date_trunc('month', event_time)::DATE AS month
            FROM (
            SELECT e.source, e.event_id, 'ae' AS kind, e.person_key,
                   coalesce(v.assault_datetime, v.arrival_datetime, e.start_time) AS event_time,
                   coalesce(v.arrival_datetime, e.start_time) AS arrival,
                   v.assault_datetime AS assault_time,
                   e.area, e.area_by, {point},
                   v.assault_location_type AS place_type, v.assault_method AS method,
                   v.assault_method_other AS method_other,
                   nullif(trim(v.assault_location_description), '') AS description,
                   e.site_code, v.reported_to_police AS told_police,
                   v.event_id IS NOT NULL AS has_istv
            FROM event e
            LEFT JOIN violence v USING (source, event_id)
            {postcode_join}
            WHERE e.event_type = 'ae_assault'
            UNION ALL
            SELECT e.source, e.event_id, 'ambulance', e.person_key, e.start_time, NULL, NULL,
                   e.area, e.area_by, {point}, NULL, NULL, NULL, NULL, e.site_code, NULL, false
            FROM event e {postcode_join}
            WHERE e.event_type = 'ambulance_callout' AND {rules.ambulance.sql("e")}
            UNION ALL
            SELECT e.source, e.event_id, 'police', e.person_key, e.start_time, NULL, NULL,
                   e.area, e.area_by, {point},
                   coalesce(c.code, CASE WHEN e.attributes->>{place_key} IS NOT NULL
                                         THEN '07' END),
                   NULL, NULL, NULL, e.site_code, NULL, false
            FROM event e {postcode_join}
            LEFT JOIN _v_place_codes c
              ON c.spelling = lower(trim(e.attributes->>{place_key}))
            WHERE e.event_type = 'police_incident' AND {rules.police.sql("e")}
            )"""
        )
    finally:
        con.unregister("_v_place_codes")
    rows = con.execute(f"SELECT kind, count(*) FROM {EVENT_TABLE} GROUP BY kind").fetchall()
    counts = dict.fromkeys(KINDS, 0)
    counts.update({str(k): int(n) for k, n in rows})
    return counts
