"""The truth files: who every record really is, and the answers to the planted signals.

Written a chunk at a time beside the extracts, from the same arrays, so they cannot
disagree with them. docs/synthetic-region.md documents every column and how to score
an analysis against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sectorlink.synth import fmt
from sectorlink.synth import vocab as v
from sectorlink.synth.config import lead_reference_value
from sectorlink.synth.crisis import CRISIS_KINDS
from sectorlink.synth.frames import Frame
from sectorlink.synth.geography import CONDITIONS, TENURES, Region
from sectorlink.synth.identifiers import format_ids
from sectorlink.synth.mess import surname_text
from sectorlink.synth.names import name_tables
from sectorlink.synth.partners import ChunkContext
from sectorlink.synth.partners import ae as ae_partner
from sectorlink.synth.partners import ambulance as amb_partner
from sectorlink.synth.partners import hmis as hmis_partner
from sectorlink.synth.partners import law_centre as mlp_partner
from sectorlink.synth.partners import lead_programme as lead_partner
from sectorlink.synth.partners import police as police_partner
from sectorlink.synth.population import HouseholdPlan, People
from sectorlink.synth.rejects import LEVEL, empty_truth
from sectorlink.synth.violence import Hotspots
from sectorlink.synth.writers import CsvSink

TRUTH_FILES = {
    "people": "people.csv",
    "households": "households.csv",
    "person_records": "person_records.csv",
    "assaults": "assaults.csv",
    "violence_hotspots": "violence_hotspots.csv",
    "lead_properties": "lead_properties.csv",
    "lead_tests": "lead_tests.csv",
    "lead_children": "lead_children.csv",
    "crisis": "crisis.csv",
    "homeless_episodes": "homeless_episodes.csv",
    "homeless_ae": "homeless_ae.csv",
    "mlp": "mlp.csv",
    "expected_rejects": "expected_rejects.csv",
    "expected_field_issues": "expected_field_issues.csv",
}
ROLES = ("head", "partner", "other_adult", "child")
KINDS = (
    "single",
    "single_older",
    "couple",
    "couple_older",
    "family",
    "lone_parent",
    "sharers",
    "multigeneration",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def person_ids(numbers: np.ndarray) -> pa.Array:
    return fmt.text(np.where(numbers >= 0, format_ids(np.maximum(numbers, 0), "P", 8), ""))


def household_ids(numbers: np.ndarray) -> pa.Array:
    return fmt.text(format_ids(numbers, "H", 7))


def _bool(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, bool))


@dataclass
class ChunkFacts:
    """What the generators decided for a chunk that the truth files report."""

    plan: HouseholdPlan
    hh_range: tuple[int, int]
    assaults: Frame
    cohort: Frame
    episodes: Frame
    gp_patients: Frame


class TruthWriter:
    def __init__(self, out: Path, region: Region, hotspots: Hotspots) -> None:
        self.dir = out / "truth"
        self.region = region
        self.hotspots = hotspots
        self.sinks = {name: CsvSink(self.dir / file) for name, file in TRUTH_FILES.items()}
        for name in ("expected_rejects", "expected_field_issues"):
            self.sinks[name].write(empty_truth())  # the header, even with none
        # Per hotspot (last slot: everywhere else): assaults, A&E, A&E unreported, police.
        self.hot_counts = np.zeros((4, len(hotspots) + 1), dtype=np.int64)

    def paths(self) -> dict[str, str]:
        return {name: f"truth/{file}" for name, file in TRUTH_FILES.items()}

    def write_rejects(self, expected: pa.Table) -> int:
        """Rows of one extract table that ingest must reject, and values it must set empty
        (see rejects.py; told apart by their `level`). Returns the number of rejects."""
        written = 0
        for name, level in (("expected_rejects", "reject"), ("expected_field_issues", "field")):
            rows = expected.filter(pc.equal(expected[LEVEL], level)).drop_columns([LEVEL])
            if rows.num_rows:
                self.sinks[name].write(rows)
            if level == "reject":
                written = rows.num_rows
        return written

    def write_chunk(self, ctx: ChunkContext, facts: ChunkFacts) -> None:
        people = ctx.people
        self._people(people, facts)
        self._records(ctx)
        self._assaults(ctx, facts)
        self._lead(ctx)
        self._crisis(ctx, facts)
        self._homeless(ctx, facts)
        self._mlp(ctx)

    # --- people and records ---------------------------------------------------------------
    def _people(self, people: People, facts: ChunkFacts) -> None:
        t = name_tables()
        registered = np.zeros(len(people), bool)
        registered[facts.gp_patients["pidx"]] = True
        self.sinks["people"].write(
            pa.table(
                {
                    "person_id": person_ids(people.person_id),
                    "household_id": household_ids(people.household),
                    "role": fmt.choose(people.role, ROLES),
                    "sex": fmt.text(people.sex),
                    "birth_date": fmt.date(people.dob, "%Y-%m-%d"),
                    "given_name": fmt.text(t.given[people.given]),
                    "middle_name": fmt.text(
                        np.where(people.middle >= 0, t.given[np.maximum(people.middle, 0)], "")
                    ),
                    "family_name": fmt.text(surname_text(people.family, people.family2)),
                    "birth_family_name": fmt.text(t.surnames[people.birth_family]),
                    "nhs_number": fmt.text(people.nhs),
                    "ni_number": fmt.text(people.ni),
                    "mobile": fmt.text(people.mobile),
                    "landline": fmt.text(people.landline),
                    "address_id": pa.array(people.home),
                    "moved_to_address_id": fmt.number(people.moves_to),
                    "move_date": fmt.date(people.move_date, "%Y-%m-%d"),
                    "twin_of": person_ids(people.twin_of),
                    "namesake_of": person_ids(people.namesake_of),
                    "gp_registered": _bool(registered),
                }
            )
        )
        plan = facts.plan
        hh = np.arange(*facts.hh_range)
        self.sinks["households"].write(
            pa.table(
                {
                    "household_id": household_ids(hh),
                    "kind": fmt.choose(plan.kind[hh], KINDS),
                    "adults": pa.array(plan.n_adults[hh]),
                    "children": pa.array(plan.n_children[hh]),
                    "address_id": pa.array(plan.home[hh]),
                    "moved_to_address_id": fmt.number(plan.moves_to[hh]),
                    "move_date": fmt.date(plan.move_date[hh], "%Y-%m-%d"),
                }
            )
        )

    def _records(self, ctx: ChunkContext) -> None:
        for source, key, record_ids, ids in ctx.records:
            self.sinks["person_records"].write(
                pa.table(
                    {
                        "source": fmt.text(np.full(len(record_ids), source)),
                        "record_id": fmt.text(record_ids),
                        "person_id": person_ids(ctx.people.person_id[ids.person]),
                        "file": fmt.text(np.full(len(record_ids), key)),
                        "mess": fmt.text(ids.mess_labels()),
                    }
                )
            )

    # --- violence -------------------------------------------------------------------------
    def _assaults(self, ctx: ChunkContext, facts: ChunkFacts) -> None:
        a = facts.assaults
        n = len(a["assault_id"])
        first = int(a["assault_id"][0]) if n else 0

        def by_assault(stream: str, link: str) -> np.ndarray:
            f = ctx.streams.get(stream)
            out = np.full(n, "", dtype=object)
            m = f["assault_id"] >= 0
            out[f["assault_id"][m] - first] = ctx.links[link][m]
            return out.astype(str)

        ae_id = by_assault("ae", "ae")
        police_id = by_assault("police", "police")
        victim_ref = by_assault("police", "police_victim")
        amb_id = by_assault("ambulance", "ambulance")
        slot = np.where(a["hotspot"] >= 0, a["hotspot"], len(self.hotspots))
        attended = a["attended_ae"]
        for row, mask in enumerate(
            (np.ones(n, bool), attended, attended & ~a["reported"], a["reported"])
        ):
            self.hot_counts[row] += np.bincount(slot[mask], minlength=len(self.hotspots) + 1)
        hs = self.hotspots
        self.sinks["assaults"].write(
            pa.table(
                {
                    "assault_id": fmt.text(format_ids(a["assault_id"], "A", 7)),
                    "person_id": person_ids(ctx.people.person_id[a["pidx"]]),
                    "assault_datetime": fmt.datetime(a["when"], "%Y-%m-%d %H:%M:%S"),
                    "latitude": fmt.number(a["lat"], 6),
                    "longitude": fmt.number(a["lon"], 6),
                    "small_area": fmt.text(self.region.sa_code[a["small_area"]]),
                    "hotspot_id": fmt.text(
                        np.where(a["hotspot"] >= 0, hs.hotspot_id[np.maximum(a["hotspot"], 0)], "")
                    ),
                    "location_type": fmt.choose(a["place_type"], v.ISTV_PLACE),
                    "assault_method": fmt.choose(a["method"], v.ISTV_METHOD),
                    "attended_ae": _bool(attended),
                    "ae_source": fmt.text(np.where(attended, ae_partner.SOURCE, "")),
                    "ae_record_id": fmt.text(ae_id),
                    "reported_to_police": _bool(a["reported"]),
                    "police_source": fmt.text(np.where(a["reported"], police_partner.SOURCE, "")),
                    "police_incident_id": fmt.text(police_id),
                    "police_victim_ref": fmt.text(victim_ref),
                    "ambulance_source": fmt.text(np.where(a["ambulance"], amb_partner.SOURCE, "")),
                    "ambulance_incident_id": fmt.text(amb_id),
                }
            )
        )

    def write_hotspots(self) -> None:
        hs = self.hotspots
        c = self.hot_counts
        days = np.array(
            ["|".join(WEEKDAYS[d] for d in range(7) if hs.peak_days[i, d]) for i in range(len(hs))]
        )
        ids = np.concatenate([hs.hotspot_id, ["BACKGROUND", "ALL"]])
        totals = np.concatenate([c, c.sum(axis=1, keepdims=True)], axis=1)
        share = np.where(totals[1] > 0, totals[2] / np.maximum(totals[1], 1), np.nan)

        def pad(values: np.ndarray, fill: object) -> np.ndarray:
            return np.concatenate([values.astype(object), np.array([fill, fill], dtype=object)])

        self.sinks["violence_hotspots"].write(
            pa.table(
                {
                    "hotspot_id": fmt.text(ids),
                    "name": fmt.text(pad(hs.name, "").astype(str)),
                    "location_type": fmt.text(
                        pad(np.array(v.ISTV_PLACE)[hs.place_type], "").astype(str)
                    ),
                    "latitude": fmt.number(pad(hs.lat, np.nan).astype(float), 6),
                    "longitude": fmt.number(pad(hs.lon, np.nan).astype(float), 6),
                    "radius_m": fmt.number(pad(hs.radius_m, np.nan).astype(float), 0),
                    "small_area": fmt.text(pad(self.region.sa_code[hs.small_area], "").astype(str)),
                    "neighbourhood": fmt.text(
                        pad(self.region.nb_code[self.region.sa_nb[hs.small_area]], "").astype(str)
                    ),
                    "peak_days": fmt.text(pad(days, "").astype(str)),
                    "peak_start_hour": fmt.number(pad(hs.peak_start, -1).astype(np.int64)),
                    "peak_end_hour": fmt.number(
                        pad((hs.peak_start + hs.peak_hours) % 24, -1).astype(np.int64)
                    ),
                    "assaults": pa.array(totals[0]),
                    "ae_assaults": pa.array(totals[1]),
                    "ae_not_reported_to_police": pa.array(totals[2]),
                    "share_ae_not_reported": fmt.number(share, 4),
                    "police_reports": pa.array(totals[3]),
                }
            )
        )

    # --- lead -----------------------------------------------------------------------------
    def _lead(self, ctx: ChunkContext) -> None:
        f = ctx.streams.get("lead")
        people, region = ctx.people, self.region
        ref = lead_reference_value(f["date"])
        elevated = f["result"] >= ref
        self.sinks["lead_tests"].write(
            pa.table(
                {
                    "source": fmt.text(np.full(len(ref), lead_partner.SOURCE)),
                    "record_id": fmt.text(ctx.links["lead"]),
                    "person_id": person_ids(people.person_id[f["pidx"]]),
                    "sample_date": fmt.date(f["date"], "%Y-%m-%d"),
                    "sample_type": fmt.choose(f["sample"], v.SAMPLE_TYPE),
                    "result_ug_dl": fmt.number(f["result"], 1),
                    "true_level_ug_dl": fmt.number(f["true_level"], 2),
                    "property_id": fmt.text(region.addr_uprn[f["address"]].astype(str)),
                    "home_lead_hazard": _bool(region.hazard[f["address"]]),
                    "reference_value": fmt.number(ref, 1),
                    "elevated": _bool(elevated),
                }
            )
        )
        # One row per child: sort by child then date, reduce over each child's run.
        order = np.lexsort((f["date"], f["pidx"]))
        pidx = f["pidx"][order]
        if len(pidx) == 0:
            return
        starts = np.flatnonzero(np.concatenate([[True], pidx[1:] != pidx[:-1]]))
        counts = np.diff(np.append(starts, len(pidx)))
        el = elevated[order]
        any_el = np.logical_or.reduceat(el, starts)
        venous_el = np.logical_or.reduceat(el & (f["sample"][order] == v.VENOUS), starts)
        max_result = np.maximum.reduceat(f["result"][order], starts)
        # First elevated test of each child: the earliest position in its run that is elevated.
        pos = np.where(el, np.arange(len(el)), len(el))
        first_el = np.minimum.reduceat(pos, starts)
        has = first_el < len(el)
        safe = np.minimum(first_el, len(el) - 1)
        first_el_date = np.where(has, f["date"][order][safe], np.datetime64("NaT"))
        first_addr = f["address"][order][starts]
        self.sinks["lead_children"].write(
            pa.table(
                {
                    "person_id": person_ids(people.person_id[pidx[starts]]),
                    "tests": pa.array(counts),
                    "first_test_date": fmt.date(f["date"][order][starts], "%Y-%m-%d"),
                    "property_id": fmt.text(region.addr_uprn[first_addr].astype(str)),
                    "home_lead_hazard": _bool(region.hazard[first_addr]),
                    "max_result_ug_dl": fmt.number(max_result, 1),
                    "poisoned": _bool(any_el),
                    "first_elevated_date": fmt.date(first_el_date, "%Y-%m-%d"),
                    "reference_value_at_first_elevated": fmt.number(
                        np.where(
                            has, lead_reference_value(first_el_date.astype("datetime64[D]")), np.nan
                        ),
                        1,
                    ),
                    "confirmed_venous": _bool(venous_el),
                }
            )
        )

    def write_lead_properties(self, in_extract: np.ndarray) -> None:
        r = self.region
        self.sinks["lead_properties"].write(
            pa.table(
                {
                    "property_id": fmt.text(r.addr_uprn.astype(str)),
                    "address_id": pa.array(np.arange(r.n_addresses)),
                    "year_built": pa.array(r.year_built),
                    "condition": fmt.choose(r.condition, tuple(CONDITIONS)),
                    "tenure": fmt.choose(r.tenure, tuple(TENURES)),
                    "past_violations": pa.array(r.past_violations),
                    "hazard_probability": fmt.number(r.hazard_p, 4),
                    "lead_hazard": _bool(r.hazard),
                    "in_extract": _bool(in_extract),
                }
            )
        )

    # --- crisis, homelessness, MLP --------------------------------------------------------
    def _crisis(self, ctx: ChunkContext, facts: ChunkFacts) -> None:
        people = ctx.people
        ae, hmis = ctx.streams.get("ae"), ctx.streams.get("hmis")
        ae_mh = ae["category"] == v.MH_CRISIS
        loss = hmis["housing_loss"]
        hl_ids = np.char.add(ctx.links["hmis"], "-HL")
        event_of = np.full(len(people), "", dtype=object)
        event_of[ae["pidx"][ae_mh & ae["crisis"]]] = ctx.links["ae"][ae_mh & ae["crisis"]]
        event_of[hmis["pidx"][loss & hmis["crisis"]]] = hl_ids[loss & hmis["crisis"]]
        c = facts.cohort
        kind = c["kind"]
        cohort_source = np.where(kind == 0, ae_partner.SOURCE, hmis_partner.SOURCE)
        bg_ae = ae_mh & ~ae["crisis"]
        bg_hl = loss & ~hmis["crisis"]
        n_ae, n_hl = int(bg_ae.sum()), int(bg_hl.sum())
        self.sinks["crisis"].write(
            pa.table(
                {
                    "person_id": person_ids(
                        people.person_id[
                            np.concatenate([c["pidx"], ae["pidx"][bg_ae], hmis["pidx"][bg_hl]])
                        ]
                    ),
                    "in_cohort": _bool(
                        np.concatenate([np.ones(len(kind), bool), np.zeros(n_ae + n_hl, bool)])
                    ),
                    "escalation_start": fmt.date(
                        np.concatenate(
                            [c["escalation"], np.full(n_ae + n_hl, np.datetime64("NaT", "D"))]
                        ),
                        "%Y-%m-%d",
                    ),
                    "crisis_date": fmt.date(
                        np.concatenate(
                            [
                                c["crisis"],
                                ae["arrival"][bg_ae].astype("datetime64[D]"),
                                hmis["entry"][bg_hl],
                            ]
                        ),
                        "%Y-%m-%d",
                    ),
                    "crisis_type": fmt.text(
                        np.concatenate(
                            [
                                np.array(CRISIS_KINDS)[kind],
                                np.full(n_ae, CRISIS_KINDS[0]),
                                np.full(n_hl, CRISIS_KINDS[1]),
                            ]
                        )
                    ),
                    "source": fmt.text(
                        np.concatenate(
                            [
                                cohort_source,
                                np.full(n_ae, ae_partner.SOURCE),
                                np.full(n_hl, hmis_partner.SOURCE),
                            ]
                        )
                    ),
                    "event_id": fmt.text(
                        np.concatenate(
                            [event_of[c["pidx"]].astype(str), ctx.links["ae"][bg_ae], hl_ids[bg_hl]]
                        )
                    ),
                    "precursor_events": fmt.number(
                        np.concatenate([c["precursors"], np.full(n_ae + n_hl, -1)])
                    ),
                    "precursor_domains": fmt.text(
                        np.concatenate([c["domains"], np.full(n_ae + n_hl, "")])
                    ),
                }
            )
        )

    def _homeless(self, ctx: ChunkContext, facts: ChunkFacts) -> None:
        people = ctx.people
        ep = facts.episodes
        self.sinks["homeless_episodes"].write(
            pa.table(
                {
                    "person_id": person_ids(people.person_id[ep["pidx"]]),
                    "homeless_from": fmt.date(ep["start"], "%Y-%m-%d"),
                    "homeless_to": fmt.date(ep["end"], "%Y-%m-%d"),
                    "cause": fmt.text(np.where(ep["crisis"], "crisis_eviction", "background")),
                    "prior_living_situation": pa.array(ep["prior"]),
                }
            )
        )
        ae = ctx.streams.get("ae")
        day = ae["arrival"].astype("datetime64[D]")
        h = np.flatnonzero(ae["homeless"])
        start = np.full(len(people), np.datetime64("NaT", "D"))
        end = np.full(len(people), np.datetime64("NaT", "D"))
        start[ep["pidx"]] = ep["start"]
        end[ep["pidx"]] = ep["end"]
        hmis = ctx.streams.get("hmis")
        first_entry = np.full(len(people), np.datetime64("NaT", "D"))
        order = np.argsort(hmis["entry"])[::-1]
        first_entry[hmis["pidx"][order]] = hmis["entry"][order]
        known = ~np.isnat(first_entry[ae["pidx"][h]]) & (first_entry[ae["pidx"][h]] <= day[h])
        self.sinks["homeless_ae"].write(
            pa.table(
                {
                    "person_id": person_ids(people.person_id[ae["pidx"][h]]),
                    "homeless_from": fmt.date(start[ae["pidx"][h]], "%Y-%m-%d"),
                    "homeless_to": fmt.date(end[ae["pidx"][h]], "%Y-%m-%d"),
                    "ae_source": fmt.text(np.full(len(h), ae_partner.SOURCE)),
                    "ae_record_id": fmt.text(ctx.links["ae"][h]),
                    "arrival_datetime": fmt.datetime(ae["arrival"][h], "%Y-%m-%d %H:%M:%S"),
                    "recorded_no_fixed_abode": _bool(ctx.links["ae_nfa"][h]),
                    "known_to_hmis": _bool(known),
                }
            )
        )

    def _mlp(self, ctx: ChunkContext) -> None:
        f = ctx.streams.get("mlp")
        ids = ctx.links["mlp"]
        n = len(ids)
        self.sinks["mlp"].write(
            pa.table(
                {
                    "source": fmt.text(np.full(n, mlp_partner.SOURCE)),
                    "record_id": fmt.text(ids),
                    "person_id": person_ids(ctx.people.person_id[f["pidx"]]),
                    "screen_date": fmt.date(f["screen"], "%Y-%m-%d"),
                    **{name: _bool(f[name]) for name in v.IHELP},
                    "referred": _bool(f["referred"]),
                    "referral_event_id": fmt.text(
                        np.where(f["referred"], np.char.add(ids, "-R"), "")
                    ),
                    "referral_date": fmt.date(f["referral"], "%Y-%m-%d"),
                    "domain": fmt.choose(f["domain"], v.IHELP),
                    "legal_intake": _bool(~np.isnat(f["intake"])),
                    "intake_date": fmt.date(f["intake"], "%Y-%m-%d"),
                    "outcome": fmt.choose(f["outcome"], v.MLP_OUTCOME),
                    "outcome_date": fmt.date(f["outcome_date"], "%Y-%m-%d"),
                    "financial_benefit": fmt.number(f["benefit"], 2),
                }
            )
        )

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.close()
