"""Northshire Public Health, childhood lead programme: blood lead tests, the properties
the programme knows, and housing and lead-hazard inspections.

Tests carry the child's identifiers and the property's UPRN; properties and inspections
are stand-alone tables (no person) that join to tests through the UPRN. Properties and
the region's inspection history are written once, after all chunks.

Two laboratories analyse the specimens. Northshire Pathology reports µg/dL; Riverside
Hospital Laboratory moved to SI units (µmol/L, four decimals, so the µg/dL value the truth
holds converts back exactly to 0.01 µg/dL) on `SI_FROM`. The `Unit` column says which.
A few results are a laboratory's placeholder for a spoiled sample (`SPOILED`: 999, or -1),
impossible as a blood lead level: the truth keeps the measured value, the extract the
placeholder.
"""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa

from sectorlink.synth import fmt
from sectorlink.synth.frames import Frame, take
from sectorlink.synth.mess import NO_ADDRESS, Habits, surname_text
from sectorlink.synth.partners.base import ChunkContext, FileLayout, FinalContext, Partner
from sectorlink.synth.population import CHILD
from sectorlink.synth.rejects import DateColumn, IdColumn, RejectTargets

SOURCE = "lead_northshire"
TESTS = "lead_blood_tests"
PROPERTIES = "lead_properties"
INSPECTIONS = "lead_inspections"
HABITS = Habits()
SAMPLE = ("CAP", "VEN")
# Indexed like geography.CONDITIONS and geography.TENURES.
CONDITION = ("Good", "Fair", "Poor", "Very poor")
TENURE = ("Owner occupied", "Private rented", "Social rented")
TENURE_UNKNOWN = 0.04
"""Share of properties whose tenure the programme does not know (left empty)."""
LABS = ("Northshire Pathology", "Riverside Hospital Laboratory")
SECOND_LAB = 0.35
"""Share of specimens analysed by the second laboratory."""
SI_FROM = np.datetime64("2023-01-01")
"""From this sample date the second laboratory reports µmol/L."""
UG_DL, UMOL_L = "ug/dL", "umol/L"
UMOL_PER_L_TO_UG_DL = 20.72
SPOILED = (999.0, -1.0)
"""Placeholders a laboratory sends instead of a result for a spoiled sample."""
SPOILED_RATE = 0.003
"""Share of results replaced by a placeholder (at least one in a chunk of 50 or more)."""

TEST_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "record_id": "SpecimenID",
    "person": {
        "full_name": {"column": "ChildName", "split": "surname_comma_forename"},
        "birth_date": {"column": "ChildDOB", "formats": ["%d/%m/%Y"]},
        "sex": "Sex",
        "address": "Address",
        "postcode": "Postcode",
    },
    "events": [
        {
            "event_type": {"value": "lead_test"},
            "start_time": {"column": "SampleDate", "formats": ["%Y%m%d"]},
            "postcode": "Postcode",
            "attributes": ["Lab", "Unit"],
            "detail": {
                "lead_test": {
                    "sample_date": {"column": "SampleDate", "formats": ["%Y%m%d"]},
                    "result_ug_dl": "Result",
                    "sample_type": "SampleType",
                    "property_id": "UPRN",
                }
            },
        }
    ],
}
PROPERTY_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "tables": {
        "property": {
            "property_id": "UPRN",
            "address": {"columns": ["AddressLine", "Locality"], "join": ", "},
            "postcode": "Postcode",
            "latitude": "Latitude",
            "longitude": "Longitude",
            "small_area": "LSOA",
            "year_built": "YearBuilt",
            "condition": "Condition",
            "rented": {
                "column": "Tenure",
                "true_values": ["Private rented", "Social rented"],
                "false_values": ["Owner occupied"],
            },
            "tenure": {
                "column": "Tenure",
                "codes": {
                    "Owner occupied": "owner_occupied",
                    "Private rented": "private_rented",
                    "Social rented": "social_rented",
                },
            },
        }
    },
}
INSPECTION_SPEC = {
    "file": {"format": "csv", "delimiter": ",", "encoding": "utf-8"},
    "tables": {
        "property_inspection": {
            "inspection_id": "InspectionRef",
            "property_id": "UPRN",
            "inspection_date": {"column": "InspectionDate", "formats": ["%d/%m/%Y"]},
            "lead_hazard_found": "LeadHazardFound",
            "violation_count": "Violations",
            "outcome": "Outcome",
        }
    },
}


def render(ctx: ChunkContext) -> None:
    region = ctx.region
    f = ctx.streams.get("lead")
    order = np.argsort(f["date"], kind="stable")
    f = take(f, order)
    n = len(order)
    ids = ctx.ids(TESTS, n, "PB", 8)
    ctx.link("lead", order, ids)
    who = ctx.identities(f["pidx"], f["date"], HABITS)
    ctx.record(SOURCE, TESTS, ids, who)
    known = who.address != NO_ADDRESS
    safe = np.maximum(who.address, 0)
    referenced: np.ndarray = ctx.extras["lead_referenced"]
    referenced[safe[known]] = True
    guardian = _guardians(ctx)[f["pidx"]]
    ctx.tables[TESTS] = pa.table(
        {
            "SpecimenID": fmt.text(ids),
            "ChildName": fmt.full_name(who, "surname_comma"),
            "ChildDOB": fmt.dob(who, "%d/%m/%Y"),
            "Sex": fmt.text(who.sex),
            "ParentGuardian": fmt.text(guardian),
            "Address": fmt.text(
                np.where(
                    known,
                    np.char.add(np.char.add(region.street_line(safe), ", "), region.locality(safe)),
                    "",
                )
            ),
            "Postcode": fmt.text(who.postcode),
            "UPRN": fmt.text(np.where(known, region.addr_uprn[safe].astype(str), "")),
            "SampleDate": fmt.date(f["date"], "%Y%m%d"),
            "SampleType": fmt.choose(f["sample"], SAMPLE),
            **_results(ctx, f["result"], f["date"]),
        }
    )
    _inspections(ctx.streams.get("inspection"), ctx, referenced)


def _own_rng(ctx: ChunkContext, name: str) -> np.random.Generator:
    """A stream of this file's own, derived from (not drawn from) the chunk's render
    stream: a draw from `ctx.rng` here would shift every later partner's output."""
    state = ctx.rng.bit_generator.state["state"]
    return np.random.default_rng(
        np.random.SeedSequence([state["state"], state["inc"], zlib.crc32(name.encode())])
    )


def _results(ctx: ChunkContext, result: np.ndarray, date: np.ndarray) -> dict[str, pa.Array]:
    """`Result`, `Unit` and `Lab`: each laboratory's way of reporting the µg/dL value."""
    rng = _own_rng(ctx, "lead-units")
    n = len(result)
    second = rng.random(n) < SECOND_LAB
    si = second & (date.astype("datetime64[D]") >= SI_FROM)
    shown = np.where(
        si,
        np.char.mod("%.4f", np.round(result / UMOL_PER_L_TO_UG_DL, 4)),
        np.char.mod("%.1f", np.round(result, 1)),
    )
    if n >= 50:
        k = max(1, round(n * SPOILED_RATE))
        spoiled = rng.choice(n, size=k, replace=False)
        shown[spoiled] = np.char.mod("%g", np.array(SPOILED)[np.arange(k) % len(SPOILED)])
    return {
        "Result": fmt.text(shown),
        "Unit": fmt.text(np.where(si, UMOL_L, UG_DL)),
        "Lab": fmt.text(np.where(second, LABS[1], LABS[0])),
    }


def _guardians(ctx: ChunkContext) -> np.ndarray:
    """Name of each child's mother (or other adult) as the lab request form gives it."""
    people = ctx.people
    hh, inverse = np.unique(people.household, return_inverse=True)
    adult = people.role != CHILD
    rank = np.where(adult & (people.sex == "F"), 0, np.where(adult, 1, 2))
    order = np.lexsort((rank, inverse))
    first = np.ones(len(order), bool)
    first[1:] = inverse[order][1:] != inverse[order][:-1]
    carer = np.full(len(hh), -1)
    carer[inverse[order][first]] = order[first]
    c = carer[inverse]
    name = np.char.add(
        np.char.add(np.where(people.sex[c] == "F", "Mrs ", "Mr "), people.names_given(c)), " "
    )
    return np.char.add(name, surname_text(people.family[c], people.family2[c]))


def _inspections(f: Frame, ctx: ChunkContext | FinalContext, referenced: np.ndarray) -> None:
    order = np.argsort(f["date"], kind="stable")
    f = take(f, order)
    n = len(order)
    ids = ctx.ids(INSPECTIONS, n, "INSP", 7)
    referenced[f["address"]] = True
    region = ctx.region
    ctx.tables[INSPECTIONS] = pa.table(
        {
            "InspectionRef": fmt.text(ids),
            "UPRN": fmt.text(region.addr_uprn[f["address"]].astype(str)),
            "InspectionDate": fmt.date(f["date"], "%d/%m/%Y"),
            "InspectionType": fmt.text(
                np.where(f["lead_check"], "Lead hazard assessment", "HHSRS")
            ),
            "LeadHazardFound": fmt.text(
                np.where(f["lead_check"], np.where(f["lead_found"], "Y", "N"), "")
            ),
            "Violations": fmt.number(f["violations"]),
            "Outcome": fmt.text(f["outcome"]),
        }
    )


def finish(ctx: FinalContext) -> None:
    """The region's inspection history, then every property the programme knows."""
    referenced: np.ndarray = ctx.extras["lead_referenced"]
    _inspections(ctx.extras["history_inspections"], ctx, referenced)
    region = ctx.region
    a = np.flatnonzero(referenced)
    year = np.where(ctx.rng.random(len(a)) < 0.05, -1, region.year_built[a])
    tenure = np.where(ctx.rng.random(len(a)) < TENURE_UNKNOWN, -1, region.tenure[a])
    ctx.tables[PROPERTIES] = pa.table(
        {
            "UPRN": fmt.text(region.addr_uprn[a].astype(str)),
            "AddressLine": fmt.text(np.char.upper(region.street_line(a))),
            "Locality": fmt.text(np.char.upper(region.locality(a))),
            "Postcode": fmt.text(region.postcode_of(a)),
            "Latitude": fmt.number(region.addr_lat[a], 6),
            "Longitude": fmt.number(region.addr_lon[a], 6),
            "LSOA": fmt.text(region.sa_code[region.addr_sa[a]]),
            "YearBuilt": fmt.number(year),
            "Condition": fmt.choose(region.condition[a], CONDITION),
            "Tenure": fmt.choose(tenure, TENURE),
        }
    )


PARTNER = Partner(
    source=SOURCE,
    organisation="Northshire Public Health (Childhood Lead Programme)",
    sector="public health",
    files=(
        FileLayout(
            key=TESTS,
            file="lead_blood_tests.csv",
            spec=TEST_SPEC,
            crlf=True,
            description="Blood lead tests of young children, one row per specimen, with the "
            "home's UPRN.",
            rejects=RejectTargets(
                record="SpecimenID",
                fresh=(IdColumn("SpecimenID", TESTS, "PB", 8),),
                birth_date=DateColumn("ChildDOB", "%d/%m/%Y"),
                event_date=DateColumn("SampleDate", "%Y%m%d"),
                changed="ParentGuardian",
            ),
        ),
        FileLayout(
            key=PROPERTIES,
            file="lead_properties.csv",
            spec=PROPERTY_SPEC,
            person_records=False,
            description="Properties known to the programme (tested children's homes and "
            "inspected homes): age, condition, tenure, location.",
            rejects=RejectTargets(record="UPRN", changed="Condition"),
        ),
        FileLayout(
            key=INSPECTIONS,
            file="lead_inspections.csv",
            spec=INSPECTION_SPEC,
            person_records=False,
            description="Housing (HHSRS) and lead-hazard inspections since 2012, one row per "
            "inspection.",
            rejects=RejectTargets(
                record="InspectionRef",
                fresh=(IdColumn("InspectionRef", INSPECTIONS, "INSP", 7),),
                event_date=DateColumn("InspectionDate", "%d/%m/%Y"),
                changed="Outcome",
            ),
        ),
    ),
    render=render,
    finish=finish,
)
