#!/usr/bin/env bash
# Create .venv and install sectorlink with its pinned dependencies; install the few
# system packages the project needs when they are missing. Safe to run again.
#
#   bash scripts/setup.sh           # .[dev]: what `make demo` needs
#   bash scripts/setup.sh --spark   # also the spark extra, Java 17 and chromium (what `make test` needs)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
spark=0
for arg in "$@"; do
  case "$arg" in
    --spark) spark=1 ;;
    *) echo "setup.sh: unknown option $arg (expected --spark)" >&2; exit 2 ;;
  esac
done

need_apt=()
# libgomp1: OpenMP runtime used by compiled numerical kernels (numba threading layer, LightGBM).
dpkg -s libgomp1 >/dev/null 2>&1 || need_apt+=(libgomp1)
# chromium: the browser tests drive Debian's build with Playwright (`playwright install`
# cannot download one here); only the test set-up (--spark) needs it.
if [ "$spark" = 1 ] && ! command -v chromium >/dev/null; then need_apt+=(chromium); fi
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
if [ "$spark" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[dev,spark]'
  # PySpark needs a Java runtime. In CI a missing Java is an error (the Spark test must
  # run there); on a laptop without root the Spark test skips and says why.
  if ! bash scripts/install-java.sh; then
    if [ "${CI:-}" = true ]; then
      echo "setup.sh: Java could not be installed, and CI needs it for the Spark test" >&2
      exit 1
    fi
    echo "setup.sh: without Java the Spark test will be skipped" >&2
  fi
  echo "sectorlink installed in .venv, with the spark extra"
else
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "sectorlink installed in .venv"
fi
