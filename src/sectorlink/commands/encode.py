"""`sectorlink encode SPEC FILE [SPEC FILE]... --out OUT.parquet`: encode at the partner."""

from __future__ import annotations

from pathlib import Path

import typer

from sectorlink.commands._common import console, err_console, fail
from sectorlink.commands.ingest import show_result
from sectorlink.commands.registry import RegistryUrl, opened
from sectorlink.governance import AccessDenied
from sectorlink.governance.doors import NOT_AUDITED, acting_user, authorise_load, record_load
from sectorlink.pprl.clkhash_import import import_clkhash_schema
from sectorlink.pprl.encode import EncodeError, EncodeSummary, encode_extracts
from sectorlink.pprl.keys import (
    DEFAULT_ENV,
    LinkageKey,
    PPRLKeyError,
    key_file_exposed,
    load_key,
)
from sectorlink.pprl.schema import EncodingSchema, SchemaError, load_schema
from sectorlink.sources import SourceError, load_spec
from sectorlink.sources.loader import file_sha256


def encode_command(
    extracts: list[Path] = typer.Argument(
        ...,
        help="SPEC FILE pairs: each mapping spec (YAML) followed by its extract (CSV, Excel, "
        "Parquet), all of one source: the person file and the event files referring to it.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="The encoded Parquet file to write."),
    key_file: Path | None = typer.Option(
        None,
        "--key-file",
        help=f"File holding the shared linkage secret (else the {DEFAULT_ENV} variable).",
    ),
    schema_file: Path | None = typer.Option(
        None,
        "--schema",
        help="Encoding schema (YAML), or a clkhash v3 linkage schema (.json); "
        "default: the shipped schema.",
    ),
    encodings_only: bool = typer.Option(
        False,
        "--encodings-only",
        help="Write the encodings alone, without the extract's rows and manifest (the hub can "
        "link them but run no analysis).",
    ),
    postcodes: Path | None = typer.Option(
        None,
        "--postcodes",
        help="A public postcode-to-small-area lookup (CSV with postcode and small_area "
        "columns, e.g. ONS NSPL): an event at the person's home postcode is sent as its "
        "small area (without it, unplaced).",
    ),
    registry: RegistryUrl = None,
    organisation: str | None = typer.Option(
        None,
        "--organisation",
        help="The organisation encoding (with a registry: it must own the data set or hold it "
        "under a current agreement).",
    ),
) -> None:
    """Encode a partner's extracts at home: identifiers as keyed Bloom filters and tokens,
    and beside them the extracts' rows without any identifier, for the hub's analyses.

    The extracts are mapped and validated exactly as `sectorlink ingest` does (a row without
    its record id is rejected, an invalid value in an optional field such as a birth date is
    set empty and its record still encoded; both reported the same way), standardised, and
    encoded. OUT holds only source, record_id and the encodings; OUT-stem.<table>.parquet
    hold the common-model rows with every identifier column removed (docs/pprl-hub.md says
    what travels and why) and OUT-stem.manifest.json lists every file with its rows and
    SHA-256. The key is never printed. With a registry the encoding is checked against the
    organisation's agreements and audited. Exit status: 0 when written, 2 when the key,
    the schema, a spec, a file or the output is unusable (nothing written), 3 when the
    registry refuses.
    """
    if len(extracts) % 2:
        fail("give SPEC FILE pairs: a mapping spec followed by its extract, for each extract")
    pairs = list(zip(extracts[::2], extracts[1::2], strict=True))
    try:
        key = load_key(key_file)
        if schema_file is not None and schema_file.suffix.lower() == ".json":
            schema = import_clkhash_schema(schema_file)
        else:
            schema = load_schema(schema_file)
    except (PPRLKeyError, SchemaError) as exc:
        fail(str(exc))
    if registry is None:
        err_console.print(f"[yellow]Note:[/yellow] {NOT_AUDITED}", highlight=False)
        summary = _encode(pairs, key, schema, out, encodings_only, postcodes)
    else:
        summary = _governed_encode(
            pairs, key, schema, out, encodings_only, postcodes, registry, organisation
        )
    if key_file is not None and key_file_exposed(key_file):
        err_console.print(
            f"[yellow]Note:[/yellow] {key_file} can be read by other users; "
            f"restrict it with chmod 600 {key_file}",
            highlight=False,
        )
    for load in summary.loads:
        show_result(load)
    console.print(
        f"[bold green]Encoded[/bold green] {summary.records:,} person records into {summary.out}"
    )
    fields = ", ".join(f"{n} ({bits} bits)" for n, bits in summary.fields.items())
    console.print(f"  Bloom filters: {fields}")
    console.print(f"  tokens: {', '.join(summary.tokens)}")
    console.print(f"  schema fingerprint: {summary.fingerprint[:16]}…")
    for table, path in summary.tables.items():
        console.print(f"  rows: {table} ({summary.rows[table]:,}) -> {path}", highlight=False)
    for what, n in summary.counts.items():
        console.print(f"  {what}: {n:,}", highlight=False)
    if summary.manifest:
        console.print(f"  manifest: {summary.manifest}", highlight=False)
    console.print(f"  leaves the partner: {sum(summary.bytes.values()):,} bytes")


def _encode(
    pairs: list[tuple[Path, Path]],
    key: LinkageKey,
    schema: EncodingSchema,
    out: Path,
    encodings_only: bool,
    postcodes: Path | None,
) -> EncodeSummary:
    try:
        return encode_extracts(
            pairs,
            key=key,
            schema=schema,
            out=out,
            rows=not encodings_only,
            postcodes_file=postcodes,
        )
    except (SourceError, EncodeError) as exc:
        fail(str(exc))


def _governed_encode(
    pairs: list[tuple[Path, Path]],
    key: LinkageKey,
    schema: EncodingSchema,
    out: Path,
    encodings_only: bool,
    postcodes: Path | None,
    url: str,
    organisation: str | None,
) -> EncodeSummary:
    """The encoding behind the access check (the organisation reads its data set's
    identifiers in the clear to encode them), audited with the files and what came of it."""
    if not organisation:
        fail("with a registry, say which organisation is encoding: --organisation NAME")
    try:
        sources = sorted({load_spec(spec).source for spec, _ in pairs})
    except SourceError as exc:
        fail(str(exc))
    if len(sources) > 1:
        fail(f"the specs are of different sources ({', '.join(sources)}); encode each on its own")
    files = {
        f"{kind}{i + 1}": path
        for i, pair in enumerate(pairs)
        for kind, path in zip(("spec", "extract"), pair, strict=True)
    }
    actor = acting_user()
    with opened(url) as reg:
        try:
            grant = authorise_load(
                reg,
                organisation=organisation,
                source=sources[0],
                files=files,
                actor=actor,
                door="encode",
            )
        except AccessDenied as refusal:
            fail(str(refusal), code=3)
        except OSError as exc:
            fail(f"cannot read {exc.filename}: {exc.strerror}")
        summary = _encode(pairs, key, schema, out, encodings_only, postcodes)
        written = [summary.out, *summary.tables.values()]
        if summary.manifest:
            written.append(summary.manifest)
        record_load(
            reg,
            grant,
            outcome={
                "status": "encoded",
                "file": str(summary.out),
                "records": summary.records,
                "rows": summary.rows,
                "rows_read": sum(r.rows_read for r in summary.loads),
                "rows_rejected": sum(r.rows_rejected for r in summary.loads),
                "written": {str(p): file_sha256(p) for p in written},
                "schema_fingerprint": summary.fingerprint,
            },
            actor=actor,
            action="encode",
        )
    return summary


def register(app: typer.Typer) -> None:
    app.command("encode")(encode_command)
