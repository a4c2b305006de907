#!/usr/bin/env bash
# Run the test suite. Starts the local PostgreSQL the registry tests need, when it is
# installed; those tests skip with a reason when it is not.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/start-postgres.sh ]; then
  bash scripts/start-postgres.sh || echo "PostgreSQL could not be started; its tests will be skipped"
fi
exec .venv/bin/pytest -n 2 "$@"
