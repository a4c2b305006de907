"""Field-level rejects beyond ingest itself: the partner's encoding follows the same rule,
and a whole column of bad values loses the column, never the rows."""

from __future__ import annotations

import pyarrow.parquet as pq

from sectorlink.sources import ingest

SPEC = """\
spec_version: 1
source: clinic
record_id: id
person:
  family_name: surname
  given_name: forename
  birth_date: {column: dob, formats: ["%Y%m%d"]}
"""


def test_encode_keeps_a_record_whose_birth_date_is_invalid(write, tmp_path):
    """FEBRL's 19450493: before, the record was rejected and never left the partner."""
    from sectorlink.pprl.encode import encode_file
    from sectorlink.pprl.keys import LinkageKey

    text = (
        "id,surname,forename,dob\n1,Smith,John,19800203\n2,Jones,Mary,19450493\n,Ng,Li,19700101\n"
    )
    summary = encode_file(
        write("s.yaml", SPEC),
        write("d.csv", text),
        key=LinkageKey.from_bytes(b"k" * 32),
        out=tmp_path / "enc.parquet",
    )
    assert summary.records == 2  # the record without its id is the only one lost
    assert summary.load.rows_rejected == 1 and summary.load.field_issues == 1
    assert [(i.row, i.code) for i in summary.load.field_issue_sample] == [(3, "not_a_date")]
    ids = pq.read_table(tmp_path / "enc.parquet").column("record_id").to_pylist()
    assert sorted(ids) == ["1", "2"]


def test_every_birth_date_invalid_keeps_every_row(write, warehouse, query):
    rows = "".join(f"{i},S{i},F{i},1980{i:02d}45\n" for i in range(1, 41))
    result = ingest(
        write("s.yaml", SPEC),
        write("d.csv", "id,surname,forename,dob\n" + rows),
        warehouse=warehouse,
    )
    assert result.rows_rejected == 0 and result.field_issues == 40
    assert result.field_issue_groups[0].rows == 40
    assert query("SELECT count(*), count(birth_date), count(birth_year) FROM person_record") == [
        (40, 0, 0)
    ]
    assert query("SELECT count(*) FROM field_issues WHERE code = 'not_a_date'") == [(40,)]
    quality = {q.field: q for q in result.quality}
    assert quality["birth_date"].present == 40 and quality["birth_date"].valid == 0
