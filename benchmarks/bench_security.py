"""Security sweep: what a hostile but ordinary user can do, re-run (issue 15).

    .venv/bin/python -m benchmarks.bench_security [--tables 250] [--seed 15]

Four parts, each counted and written to the 'Security sweep' section of
docs/benchmarks.md:

1. Routes x identities: every API operation, called as anonymous and as each role, with
   ids and names that exist; counted are server errors (5xx) and departures from the
   role each route requires (a 2xx below it).
2. Audit tamperings: edits, recomputed hashes (with and without the key), deletions of
   the middle, the newest and every entry, reordering, an unkeyed entry appended, and
   INSERT OR REPLACE, each on a fresh copy; counted are those found (by `verify` or refused
   by the database).
3. Injections: names carrying Rich markup, HTML and SQL stored through the API, then read
   back by the API, the CLI's search and audit list, and the HTML pages; counted are
   crashes and unescaped echoes.
4. Random tables through the disclosure gate, the gate of before this sweep (from git) and
   today's: every hidden cell's feasible interval by linear programming from what was
   published; counted are cells recovered exactly and cells narrower than the threshold,
   and the time per table as a ratio to the old gate in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from benchmarks._report import update_section

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the web tests' users, one per role
OLD_GATE_COMMIT = "ceed5f5~1"  # the commit before the LP-checked gate
ROLES = ("viewer", "partner", "analyst", "admin")
INJECTIONS = (
    "Markup [/x] Org",
    "[link=https://evil.example]Click[/link]",
    "[bold red]loud[/bold red]",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "Robert'); DROP TABLE organisation;--",
    "x' OR '1'='1",
    "{{ 7*7 }}",
    "%s%s%n",
    "name\\with\\backslashes",
)


# --- 1. routes x identities ----------------------------------------------------------


def _required_role(route: Any) -> str | None:
    """The role a route's dependencies require (None: open), read from the dependency
    tree (`require(role)` names its checker `require_<role>`)."""
    found: list[str] = []

    def walk(dependant: Any) -> None:
        for sub in dependant.dependencies:
            name = getattr(sub.call, "__name__", "")
            if name.startswith("require_"):
                found.append(name.removeprefix("require_"))
            if name == "current_user":
                found.append("viewer")
            walk(sub)

    walk(route.dependant)
    if not found:
        return None
    return max(found, key=ROLES.index)


def _api_routes(routes: list[Any]) -> list[Any]:
    """Every APIRoute, including those of routers an app included (FastAPI keeps those
    behind the including entry's `original_router`)."""
    from fastapi.routing import APIRoute

    found: list[Any] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif getattr(route, "original_router", None) is not None:
            found.extend(_api_routes(route.original_router.routes))
    return found


def sweep_routes(work: Path) -> dict[str, int]:
    from fastapi.testclient import TestClient

    from sectorlink.registry import Registry
    from sectorlink.registry.region import register_region
    from sectorlink.registry.testing import write_sample_region
    from sectorlink.web import Settings, create_app
    from web.conftest import SECRET, seed_users  # type: ignore[import-not-found]

    work.mkdir(parents=True, exist_ok=True)
    registry = Registry.open(f"sqlite:///{work / 'routes.db'}")
    tokens = seed_users(registry)
    register_region(registry, write_sample_region(work / "region"))
    app = create_app(Settings(environment="test", secret_key=SECRET), registry=registry)
    client = TestClient(app, raise_server_exceptions=False)
    values = {"id": "1", "source": "ae_northgate", "record_id": "1", "dispute_id": "1"}
    tried = errors = departures = unconfigured = 0
    failed: list[str] = []
    identities: list[str | None] = [None, *ROLES]
    for route in _api_routes(app.routes):
        if not route.include_in_schema:
            continue
        needed = _required_role(route)
        path = route.path
        for key, value in values.items():
            path = path.replace("{" + key + "}", value)
        if "{" in path:
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            if route.path in ("/auth/sign-out",) or "deactivate" in route.path:
                continue  # would sign the sweep's own users out
            for who in identities:
                headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
                answer = client.request(method, path, headers=headers, json={})
                tried += 1
                # 503 is a route saying what it lacks here (no model, no warehouse)
                unconfigured += answer.status_code == 503
                errors += answer.status_code >= 500 and answer.status_code != 503
                if answer.status_code >= 500 and answer.status_code != 503:
                    failed.append(f"{method} {path} as {who}: {answer.status_code}")
                below = needed is not None and (
                    who is None or ROLES.index(who) < ROLES.index(needed)
                )
                departures += below and answer.status_code < 400
    registry.close()
    for line in failed:
        print("server error:", line)
    return {
        "requests": tried,
        "server_errors": errors,
        "role_departures": departures,
        "unconfigured": unconfigured,
    }


# --- 2. audit tamperings -------------------------------------------------------------


def sweep_tampering(work: Path) -> tuple[int, int, list[str]]:
    from sqlalchemy import select, text
    from sqlalchemy.exc import DBAPIError

    from sectorlink.governance import append_audit_entry, verify_audit_log
    from sectorlink.registry import Registry
    from sectorlink.registry.auditchain import hash_of
    from sectorlink.registry.models import AuditEntry

    def fresh(name: str) -> Registry:
        registry = Registry.open(f"sqlite:///{work / (name + '.db')}")
        for i in range(6):
            append_audit_entry(
                registry, actor=f"u{i}", organisation="Hub", action="read", purpose="analysis",
                datasets=["ae"], outcome="allowed", reason=f"entry {i}",
            )  # fmt: skip
        return registry

    def raw(registry: Registry, *statements: str) -> None:
        with registry.engine.begin() as c:
            for trigger in ("update", "delete"):
                c.execute(text(f"DROP TRIGGER IF EXISTS audit_entry_no_{trigger}"))
            for statement in statements:
                c.execute(text(statement))

    def entries(registry: Registry) -> list[AuditEntry]:
        with registry.session() as s:
            found = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
            s.expunge_all()
        return found

    def rechain(registry: Registry, key: bytes | None, scheme: str) -> None:
        rows, previous = entries(registry), None
        statements = []
        for entry in rows:
            if previous is not None:
                entry.prev_hash = previous
            entry.reason = "edited" if entry.seq == 3 else entry.reason
            entry.scheme = scheme
            entry.entry_hash = hash_of(entry, key) or ""
            previous = entry.entry_hash
            statements.append(
                f"UPDATE audit_entry SET reason='{entry.reason}', prev_hash='{entry.prev_hash}', "
                f"entry_hash='{entry.entry_hash}', scheme='{scheme}' WHERE seq={entry.seq}"
            )
        raw(registry, *statements)

    cases: dict[str, Any] = {
        "edit an entry": lambda r: raw(r, "UPDATE audit_entry SET outcome='refused' WHERE seq=3"),
        "edit and recompute its hash (with the key)": lambda r: _recompute_one(r, entries, raw),
        "edit and recompute the chain, unkeyed": lambda r: rechain(r, None, "sha256"),
        "edit and recompute the chain, guessed key": lambda r: rechain(
            r, b"guessed", "hmac-sha256"
        ),
        "delete a middle entry": lambda r: raw(r, "DELETE FROM audit_entry WHERE seq=3"),
        "delete the newest entries": lambda r: raw(r, "DELETE FROM audit_entry WHERE seq>=5"),
        "delete every entry": lambda r: raw(r, "DELETE FROM audit_entry"),
        "reorder two entries": lambda r: raw(
            r,
            "UPDATE audit_entry SET seq=-2 WHERE seq=2",
            "UPDATE audit_entry SET seq=2 WHERE seq=4",
            "UPDATE audit_entry SET seq=4 WHERE seq=-2",
        ),
        "append an unkeyed entry": lambda r: _append_unkeyed(r, entries, raw),
        "INSERT OR REPLACE an entry": _insert_or_replace,
    }
    detected, missed = 0, []
    for number, (name, tamper) in enumerate(cases.items()):
        registry = fresh(f"tamper{number}")
        try:
            tamper(registry)
        except DBAPIError:
            detected += 1  # refused by the database
            registry.close()
            continue
        if not verify_audit_log(registry).ok:
            detected += 1
        else:
            missed.append(name)
        registry.close()
    return detected, len(cases), missed


def _insert_or_replace(registry: Any) -> None:
    from sqlalchemy import text

    with registry.engine.begin() as c:
        c.execute(
            text(
                "INSERT OR REPLACE INTO audit_entry (seq, at, actor, organisation, action, "
                "purpose, datasets, outcome, reason, detail, prev_hash, entry_hash, event, "
                "scheme) VALUES (2,'x','x','x','x','x','[]','allowed','x','{}','p','h',"
                "'recorded','sha256')"
            )
        )


def _recompute_one(registry: Any, entries: Any, raw: Any) -> None:
    from sectorlink.registry.auditchain import hash_of

    entry = entries(registry)[2]
    entry.reason = "edited"
    digest = hash_of(entry, registry.audit_key())
    raw(registry, f"UPDATE audit_entry SET reason='edited', entry_hash='{digest}' WHERE seq=3")


def _append_unkeyed(registry: Any, entries: Any, raw: Any) -> None:
    from sectorlink.registry.auditchain import hash_of
    from sectorlink.registry.models import AuditEntry

    last = entries(registry)[-1]
    extra = AuditEntry(
        seq=last.seq + 1, at="2026-01-01", actor="x", organisation="x", action="read",
        purpose="x", datasets="[]", outcome="allowed", reason="forged", detail="{}",
        prev_hash=last.entry_hash, event="access", scheme="sha256", organisation_id=None,
    )  # fmt: skip
    extra.entry_hash = hash_of(extra, None) or ""
    raw(
        registry,
        "INSERT INTO audit_entry (seq, at, actor, organisation, action, purpose, datasets, "
        "outcome, reason, detail, prev_hash, entry_hash, event, scheme) VALUES "
        f"({extra.seq}, 'x', 'x', 'x', 'read', 'x', '[]', 'allowed', 'forged', '{{}}', "
        f"'{extra.prev_hash}', '{extra.entry_hash}', 'access', 'sha256')",
    )


# --- 3. injections -------------------------------------------------------------------


def sweep_injections(work: Path) -> dict[str, int]:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from sectorlink.cli import app as cli
    from sectorlink.registry import Registry
    from sectorlink.web import Settings, create_app
    from web.conftest import SECRET, seed_users  # type: ignore[import-not-found]

    url = f"sqlite:///{work / 'inject.db'}"
    registry = Registry.open(url)
    tokens = seed_users(registry)
    app = create_app(Settings(environment="test", secret_key=SECRET), registry=registry)
    client = TestClient(app, raise_server_exceptions=False)
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    tried = failures = 0
    runner = CliRunner()
    for number, name in enumerate(INJECTIONS):
        stored = f"{name} {number}"
        created = client.post(
            "/organisations", headers=admin, json={"name": stored, "sector": "police"}
        )
        tried += 1
        failures += created.status_code != 201
        page = client.get("/", params={"q": str(number)}, headers=admin)
        tried += 1
        failures += page.status_code >= 500 or "<script>" in page.text or "<img src=x" in page.text
        for args in (["registry", "search", str(number), "--registry", url],
                     ["registry", "check-access", "--organisation", stored, "--purpose", name,
                      "--dataset", name, "--registry", url]):  # fmt: skip
            result = runner.invoke(cli, args)
            tried += 1
            failures += result.exception is not None and not isinstance(
                result.exception, SystemExit
            )
            if args[1] == "search":
                failures += stored not in result.output.replace("\n", "")
    listed = runner.invoke(cli, ["audit", "list", "--limit", "1000", "--registry", url])
    tried += 1
    failures += listed.exit_code != 0
    registry.close()
    return {"requests": tried, "failures": failures}


# --- 4. random tables through the gate -----------------------------------------------


def _load_old_gate() -> Any:
    source = subprocess.run(
        ["git", "show", f"{OLD_GATE_COMMIT}:src/sectorlink/governance/disclosure.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "old_disclosure.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_disclosure", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_disclosure"] = module
    spec.loader.exec_module(module)
    return module


def _widths(
    cells: np.ndarray, hidden: np.ndarray, rows_total: bool, cols_total: bool
) -> list[float]:
    """Feasible interval widths of the hidden cells of a published table (its Total row and
    column included where there are), from the published values alone."""
    n, m = cells.shape
    values = np.zeros(hidden.shape)
    values[:n, :m] = cells
    if rows_total:
        values[:n, m] = cells.sum(axis=1)
    if cols_total:
        values[n, :m] = cells.sum(axis=0)
    if rows_total and cols_total:
        values[n, m] = cells.sum()
    unknown = [tuple(p) for p in np.argwhere(hidden)]
    index = {p: i for i, p in enumerate(unknown)}
    lines = []
    if rows_total:
        lines += [[(r, c) for c in range(m + 1)] for r in range(hidden.shape[0])]
    if cols_total:
        lines += [[(r, c) for r in range(n + 1)] for c in range(hidden.shape[1])]
    a_eq, b_eq = [], []
    for line in lines:
        row, rhs = np.zeros(len(unknown)), 0.0
        for p, sign in [*((q, 1.0) for q in line[:-1]), (line[-1], -1.0)]:
            if p in index:
                row[index[p]] += sign
            else:
                rhs -= sign * values[p]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    widths = []
    for i in range(len(unknown)):
        c = np.zeros(len(unknown))
        c[i] = 1
        lo = linprog(c, A_eq=a_eq or None, b_eq=b_eq or None, bounds=(0, None))
        hi = linprog(-c, A_eq=a_eq or None, b_eq=b_eq or None, bounds=(0, None))
        widths.append(float("inf") if hi.status == 3 else -hi.fun - lo.fun)
    return widths


def sweep_tables(count: int, seed: int) -> dict[str, dict[str, float]]:
    from sectorlink.governance import disclosure as new

    old = _load_old_gate()
    rng = np.random.default_rng(seed)
    tables = []
    for _ in range(count):
        shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        small = rng.random(shape) < 0.35
        cells = np.where(small, rng.integers(0, 11, shape), rng.integers(11, 60, shape))
        tables.append(cells)
    figures: dict[str, dict[str, float]] = {}
    for label, gate in (("before", old), ("now", new)):
        exact = narrow = hidden_cells = refused = 0
        started = time.perf_counter()
        outcomes = []
        for cells in tables:
            try:
                outcomes.append(gate.apply_disclosure_control(pd.DataFrame(cells), "suppress-1-10"))
            except gate.DisclosureRefused:
                outcomes.append(None)
        seconds = time.perf_counter() - started
        for cells, protected in zip(tables, outcomes, strict=True):
            if protected is None:
                refused += 1
                continue
            out = protected.table
            n, m = cells.shape
            widths = _widths(
                cells, protected.suppressed.to_numpy(), m > 1 and out.columns[-1] == "Total",
                n > 1 and out.index[-1] == "Total",
            )  # fmt: skip
            hidden_cells += len(widths)
            exact += sum(w < 0.5 for w in widths)
            narrow += sum(w < 11 for w in widths)
        figures[label] = {
            "tables": count, "refused": refused, "hidden": hidden_cells, "exact": exact,
            "narrow": narrow, "seconds": seconds,
        }  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=250)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="security-sweep-"))
    try:
        routes = sweep_routes(work / "routes")
        detected, tamperings, missed = sweep_tampering(work)
        injections = sweep_injections(work)
        tables = sweep_tables(args.tables, args.seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    before, now = tables["before"], tables["now"]
    ratio = now["seconds"] / before["seconds"] if before["seconds"] else float("nan")
    not_found = f"{tamperings - detected} not detected" + (
        f": {', '.join(missed)}" if missed else ""
    )
    checks = [
        ("API routes x identities (anonymous + 4 roles): server errors", routes["requests"],
         routes["server_errors"]),
        ("API routes x identities: a 2xx below the route's role", routes["requests"],
         routes["role_departures"]),
        ("audit tamperings (on a fresh registry each)", tamperings, not_found),
        ("injections (markup, HTML, SQL in stored names; API, pages, CLI)",
         injections["requests"], injections["failures"]),
    ]  # fmt: skip
    rows = "\n".join(f"| {what} | {tried:,} | {wrong} |" for what, tried, wrong in checks)

    def gate_row(label: str, f: dict[str, float], ratio_text: str) -> str:
        return (
            f"| {label} | {f['refused']:.0f} | {f['hidden']:.0f} | {f['exact']:.0f} | "
            f"{f['narrow']:.0f} | {ratio_text} ({f['seconds']:.2f} s) |"
        )

    body = f"""Re-run of issue 15's sweep: `.venv/bin/python -m benchmarks.bench_security
--tables {args.tables} --seed {args.seed}`.

| check | tried | found wrong |
| --- | ---: | ---: |
{rows}

Random tables ({args.tables}, 1-5 x 1-5 cells, each cell 0-10 with chance 0.35) through
`suppress-1-10`; every hidden cell's feasible interval found by linear programming from
what was published (its own code, not the gate's):

| gate | refused | hidden cells | recovered exactly | interval narrower than 11 | time |
| --- | ---: | ---: | ---: | ---: | ---: |
{gate_row(f"before this sweep ({OLD_GATE_COMMIT})", before, "1.00x")}
{gate_row("now (LP-checked secondary suppression)", now, f"{ratio:.1f}x")}

{routes["unconfigured"]} answers were 503 from routes that say what this sweep's bare
registry lacks (no lead-risk model, no warehouse): not counted as server errors.
Cells recoverable: target 0. The role each route needs is read from its own dependencies
(`require(role)`), so a route added without one shows up as a departure.
"""
    update_section("security", "Security sweep", body)
    print(body)


if __name__ == "__main__":
    main()
