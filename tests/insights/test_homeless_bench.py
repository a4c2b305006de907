"""The homelessness benchmark's section keeps the rows of sizes a run did not measure (a
20,000-people rerun must not drop the 200,000 rows), and its misses table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_homelessness.py"


def _bench() -> ModuleType:
    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_homelessness", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_homelessness"] = module
    spec.loader.exec_module(module)
    return module


def _row(bench: ModuleType, people: int, mode: str, misses: object = None) -> object:
    return bench.Row(people, mode, 100, 98, 2, 95, 0.95, 0.969, 0.95, 0.969, 0.4, 0.41, 1.0,
                     0, "190 (estimated)", misses)  # fmt: skip


def test_a_rerun_of_one_size_keeps_the_other_sizes_rows(tmp_path: Path) -> None:
    bench = _bench()
    misses = bench.Misses(2, 3, 0, 1, 0.98, 0.97, [])
    first = bench.markdown(
        [
            _row(bench, 20_000, "clear", misses),
            _row(bench, 200_000, "clear", misses),
            _row(bench, 200_000, "PPRL (partner packages)"),
        ]
    )
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "<!-- BEGIN homelessness-seed-7 -->\n## t\n\n_Measured 2026-12-01 10:00 UTC on x._\n\n"
        f"{first}\n<!-- END homelessness-seed-7 -->\n"
    )
    kept, when = bench.earlier_rows("homelessness-seed-7", [20_000], doc)
    assert when == "2026-12-01 10:00 UTC"
    assert [line.split("|")[1].strip() for line in kept] == ["200,000"] * 3
    again = bench.markdown([_row(bench, 20_000, "clear", misses)], kept, when).splitlines()
    main = [line for line in again if line.count("|") == bench.MAIN_CELLS + 1]
    assert [line.split("|")[1].strip() for line in main[2:]] == ["20,000", "200,000", "200,000"]
    table = [line for line in again if line.count("|") == bench.MISS_CELLS + 1]
    assert [line.split("|")[1].strip() for line in table[2:]] == ["20,000", "200,000"]
    assert "| 20,000 | clear | 2 | 3 | 0 | 1 | 0.980 / 0.970 |" in again
    assert "Rows for 200,000 people: measured 2026-12-01 10:00 UTC, kept." in again
    # kept twice: still dated by the run that measured them
    doc.write_text(
        "<!-- BEGIN homelessness-seed-7 -->\n## t\n\n_Measured 2026-12-02 09:00 UTC on x._\n\n"
        + "\n".join(again)
        + "\n<!-- END homelessness-seed-7 -->\n"
    )
    assert bench.earlier_rows("homelessness-seed-7", [20_000], doc) == (kept, when)
    # nothing of this size was measured before: nothing kept
    assert bench.earlier_rows("homelessness-seed-7", [20_000, 200_000], doc)[0] == []
    assert bench.earlier_rows("homelessness-seed-99", [20_000], doc) == ([], "")
