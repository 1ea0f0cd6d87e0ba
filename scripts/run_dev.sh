#!/usr/bin/env bash
# `make run`'s processes: the mail sink (unless MAIL_SERVER is set), the job runner and the web
# server, stopped together (Ctrl-C or SIGTERM).
set -uo pipefail
PORT=${1:-5000}
SINK_PORT=${2:-1025}
VENV=${VENV:-.venv}
# config.py reads these: links in e-mails, calendars and certificates point at this server
# (BASE_URL follows PORT unless set) and mail goes to this sink (MAIL_PORT follows MAIL_SINK_PORT).
export PORT MAIL_SINK_PORT="$SINK_PORT"
if [ -z "${BASE_URL:-}" ] && ! grep -qs '^BASE_URL=' .env; then
  export BASE_URL="http://127.0.0.1:$PORT"
fi
echo "Links in e-mails point at ${BASE_URL:-the BASE_URL in .env}."
pids=()
stop() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
  wait
}
trap stop EXIT INT TERM
if [ -z "${MAIL_SERVER:-}" ]; then
  echo "Mail goes to a local sink; messages are printed here and listed at /admin/outbox."
  "$VENV/bin/python" scripts/mail_sink.py "$SINK_PORT" &
  pids+=($!)
  export MAIL_SERVER=127.0.0.1 MAIL_PORT="$SINK_PORT"
fi
"$VENV/bin/flask" jobs work &
pids+=($!)
"$VENV/bin/flask" run --host 127.0.0.1 --port "$PORT" --with-threads &
pids+=($!)
# Wait in the background, so a signal to this script stops everything at once; when any of the
# three ends, the others are stopped too.
wait -n
