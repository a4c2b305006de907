"""Issue 15, point 15: the report sections show counts only through the gate."""

from pathlib import Path
from types import SimpleNamespace

from sectorlink.linkage.evaluate import ErrorKind
from sectorlink.registry import Registry, register_region
from sectorlink.reports.governance import governance_section
from sectorlink.reports.linkage import gated_rows, linkage_section


def _scores(predicted: int, true: int) -> SimpleNamespace:
    return SimpleNamespace(precision=0.99, recall=0.98, f1=0.985, predicted_pairs=predicted,
                           true_pairs=true)  # fmt: skip


def test_linkage_section_counts_pass_the_gate(tmp_path: Path) -> None:
    result = SimpleNamespace(
        records=2313, persons=1502, engine="duckdb", run_id="r1", messages=[], outputs={},
        sources={"ae_northgate": 1204, "police_northgate": 1106, "tiny_charity": 3},
    )  # fmt: skip
    evaluation = SimpleNamespace(
        overall=_scores(812, 820), cross_source=_scores(640, 651), clusters=1502,
        true_persons=1499,
        errors=[ErrorKind("wrong link", "twins", 4), ErrorKind("missed link", "new surname", 53)],
    )  # fmt: skip
    html = linkage_section(result, evaluation, report_dir=tmp_path).body  # type: ignore[arg-type]
    # before: <td class="n">3</td> and the error kind of 4 pairs were shown as they are
    assert '<td>tiny_charity</td><td class="n">[c]</td>' in html
    assert '<td>twins</td><td class="n">[c]</td>' in html
    assert '<td class="n">55</td>' in html  # 53 rounded to 5
    assert "2315 person records" in html and "1,204" not in html
    assert "1205" in html  # ae_northgate rounded


def test_gated_rows_refused_table_hides_everything() -> None:
    assert gated_rows([("a",), ("b",)], [1, 2], name="t") == [("a", "[c]"), ("b", "[c]")]


def test_governance_section_prints_the_head_to_check(registry: Registry, sample_region) -> None:  # type: ignore[no-untyped-def]
    register_region(registry, sample_region)
    section = governance_section(registry)
    assert "--expect-head" in section.body and "witness file matches" in section.body
