"""anonlink and clkhash as benchmark oracles, in a venv of their own.

The PPRL benchmarks compare sectorlink with anonlink 0.15.3 and clkhash 0.18.3, the last
releases (2023) of the tools people use today. They pin old packages, so they are not
project dependencies: on first use :func:`oracle_python` makes ``.venv-oracles/`` at the
repository root with the running interpreter (``python -m venv``) and installs
``benchmarks/requirements-pprl-oracles.txt`` into it with pip (from the package index, so
the first run needs it reachable). A stamp file holds the requirements' hash, so editing
the pins rebuilds the venv. anonlink installs from a prebuilt manylinux wheel on CPython
3.11; should pip ever fall back to its source distribution, the C++ extension needs
``g++``: when pip fails and ``g++`` is missing, running as root, this helper runs
``apt-get install -y g++`` once and tries again.

The oracle side then runs in a subprocess of that venv (:func:`run_oracle`) on the same
encodings, handed over in temporary files, and prints one JSON line of figures.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-oracles"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-pprl-oracles.txt"
STAMP = VENV / "requirements.sha256"


def _python() -> Path:
    return VENV / "bin" / "python"


def _wanted() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def _pip_install() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(_python()), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
        capture_output=True,
        text=True,
    )


def oracle_python() -> Path:
    """The oracle venv's interpreter, making the venv first if needed."""
    if _python().exists() and STAMP.exists() and STAMP.read_text().strip() == _wanted():
        return _python()
    print(f"making {VENV.name} (anonlink, clkhash) ...", file=sys.stderr, flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    proc = _pip_install()
    if proc.returncode != 0 and shutil.which("g++") is None and os.geteuid() == 0:
        # Only an sdist build of anonlink's extension gets here.
        subprocess.run(["apt-get", "install", "-y", "g++"], check=True)
        proc = _pip_install()
    if proc.returncode != 0:
        raise RuntimeError(f"installing the oracles failed:\n{proc.stdout}\n{proc.stderr}")
    check = subprocess.run(
        [str(_python()), "-c", "import anonlink, clkhash; print(anonlink.__version__)"],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise RuntimeError(f"the oracles do not import:\n{check.stderr}")
    STAMP.write_text(_wanted() + "\n")
    return _python()


def run_oracle(script: str, *args: str, timeout: float = 3600) -> dict[str, Any]:
    """Run ``script`` (Python source) in the oracle venv; return its last stdout line as JSON."""
    proc = subprocess.run(
        [str(oracle_python()), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        # The oracles must not see the project's venv or package on their path.
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"oracle script failed:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
