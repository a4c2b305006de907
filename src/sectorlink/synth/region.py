"""`generate_region`: the synthetic region, from households to extracts, specs and truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

import sectorlink
from sectorlink.synth import crisis, floor, homelessness, lead, mlp, services, violence
from sectorlink.synth import vocab as v
from sectorlink.synth.config import (
    CHUNK_PEOPLE,
    END_DATE,
    START_DATE,
    MessConfig,
    lead_reference_value,
    preset_mess,
)
from sectorlink.synth.geofiles import write_geography
from sectorlink.synth.geography import build_region
from sectorlink.synth.identifiers import IdPermutation
from sectorlink.synth.manifest import ExtractInfo, RegionManifest
from sectorlink.synth.partners import PARTNERS, ChunkContext, FileLayout, FinalContext, IdSpace
from sectorlink.synth.population import build_people, ni_capacity, plan_households
from sectorlink.synth.rejects import add_reject_rows, with_repeated_header
from sectorlink.synth.rng import stream
from sectorlink.synth.streams import Streams
from sectorlink.synth.truth import ChunkFacts, TruthWriter
from sectorlink.synth.writers import CsvSink, XlsxSink, write_yaml

MAX_PEOPLE = 50_000_000
GP_CATCHMENT_SHARE = 0.4
OUTPUTS = ("manifest.json", "extracts", "specs", "truth", "geography")
SPEC_HEADER = "# Mapping spec written by `sectorlink synth` (see docs/mapping.md).\n"


class OutputFolderError(ValueError):
    """The output folder cannot be used (not empty without force, not writable)."""


def prepare_output(out_dir: Path, force: bool) -> None:
    """Create `out_dir`, refusing a non-empty one unless `force` (then clear our outputs)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(f"{out_dir} exists and is not a folder")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise OutputFolderError(f"{out_dir} is not empty; use --force to overwrite it")
        for name in OUTPUTS:
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".sectorlink-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputFolderError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None


def _validate(people: int, seed: int) -> None:
    if isinstance(people, bool) or not isinstance(people, (int, np.integer)):
        raise ValueError(f"people must be a whole number, got {people!r}")
    if people <= 0:
        raise ValueError(f"people must be at least 1, got {people}")
    if people > MAX_PEOPLE:
        raise ValueError(f"people must be at most {MAX_PEOPLE:,}, got {people:,}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")


class _Progress:
    """A Rich progress bar on the terminal, or nothing when progress is off."""

    def __init__(self, enabled: bool, total: int) -> None:
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if enabled:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            self._task = self._bar.add_task("generating", total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, description: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, description=description)


def _sink(layout: FileLayout, extracts: Path) -> CsvSink | XlsxSink:
    path = extracts / layout.file
    if layout.format == "excel":
        return XlsxSink(path, layout.sheet or "Sheet1", layout.cover_sheet)
    return CsvSink(
        path,
        layout.delimiter,
        layout.encoding,
        layout.bom,
        layout.crlf,
        layout.quote_all,
        layout.preamble,
        layout.missing or "",
        layout.footer,
    )


def generate_region(
    out_dir: Path | str,
    people: int = 20_000,
    seed: int = 42,
    mess: MessConfig | None = None,
    force: bool = False,
    progress: bool = True,
    preset: str = "default",
) -> RegionManifest:
    """Generate a synthetic region: partner extracts, their mapping specs, the truth, the map.

    Args:
        out_dir: folder to write; created if missing. Must be empty unless `force`.
        people: number of residents (1 to 50 million).
        seed: the same seed (and people and mess) gives byte-identical output.
        mess: rates of every kind of mess (default: the preset's).
        preset: "default", or "hard": households that look like one person and more
            age-only and name-only records (see PRESET_RATES, docs/synthetic-region.md).
        force: overwrite the outputs of an earlier run in a non-empty folder.
        progress: show a progress bar on the terminal.

    Returns:
        The manifest, also written to `out_dir/manifest.json`.

    Raises:
        ValueError: bad `people` or `seed`; OutputFolderError (a ValueError) for a folder
            that is not empty (without `force`) or cannot be written.

    Example:
        >>> manifest = generate_region("demo-region", people=2_000, seed=7, progress=False)
        >>> [e.source for e in manifest.extracts][:2]
        ['ae_northgate', 'ambulance_westmoor']
    """
    _validate(people, seed)
    mess = mess if mess is not None else preset_mess(preset)
    out = Path(out_dir)
    prepare_output(out, force)
    extracts_dir = out / "extracts"
    extracts_dir.mkdir(exist_ok=True)

    plan = plan_households(int(people), mess, stream(seed, "households"))
    region = build_region(plan.n_addresses, stream(seed, "geography"))
    hotspots = violence.build_hotspots(region, int(people), stream(seed, "hotspots"))
    gp_rng = stream(seed, "gp-catchment")
    catchment = gp_rng.random(len(region.nb_code)) < GP_CATCHMENT_SHARE
    floor.ensure_catchment(catchment, region, plan)
    deprivation = region.addr_deprivation(np.arange(region.n_addresses))
    id_perms = (
        IdPermutation(10**8, stream(seed, "nhs")),
        IdPermutation(ni_capacity(), stream(seed, "ni")),
    )
    id_space = IdSpace(seed)
    layouts = [(p, f) for p in PARTNERS for f in p.files]
    by_key = {f.key: (p, f) for p, f in layouts}
    sinks = {f.key: _sink(f, extracts_dir) for _, f in layouts}
    truth = TruthWriter(out, region, hotspots)
    lead_referenced = np.zeros(region.n_addresses, bool)
    chunks = plan.chunks(CHUNK_PEOPLE)
    seen = dict.fromkeys(floor.FEEDS, 0)
    rejected = dict.fromkeys(by_key, 0)

    def write(key: str, table: pa.Table, chunk: int) -> None:
        """Write a table to its extract, with the rows ingest must reject added."""
        partner, layout = by_key[key]
        first_row = sinks[key].rows + 2 + len(layout.preamble)
        header_at = None
        if layout.rejects is not None:
            table, expected = add_reject_rows(
                table,
                layout.rejects,
                source=partner.source,
                file=layout.file,
                mess=mess,
                rng=stream(seed, f"rejects:{key}", chunk),
                id_space=id_space,
                first_row=first_row,
            )
            if layout.header_again and table.num_rows >= 2:
                header_at = int(stream(seed, f"header:{key}", chunk).integers(1, table.num_rows))
                expected = with_repeated_header(
                    expected,
                    first_row + header_at,
                    file=layout.file,
                    source=partner.source,
                    record_id=layout.rejects.record,
                )
            rejected[key] += truth.write_rejects(expected)  # (field issues apart)
        sink = sinks[key]
        if isinstance(sink, CsvSink):
            sink.write(table, header_at)
        else:
            sink.write(table)

    with _Progress(progress, len(chunks) + 2) as bar:
        person_offset = 0
        assault_offset = 0
        for i, hh_range in enumerate(chunks):
            last = i == len(chunks) - 1
            folk = build_people(
                plan,
                hh_range,
                person_offset,
                deprivation,
                mess,
                stream(seed, "people", i),
                id_perms,
            )
            streams = Streams()
            cohort = crisis.select_cohort(folk, stream(seed, "crisis", i))
            episodes = homelessness.episodes(folk, cohort, stream(seed, "homeless", i))
            homelessness.add_enrolments(episodes, streams, stream(seed, "hmis", i))
            homelessness.add_prevention(folk, episodes, streams, stream(seed, "prevention", i))
            if last:
                episodes = floor.ensure_outreach(
                    folk, cohort, episodes, streams, stream(seed, "floor", i), seen["hmis_outreach"]
                )
            homelessness.add_homeless_ae(episodes, streams, stream(seed, "homeless-ae", i))
            assaults = violence.generate_assaults(
                folk, region, hotspots, streams, stream(seed, "violence", i), assault_offset
            )
            assault_offset += len(assaults["assault_id"])
            srng = stream(seed, "services", i)
            services.add_ae_background(folk, streams, srng)
            services.add_ambulance_background(folk, region, streams, srng)
            services.add_police_background(folk, region, streams, srng)
            services.add_social_care(folk, streams, srng)
            services.add_advice(folk, region, streams, srng)
            patients = services.gp_patients(folk, catchment, region, srng)
            services.add_gp_conditions(folk, patients, streams, srng)
            registered = np.zeros(len(folk), bool)
            registered[patients["pidx"]] = True
            cohort = crisis.add_cohort_events(
                folk, cohort, region, registered, streams, stream(seed, "crisis-events", i)
            )
            crisis.background_mh_crises(folk, streams, stream(seed, "mh-background", i))
            lrng = stream(seed, "lead", i)
            lead.add_tests(folk, region, streams, lrng)
            lead.add_triggered_inspections(region, streams, lrng)
            _add_gp_lead_codes(streams, registered, lrng)
            mlp.add_screenings(folk, patients, region, streams, stream(seed, "mlp", i))
            if last:
                floor.top_up(folk, region, streams, patients, seen, stream(seed, "floor-top", i))
            for name, rows in floor.count(streams, patients).items():
                seen[name] += rows
            _clamp_times(streams)
            ae = streams.get("ae")
            ae["homeless"] = homelessness.homeless_on(
                episodes, len(folk), ae["pidx"], ae["arrival"].astype("datetime64[D]")
            )

            ctx = ChunkContext(
                chunk=i,
                people=folk,
                region=region,
                streams=streams,
                mess=mess,
                rng=stream(seed, "render", i),
                id_space=id_space,
                extras={"gp_patients": patients, "lead_referenced": lead_referenced},
            )
            for partner in PARTNERS:
                partner.render(ctx)
            for key, table in ctx.tables.items():
                write(key, table, i)
            truth.write_chunk(ctx, ChunkFacts(plan, hh_range, assaults, cohort, episodes, patients))
            person_offset += len(folk)
            bar.advance(f"people {person_offset:,}/{people:,}")

        final = FinalContext(
            region=region,
            rng=stream(seed, "final"),
            id_space=id_space,
            extras={
                "lead_referenced": lead_referenced,
                "history_inspections": floor.ensure_inspection(
                    lead.history_inspections(region, stream(seed, "history")),
                    seen["inspection"],
                    region,
                    stream(seed, "floor-inspection"),
                ),
            },
        )
        for partner in PARTNERS:
            if partner.finish is not None:
                partner.finish(final)
        for key, table in final.tables.items():
            write(key, table, len(chunks))
        for sink in sinks.values():
            sink.close()
        truth.write_hotspots()
        truth.write_lead_properties(lead_referenced)
        truth.close()
        bar.advance("extracts and truth written")
        geography = write_geography(region, out)
        bar.advance("map written")

    extracts = []
    for partner, layout in layouts:
        spec_rel = f"specs/{layout.key}.yaml"
        spec = {
            "spec_version": 1,
            "source": partner.source,
            "partner": partner.organisation,
            "description": layout.description,
            **layout.spec,
        }
        file_options = dict(spec.get("file", {}))
        if layout.preamble:
            file_options["header_row"] = len(layout.preamble) + 1
        if layout.missing:
            file_options["missing"] = [layout.missing]
        if layout.footer:
            file_options["footer_rows"] = sum(1 for line in layout.footer if line.strip())
        if file_options:
            spec["file"] = file_options
        write_yaml(out / spec_rel, spec, SPEC_HEADER)
        extracts.append(
            ExtractInfo(
                source=partner.source,
                partner=partner.organisation,
                sector=partner.sector,
                spec=spec_rel,
                file=f"extracts/{layout.file}",
                description=layout.description,
                rows=sinks[layout.key].rows,
                expected_rejects=rejected[layout.key],
            )
        )
    manifest = RegionManifest(
        out_dir=out,
        seed=int(seed),
        people=int(people),
        generated_with=f"sectorlink {sectorlink.__version__}",
        start_date=START_DATE.isoformat(),
        end_date=END_DATE.isoformat(),
        extracts=tuple(extracts),
        truth=truth.paths(),
        geography=geography,
        mess={k: float(getattr(mess, k)) for k in MessConfig.names()},
    )
    (out / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _clamp_times(streams: Streams) -> None:
    """Arrivals a few hours after a late-December event must not run past the timeline."""
    last = np.datetime64(END_DATE.isoformat(), "D").astype("datetime64[s]") + np.timedelta64(
        86399, "s"
    )
    for name, column in (
        ("ae", "arrival"),
        ("ae", "assault_time"),
        ("ambulance", "call"),
        ("police", "when"),
    ):
        frame = streams.get(name)
        frame[column] = np.where(frame[column] > last, last, frame[column])


def _add_gp_lead_codes(streams: Streams, registered: np.ndarray, rng: np.random.Generator) -> None:
    """GPs record raised blood lead for their registered children (a venous confirmation)."""
    f = streams.get("lead")
    m = (
        (f["sample"] == v.VENOUS)
        & (f["result"] >= lead_reference_value(f["date"]))
        & registered[f["pidx"]]
    )
    pidx, first = np.unique(f["pidx"][m], return_index=True)
    date = f["date"][m][first] + rng.integers(7, 30, len(pidx))
    keep = date <= np.datetime64(END_DATE.isoformat())
    streams.add(
        "gp_condition",
        {
            "pidx": pidx[keep],
            "date": date[keep],
            "condition": np.full(int(keep.sum()), v.LEAD_POISONING),
            "severity": np.full(int(keep.sum()), ""),
        },
    )
