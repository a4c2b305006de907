"""`sectorlink encode SPEC FILE --key-file KEY --out OUT.parquet`: encode at the partner."""

from __future__ import annotations

from pathlib import Path

import typer

from sectorlink.commands._common import console, err_console, fail
from sectorlink.commands.ingest import show_result
from sectorlink.pprl.clkhash_import import import_clkhash_schema
from sectorlink.pprl.encode import EncodeError, encode_file
from sectorlink.pprl.keys import DEFAULT_ENV, PPRLKeyError, key_file_exposed, load_key
from sectorlink.pprl.schema import SchemaError, load_schema
from sectorlink.sources import SourceError


def encode_command(
    spec: Path = typer.Argument(..., help="The mapping spec (YAML) for this extract."),
    file: Path = typer.Argument(..., help="The extract: CSV, Excel (.xlsx) or Parquet."),
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
    events: bool = typer.Option(
        False,
        "--events",
        help="Also write the extract's event and detail rows as OUT.<table>.parquet "
        "(refused if a column holds a plaintext identifier).",
    ),
) -> None:
    """Encode an extract's identifiers as keyed Bloom filters and tokens, at the partner.

    The extract is mapped and validated exactly as `sectorlink ingest` does (a row without
    its record id is rejected, an invalid value in an optional field such as a birth date is
    set empty and its record still encoded; both reported the same way), standardised, and
    encoded; only source, record_id and the encodings are written. The key is never
    printed. Exit status: 0 when written, 2 when the key, the schema, the spec, the file or
    the output is unusable (nothing written).
    """
    try:
        key = load_key(key_file)
        if schema_file is not None and schema_file.suffix.lower() == ".json":
            schema = import_clkhash_schema(schema_file)
        else:
            schema = load_schema(schema_file)
        summary = encode_file(spec, file, key=key, schema=schema, out=out, events=events)
    except (PPRLKeyError, SchemaError, SourceError, EncodeError) as exc:
        fail(str(exc))
    if key_file is not None and key_file_exposed(key_file):
        err_console.print(
            f"[yellow]Note:[/yellow] {key_file} can be read by other users; "
            f"restrict it with chmod 600 {key_file}",
            highlight=False,
        )
    show_result(summary.load)
    console.print(
        f"[bold green]Encoded[/bold green] {summary.records:,} person records into {summary.out}"
    )
    fields = ", ".join(f"{n} ({bits} bits)" for n, bits in summary.fields.items())
    console.print(f"  Bloom filters: {fields}")
    console.print(f"  tokens: {', '.join(summary.tokens)}")
    console.print(f"  schema fingerprint: {summary.fingerprint[:16]}…")
    for table, path in summary.events.items():
        console.print(f"  events: {table} -> {path}")


def register(app: typer.Typer) -> None:
    app.command("encode")(encode_command)
