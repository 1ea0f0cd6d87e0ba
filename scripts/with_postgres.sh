#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 it starts and stops itself.
# The command sees TEST_DATABASE_URL (and DATABASE_URL) pointing at an empty database.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
DATA=$(mktemp -d /tmp/training-pg.XXXXXX)
PORT=${PGPORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
chown postgres "$DATA" 2>/dev/null || true
chmod 700 "$DATA"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT
as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
as_postgres "$BIN/pg_ctl" -D "$DATA" -w -l "$DATA/server.log" \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
as_postgres "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres training_test
export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/training_test"
export DATABASE_URL="$TEST_DATABASE_URL"
# For the fault tests that restart the server.
export TEST_PG_DATA="$DATA" TEST_PG_BIN="$BIN"
echo "PostgreSQL on port $PORT"
"$@"
