"""Frequency and bit-pattern attacks on encoded given names, with and without hardening.

The attacker sees the encodings of one field (the given name) and knows the frequency
distribution of given names in the population (here: the synthetic region's own name
tables, so the attacker's knowledge is exact); never the key. Two attacks:

1. whole-filter frequency alignment: rank the distinct encodings by how often they occur
   and give rank i the i-th most common name;
2. bit-pattern attack (after Christen et al. 2017-2018): the attacker knows the names
   behind the `seed` most frequent encodings (a leak, or records it knows are there) and,
   for every bigram, infers its bit positions as the bits set in every seed filter whose
   name has that bigram; each other encoding is matched (Dice) to the name, from the whole
   name list, whose predicted filter is closest. Only encodings outside the seed count.

Re-identification rate: the share of records whose name the attack names correctly.

    .venv/bin/python benchmarks/bench_pprl_attack.py              # 50,000 records
    .venv/bin/python benchmarks/bench_pprl_attack.py --records 10000 --no-doc
    .venv/bin/python benchmarks/bench_pprl_attack.py --accuracy   # F1 cost of each option
    .venv/bin/python benchmarks/bench_pprl_attack.py --accuracy --region 20000
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

SEED = 42
SEED_NAMES = 50
RERUN = ".venv/bin/python benchmarks/bench_pprl_attack.py"
SECRET = b"attack benchmark secret, not the attacker's to know"


@dataclass(frozen=True)
class Population:
    names: list[str]
    """The given name of each record, as the partner holds it."""
    years: npt.NDArray[np.int64]
    known_names: list[str]
    """The attacker's name list, most common first."""
    known_p: npt.NDArray[np.float64]


@dataclass
class AttackResult:
    setting: str
    distinct: int
    frequency: float
    pattern: float
    seconds: float


def population(records: int, seed: int = SEED) -> Population:
    """Records with given names drawn from the synthetic region's name frequencies."""
    from sectorlink.synth.names import name_tables

    tables = name_tables()
    p = (tables.male_p + tables.female_p) / 2
    p = p / p.sum()
    order = np.argsort(-p, kind="stable")
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(p), size=records, p=p)
    return Population(
        names=[str(n) for n in tables.given[drawn]],
        years=rng.integers(1940, 2010, size=records),
        known_names=[str(n) for n in tables.given[order]],
        known_p=p[order],
    )


def encode_given(
    pop: Population, schema_hardening: dict[str, object]
) -> tuple[npt.NDArray[np.uint8], list[str], list[str], list[str]]:
    """Bits of each record's given-name filter, its standardised given name and canonical
    name, and its exact canonical-name token; records in (source, record_id) order."""
    from sectorlink.identity.standardise import standardise
    from sectorlink.pprl.encode import encode_records
    from sectorlink.pprl.keys import LinkageKey
    from sectorlink.pprl.schema import load_schema
    from sectorlink.warehouse import ensure_schema

    schema = load_schema().with_fields(["given_name"])
    if schema_hardening:
        schema = schema.with_hardening(**schema_hardening)  # type: ignore[arg-type]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    ensure_schema(con)
    rows = pa.table(
        {
            "source": ["attack"] * len(pop.names),
            "record_id": [f"{i:08d}" for i in range(len(pop.names))],
            "given_name": pop.names,
            "birth_year": pop.years,
        }
    )
    con.register("rows_in", rows)
    con.execute(
        "INSERT INTO person_record (source, record_id, given_name, birth_year) "
        "SELECT source, record_id, given_name, birth_year FROM rows_in"
    )
    encoded = encode_records(con, LinkageKey.from_bytes(SECRET), schema)
    std = standardise(con).order("source, record_id").select("given_name, given_canonical")
    truth, canonical = (list(map(str, c)) for c in zip(*std.fetchall(), strict=True))
    con.close()
    col = encoded.column("bf_given_name").combine_chunks()
    width = col.type.byte_width
    data = np.frombuffer(col.buffers()[1], dtype=np.uint8)[: len(col) * width]
    bits = np.unpackbits(data.reshape(len(col), width), axis=1, bitorder="little")
    tokens = [str(t) for t in encoded.column("tok_given_canonical").to_pylist()]
    return bits, truth, canonical, tokens


def _distinct(
    bits: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Distinct rows, the index of each record's row, and counts; most frequent first."""
    packed = np.packbits(bits, axis=1)
    uniq, inverse, counts = np.unique(packed, axis=0, return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return (
        np.unpackbits(uniq[order], axis=1)[:, : bits.shape[1]],
        rank[inverse.ravel()],
        counts[order],
    )


def frequency_attack(
    labels: npt.NDArray[np.int64], truth: list[str], known_names: list[str]
) -> float:
    """Rank i of the encodings (by frequency) is guessed to be the i-th most common name."""
    known = [n.lower() for n in known_names]
    # encodings ranked beyond the name list get no name
    names = np.array([*known, ""], dtype=object)
    guess = names[np.minimum(labels, len(known))]
    return float(np.mean(guess == np.array(truth, dtype=object)))


def _bigrams(name: str) -> set[str]:
    padded = f" {name} "
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def pattern_attack(
    uniq: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.int64],
    truth: list[str],
    known_names: list[str],
    seed: int = SEED_NAMES,
) -> float:
    """Re-identification rate of records outside the seed encodings.

    The seed: the `seed` most frequent encodings with the names truly behind them (known
    plaintext: a leak, or records the attacker knows to be in the data)."""
    known = [n.lower() for n in known_names]
    seed = min(seed, len(uniq), len(known))
    truth_arr = np.array(truth, dtype=object)
    seed_names = []
    for i in range(seed):
        values, counts = np.unique(truth_arr[labels == i].astype(str), return_counts=True)
        seed_names.append(str(values[counts.argmax()]))
    seed_bits = uniq[:seed].astype(bool)
    always = seed_bits.all(axis=0)
    positions: dict[str, npt.NDArray[np.bool_]] = {}
    for gram in set().union(*(_bigrams(n) for n in seed_names)):
        holders = [i for i in range(seed) if gram in _bigrams(seed_names[i])]
        positions[gram] = seed_bits[holders].all(axis=0) & ~always
    candidates = known
    predicted = np.zeros((len(candidates), uniq.shape[1]), dtype=bool)
    for c, name in enumerate(candidates):
        for gram in _bigrams(name):
            if gram in positions:
                predicted[c] |= positions[gram]
    targets = uniq[seed:].astype(np.float32)
    if len(targets) == 0:
        return 0.0
    pred = predicted.astype(np.float32)
    inter = targets @ pred.T
    dice = 2 * inter / (targets.sum(1)[:, None] + pred.sum(1)[None, :] + 1e-9)
    best = np.asarray(candidates, dtype=object)[dice.argmax(axis=1)]
    outside = labels >= seed
    guessed = best[labels[outside] - seed]
    return float(np.mean(guessed == truth_arr[outside]))


SETTINGS: dict[str, dict[str, object]] = {
    "none": {},
    "balance": {"balance": True},
    "xor_fold": {"xor_fold": True},
    "salt (birth_year)": {"salt": "birth_year"},
    "diffusion (t=3)": {"diffusion": 3},
    "balance + salt + diffusion": {"balance": True, "salt": "birth_year", "diffusion": 3},
}


def run(records: int, settings: dict[str, dict[str, object]] = SETTINGS) -> list[AttackResult]:
    pop = population(records)
    results = []
    token_done = False
    for label, hardening in settings.items():
        started = time.perf_counter()
        bits, truth, canonical, tokens = encode_given(pop, hardening)
        uniq, labels, _ = _distinct(bits)
        results.append(
            AttackResult(
                setting=label,
                distinct=len(uniq),
                frequency=frequency_attack(labels, truth, pop.known_names),
                pattern=pattern_attack(uniq, labels, truth, pop.known_names),
                seconds=time.perf_counter() - started,
            )
        )
        if not token_done:
            # the keyed exact token of the canonical name, attacked the same way
            _, inv, counts = np.unique(
                np.array(tokens, dtype=object), return_inverse=True, return_counts=True
            )
            order = np.argsort(-counts, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            results.append(
                AttackResult(
                    setting="keyed exact token (tok_given_canonical)",
                    distinct=len(counts),
                    frequency=frequency_attack(rank[inv.ravel()], canonical, pop.known_names),
                    pattern=float("nan"),
                    seconds=0.0,
                )
            )
            token_done = True
    return results


def markdown(results: list[AttackResult], records: int) -> str:
    lines = [
        f"Given names of {records:,} records drawn from the synthetic region's name "
        "frequencies, encoded with the default `given_name` field (1024 bits, k = 20) and "
        "one hardening option at a time. The attacker knows the name frequencies, not the "
        f"key. Pattern attack: bigram bit positions inferred from the {SEED_NAMES} most "
        "frequent encodings and the names truly behind them (known plaintext); rate over the "
        "records outside those. Re-run: `.venv/bin/python benchmarks/bench_pprl_attack.py`.",
        "",
        "| hardening | distinct encodings | frequency attack re-identified | "
        "pattern attack re-identified |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in results:
        pattern = "n/a" if np.isnan(r.pattern) else f"{r.pattern:.1%}"
        lines.append(f"| {r.setting} | {r.distinct:,} | {r.frequency:.1%} | {pattern} |")
    return "\n".join(lines)


@dataclass
class CostResult:
    setting: str
    precision: float
    recall: float
    f1: float
    encode_seconds: float
    link_seconds: float


def _febrl4(con: duckdb.DuckDBPyConnection, truth: Path) -> None:
    from sectorlink.linkage.benchmarks import load_febrl4

    load_febrl4(con).write_csv(str(truth))


def _region(people: int) -> Callable[[duckdb.DuckDBPyConnection, Path], None]:
    def load(con: duckdb.DuckDBPyConnection, truth: Path) -> None:
        import shutil

        from sectorlink.demo import ingest_region
        from sectorlink.synth import generate_region

        region = truth.parent / "region"
        generate_region(region, people=people, seed=SEED, progress=False)
        ingest_region(region, truth.parent / "plain.duckdb")
        shutil.copy(region / "truth" / "person_records.csv", truth)
        con.execute(f"ATTACH '{truth.parent / 'plain.duckdb'}' AS plain (READ_ONLY)")
        con.execute("INSERT INTO person_record SELECT * FROM plain.person_record")
        con.execute("DETACH plain")

    return load


def accuracy_cost(
    settings: dict[str, dict[str, object]] = SETTINGS,
    load: Callable[[duckdb.DuckDBPyConnection, Path], None] = _febrl4,
) -> list[CostResult]:
    """Records linked by the hub's Bloom engine, once per hardening setting (all fields)."""
    import tempfile

    import pyarrow.parquet as pq

    from sectorlink.linkage.evaluate import evaluate
    from sectorlink.pprl.encode import encode_records
    from sectorlink.pprl.hub import link_encoded
    from sectorlink.pprl.keys import LinkageKey
    from sectorlink.pprl.load import load_encoded
    from sectorlink.pprl.schema import load_schema
    from sectorlink.warehouse import connect, ensure_schema

    key = LinkageKey.from_bytes(SECRET)
    out: list[CostResult] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        ensure_schema(con)
        load(con, tmp / "truth.csv")
        for i, (label, hardening) in enumerate(settings.items()):
            schema = load_schema()
            if hardening:
                schema = schema.with_hardening(**hardening)  # type: ignore[arg-type]
            started = time.perf_counter()
            encoded = encode_records(con, key, schema)
            encode_seconds = time.perf_counter() - started
            pq.write_table(encoded, tmp / f"{i}.parquet")
            warehouse = tmp / f"{i}.duckdb"
            load_encoded([tmp / f"{i}.parquet"], warehouse=warehouse)
            started = time.perf_counter()
            link_encoded(warehouse)
            link_seconds = time.perf_counter() - started
            hub = connect(warehouse)
            ev = evaluate(hub, tmp / "truth.csv", with_errors=False).overall
            hub.close()
            out.append(
                CostResult(label, ev.precision, ev.recall, ev.f1, encode_seconds, link_seconds)
            )
            print(out[-1], flush=True)
        con.close()
    return out


def cost_markdown(results: list[CostResult], data: str, command: str) -> str:
    lines = [
        f"{data} encoded with the default schema and one hardening "
        "setting on every field, linked by the hub's Bloom engine (`sectorlink.pprl.hub`), "
        f"scored against the truth. Re-run: `{command}`.",
        "",
        "| hardening | precision | recall | F1 | encode s | link s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.setting} | {r.precision:.4f} | {r.recall:.4f} | {r.f1:.4f} | "
            f"{r.encode_seconds:.1f} | {r.link_seconds:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument(
        "--accuracy", action="store_true", help="measure the accuracy cost (FEBRL4) instead"
    )
    parser.add_argument(
        "--region", type=int, default=0, help="with --accuracy: the synthetic region of N people"
    )
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.accuracy and args.region:
        name = "pprl_hardening_cost_region"
        title = f"Accuracy cost of PPRL hardening: synthetic region, {args.region:,} people"
        data = f"The synthetic region of {args.region:,} people (seed {SEED}, every partner)"
        command = f"{RERUN} --accuracy --region {args.region}"
        body = cost_markdown(accuracy_cost(load=_region(args.region)), data, command)
    elif args.accuracy:
        name, title = "pprl_hardening_cost", "Accuracy cost of PPRL hardening"
        data, command = (
            "FEBRL4 (2 x 5,000 records)",
            f"{RERUN} --accuracy",
        )
        body = cost_markdown(accuracy_cost(), data, command)
    else:
        name, title = "pprl_attack", "Frequency attacks on encoded names"
        body = markdown(run(args.records), args.records)
    print(body)
    if not args.no_doc:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import update_section

        update_section(name, title, body)


if __name__ == "__main__":
    main()
