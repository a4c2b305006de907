#!/usr/bin/env bash
# Start the local PostgreSQL 15 cluster and make the role and database the registry's
# tests use. Safe to run again: an already-running server, an existing role or database,
# a missing socket folder and a stale postmaster.pid left by a killed server are all fine.
# Prints the URL the tests use (tests default to it; override with
# SECTORLINK_TEST_POSTGRES_URL).
set -euo pipefail

VERSION=${PG_VERSION:-15}
CLUSTER=${PG_CLUSTER:-main}
ROLE=sectorlink
PASSWORD=sectorlink
DATABASE=sectorlink_test
DATA_DIR=/var/lib/postgresql/$VERSION/$CLUSTER

say() { echo "start-postgres: $*" >&2; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  say "PostgreSQL is not installed (no pg_ctlcluster); the postgres tests will skip"
  exit 1
fi
port=$(pg_lsclusters -h 2>/dev/null | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $3}')
if [ -z "$port" ]; then
  say "no PostgreSQL $VERSION cluster named $CLUSTER (see pg_lsclusters)"
  exit 1
fi

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    sudo -n -u postgres "$@"
  fi
}

running() { pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $4}' | grep -q online; }

if ! running; then
  if [ "$(id -u)" != 0 ]; then
    say "PostgreSQL is stopped and starting it needs root"
    exit 1
  fi
  # The socket folder lives on a tmpfs that a fresh machine may not have yet.
  install -d -m 2775 -o postgres -g postgres /var/run/postgresql
  # A server killed without shutting down leaves postmaster.pid in the data folder and
  # a socket lock file behind; if the pid in one is not a running postgres, the file is
  # stale and would stop the start ("lock file ... already exists").
  for lock in "$DATA_DIR/postmaster.pid" /var/run/postgresql/.s.PGSQL."$port".lock; do
    [ -f "$lock" ] || continue
    pid=$(head -n 1 "$lock" 2>/dev/null | tr -dc '0-9' || true)
    if [ -z "$pid" ] || ! ps -p "$pid" -o comm= 2>/dev/null | grep -q postgres; then
      say "removing stale $lock (pid ${pid:-none} is not running)"
      rm -f "$lock"
      case "$lock" in *.lock) rm -f "${lock%.lock}" ;; esac
    fi
  done
  pg_ctlcluster "$VERSION" "$CLUSTER" start || running || {
    say "pg_ctlcluster failed; last log lines:"
    tail -n 20 "/var/log/postgresql/postgresql-$VERSION-$CLUSTER.log" >&2 || true
    exit 1
  }
fi

for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || { say "PostgreSQL did not accept connections on port $port"; exit 1; }

as_postgres psql -q -v ON_ERROR_STOP=1 -p "$port" -d postgres >/dev/null <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  ELSE
    ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END
\$\$;
SQL
if ! as_postgres psql -tA -p "$port" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" | grep -q 1; then
  as_postgres createdb -p "$port" -O "$ROLE" "$DATABASE"
fi

echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE"
