"""The CSV reader's repair steps: named, in a stated order, each working on its own; and the
codes errors carry, which code that needs the kind of error reads."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from sectorlink.sources import FileErrorCode, FileFormatError, ingest
from sectorlink.sources.draft import draft_spec
from sectorlink.sources.readers import CSV_STEPS, header_again_sql, stage_file
from sectorlink.sources.readers.steps import (
    FOOTER,
    LINE_ENDS,
    TRANSCODE,
    UNPACK,
    Source,
    run_steps,
)
from sectorlink.sources.spec import FileOptions

ROWS = "id,name\n1,Zoë\n2,Ng\n"


def test_the_steps_are_listed_in_the_order_they_apply():
    assert [step.name for step in CSV_STEPS] == [
        "unpack",
        "text check",
        "transcode",
        "footer",
        "line ends",
    ]
    assert all(step.what for step in CSV_STEPS)  # each says what it does


def test_unpack_alone(tmp_path: Path):
    packed = tmp_path / "x.csv.gz"
    packed.write_bytes(gzip.compress(ROWS.encode()))
    source = Source(packed, FileOptions())
    assert UNPACK.needed(source)
    out = UNPACK.apply(source, tmp_path / "out.csv")
    assert out.path.read_text(encoding="utf-8") == ROWS and out.options == source.options
    assert not UNPACK.needed(out)


def test_transcode_alone(tmp_path: Path):
    path = tmp_path / "w.csv"
    path.write_bytes("id,name\n1,O’Neil – £5\n".encode("windows-1252"))
    source = Source(path, FileOptions(encoding="windows-1252"))
    assert TRANSCODE.needed(source)
    out = TRANSCODE.apply(source, tmp_path / "out.csv")
    assert out.path.read_text(encoding="utf-8") == "id,name\n1,O’Neil – £5\n"
    assert out.options.encoding == "utf-8" and not TRANSCODE.needed(out)
    assert not TRANSCODE.needed(Source(path, FileOptions(encoding="latin-1")))


def test_footer_alone(tmp_path: Path):
    path = tmp_path / "f.csv"
    path.write_bytes((ROWS + "\nTotal: 2\n*** END ***\n\n").encode())
    source = Source(path, FileOptions(footer_rows=2))
    assert FOOTER.needed(source) and not FOOTER.needed(Source(path, FileOptions()))
    out = FOOTER.apply(source, tmp_path / "out.csv")
    assert out.path.read_text(encoding="utf-8") == ROWS + "\n"
    assert out.options.footer_rows == 0


def test_line_ends_alone(tmp_path: Path):
    mixed = tmp_path / "m.csv"
    mixed.write_bytes(b"id,name\r\n1,A\r\n2,B\n3,C\n")
    out = LINE_ENDS.apply(Source(mixed, FileOptions()), tmp_path / "out.csv")
    assert out.path.read_bytes() == b"id,name\n1,A\n2,B\n3,C\n"
    # needed before reading only for a header wrapped inside quotes in a CR LF file
    wrapped = tmp_path / "w.csv"
    wrapped.write_bytes(b'id,"Date of\nBirth"\r\n1,2000-01-01\r\n')
    assert LINE_ENDS.needed(Source(wrapped, FileOptions()))
    assert not LINE_ENDS.needed(Source(mixed, FileOptions()))  # found when DuckDB refuses it


def test_steps_run_in_order_on_each_others_copies(tmp_path: Path):
    path = tmp_path / "report.csv.gz"
    text = "id,name\r\n1,O’Neil\r\n2,Ng\n\nTotal: 2\n"
    path.write_bytes(gzip.compress(text.encode("windows-1252")))
    folder = tmp_path / "copies"
    folder.mkdir()
    source, taken = run_steps(
        Source(path, FileOptions(encoding="windows-1252", footer_rows=1)), folder
    )
    assert taken == ["unpack", "transcode", "footer"]
    assert source.path.read_bytes().decode() == "id,name\r\n1,O’Neil\r\n2,Ng\n\n"
    assert [p.name for p in folder.iterdir()] == [source.path.name]  # earlier copies gone
    # and the whole read (the line-ends step taken when DuckDB refuses the mixed ends)
    con = duckdb.connect()
    staged = stage_file(con, path, FileOptions(encoding="windows-1252", footer_rows=1))
    assert staged.path == path and staged.encoding == "windows-1252"
    assert con.execute("SELECT __row, c1 FROM __staging ORDER BY 1").fetchall() == [
        (2, "O’Neil"),
        (3, "Ng"),
    ]


def test_an_error_in_a_repaired_copy_names_the_partners_file(tmp_path: Path):
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(b"id,name\n1,A\n2,B,extra\n3,C\n4,D\n5,E\n"))
    with pytest.raises(FileFormatError) as err:
        stage_file(duckdb.connect(), path, FileOptions())
    assert err.value.file == path and err.value.row == 3
    assert err.value.code is FileErrorCode.RAGGED_ROW


@pytest.mark.parametrize(
    ("data", "options", "code"),
    [
        (b"", FileOptions(), FileErrorCode.EMPTY),
        (b"id,name\n", FileOptions(), FileErrorCode.NO_DATA_ROWS),
        (b"id,name\n1,\xe9\n", FileOptions(), FileErrorCode.WRONG_ENCODING),
        (
            "id,name\n1,é\n".encode(),
            FileOptions(encoding="latin-1"),
            FileErrorCode.ENCODING_MISMATCH,
        ),
        (b"id,name\n1,A\x00\n", FileOptions(), FileErrorCode.NUL_BYTE),
        (b"id,id\n1,2\n", FileOptions(), FileErrorCode.HEADER),
        (b'id,name\n1,"A\n', FileOptions(), FileErrorCode.UNTERMINATED_QUOTE),
        (b"id,name\n1,A\n2", FileOptions(), FileErrorCode.CUT_OFF),
        (b"\x28\xb5\x2f\xfd\x00", FileOptions(), FileErrorCode.PACKED),
    ],
)
def test_file_errors_carry_a_code(tmp_path: Path, data: bytes, options: FileOptions, code):
    path = tmp_path / "d.csv"
    path.write_bytes(data)
    with pytest.raises(FileFormatError) as err:
        stage_file(duckdb.connect(), path, options)
    assert err.value.code is code, str(err.value)


def test_a_footer_error_says_how_many_rows_and_draft_reads_the_number(write, tmp_path):
    text = "id,name,dob\n1,A,1980-01-01\n2,B,1990-02-03\n\nTotal records: 2\n*** END ***\n"
    path = write("r.csv", text)
    with pytest.raises(FileFormatError) as err:
        stage_file(duckdb.connect(), path, FileOptions())
    assert err.value.code is FileErrorCode.LIKELY_FOOTER and err.value.footer_rows == 2
    assert "footer_rows: 2" in draft_spec(path).text


def test_a_missing_column_is_coded(write, warehouse):
    from sectorlink.sources import SpecError

    spec = write(
        "s.yaml", "spec_version: 1\nsource: s\nrecord_id: nope\nperson:\n  family_name: name\n"
    )
    with pytest.raises(SpecError) as err:
        ingest(spec, write("d.csv", "id,name\n1,A\n"), warehouse=warehouse)
    assert err.value.code is FileErrorCode.COLUMN_MISSING


def test_a_repeated_header_is_marked_in_csv_and_excel_only(tmp_path: Path):
    con = duckdb.connect()
    path = tmp_path / "j.csv"
    path.write_text("id,name\n1,A\nid,name\n2,B\n", encoding="utf-8")
    staged = stage_file(con, path, FileOptions())
    marked = header_again_sql(staged)
    assert marked is not None
    assert con.execute(f"SELECT __row FROM __staging WHERE {marked}").fetchall() == [(3,)]
    parquet = tmp_path / "p.parquet"
    con.execute(f"COPY (SELECT 'id' AS id, 'name' AS name) TO '{parquet}'")
    assert header_again_sql(stage_file(con, parquet, FileOptions())) is None
