"""A frequency attack and a bit-pattern attack on encoded given names: hardening reduces
what they recover. The figures for docs/privacy.md come from the same code
(benchmarks/bench_pprl_attack.py) at a larger size."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_pprl_attack.py"


def _attack_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_pprl_attack", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_hardening_reduces_what_the_attacks_recover() -> None:
    attack = _attack_module()
    settings = {
        "none": {},
        "balance": {"balance": True},
        "salt": {"salt": "birth_year"},
        "diffusion": {"diffusion": 3},
    }
    results = {r.setting: r for r in attack.run(10_000, settings)}
    none = results["none"]
    # unhardened, the attacks do recover names: there is something to reduce
    assert none.frequency > 0.01 and none.pattern > 0.3
    # the token of the canonical name is as exposed to frequency alignment as the filter
    token = results["keyed exact token (tok_given_canonical)"]
    assert token.frequency > 0.01
    # salting splits each name over birth years: alignment and pattern mining fail
    assert results["salt"].distinct > 5 * none.distinct
    assert results["salt"].frequency < none.frequency / 4
    assert results["salt"].pattern < none.pattern / 10
    # balancing and diffusion leave whole-filter frequencies alone but blur bit patterns
    assert results["balance"].distinct == none.distinct
    assert results["balance"].pattern < 0.8 * none.pattern
    assert results["diffusion"].pattern < 0.9 * none.pattern
