#!/usr/bin/env bash
# Create .venv and install sectorlink with its pinned dependencies; install the few
# system packages the project needs when they are missing. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

need_apt=()
# libgomp1: OpenMP runtime used by compiled numerical kernels (numba threading layer, LightGBM).
dpkg -s libgomp1 >/dev/null 2>&1 || need_apt+=(libgomp1)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing system packages: ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "Please install these system packages: ${need_apt[*]}" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "sectorlink installed in .venv"
