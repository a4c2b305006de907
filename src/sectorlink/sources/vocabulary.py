"""The cross-sector vocabulary as the partners actually speak it: for each code of the
common model, the local codes every partner's spec maps to it, and the local codes still
waiting for a mapping. Read from the specs of the loads in the warehouse, so it stays
current as partners send new specs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from sectorlink.sources.errors import SpecError
from sectorlink.sources.spec import load_spec

LOCAL_CODE_COLUMNS = ["code_set", "code", "source", "field", "local_code"]


def _current_specs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        """SELECT DISTINCT source, spec_path FROM load
        WHERE superseded_by IS NULL AND spec_path IS NOT NULL ORDER BY 1, 2"""
    ).fetchall()
    return [(str(s), str(p)) for s, p in rows]


def local_codes(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, list[str]]:
    """Every (code set, common code, source, field, local code) the current specs map, and
    a note for each spec that could not be read (moved or changed since its load)."""
    rows: list[dict[str, str]] = []
    notes: list[str] = []
    for source, spec_path in _current_specs(con):
        path = Path(spec_path)
        try:
            spec = load_spec(path)
        except (OSError, SpecError) as error:
            notes.append(f"{source}: the spec {path} cannot be read now ({error})")
            continue
        for target in spec.targets():
            for name, mapping in target.fields.items():
                if name not in target.table.field_names:
                    continue
                code_set = target.table.field(name).code_set
                if not code_set:
                    continue
                for local, common in mapping.codes:
                    rows.append(
                        {
                            "code_set": code_set,
                            "code": common,
                            "source": spec.source,
                            "field": f"{target.table.name}.{name}",
                            "local_code": local,
                        }
                    )
    frame = pd.DataFrame(rows, columns=LOCAL_CODE_COLUMNS).drop_duplicates()
    return frame.sort_values(LOCAL_CODE_COLUMNS).reset_index(drop=True), notes


def unmapped_codes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Local codes the current loads met and no spec or crosswalk maps, by source."""
    return con.execute(
        """SELECT l.source, u.table_name, u.field, u.column_name, u.local_value,
                  sum(u.rows) AS rows
        FROM unmapped_code u JOIN load l USING (load_id)
        WHERE l.superseded_by IS NULL
        GROUP BY ALL ORDER BY rows DESC, l.source"""
    ).df()
