#!/usr/bin/env bash
# Read replicas against a real PostgreSQL streaming replica. Starts a primary cluster of its
# own (initdb) and a hot standby of it (pg_basebackup -R), each on its own loopback port and
# data directory under a temporary directory; serves the debug build with DATABASE_URL on the
# primary and DATABASE_READ_URL on the replica; then checks with curl that
#   - reads are answered by the replica (with its replay paused, a new incident is missing
#     from the list but GET of it answers 200 from the primary),
#   - with the replica stopped every read still answers 200, through the primary, and the
#     fallback counter of /metrics grows; /readyz reports the replica down; it comes back,
#   - with the primary stopped /readyz answers 503 naming each pool, and in read-only mode
#     (INCIDENTDB_READ_ONLY) reads, key checks included, go on from the replica while every
#     write answers 503.
# Exits non-zero on any failed check; stops everything it started, by PID, on exit.
#
#   tests/replica.sh        # as root (the clusters run as the postgres user) or as postgres
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)}
if [ ! -x "$pg_bin/initdb" ]; then
  echo "no PostgreSQL server binaries (initdb) in '$pg_bin'; set PG_BIN" >&2
  exit 2
fi
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cargo build -q --bin incidentdb
bin=${CARGO_TARGET_DIR:-target}/debug/incidentdb

work=$(mktemp -d)
chmod 755 "$work"
mkdir "$work/pg"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work/pg"; fi
server_pid=

# Stops the cluster in $1 by the PID of its postmaster (fast shutdown), if it runs.
stop_cluster() {
  local pid_file=$1/postmaster.pid pid
  [ -f "$pid_file" ] || return 0
  pid=$(head -n 1 "$pid_file")
  kill -INT "$pid" 2> /dev/null || return 0
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2> /dev/null || return 0
    sleep 0.1
  done
  echo "the cluster in $1 (PID $pid) did not stop" >&2
  return 1
}
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
    server_pid=
  fi
}
cleanup() {
  stop_server
  stop_cluster "$work/pg/replica"
  stop_cluster "$work/pg/primary"
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

primary_port=$(free_port)
replica_port=$(free_port)
as_postgres "$pg_bin/initdb" -D "$work/pg/primary" -U postgres -A trust -E UTF8 --no-sync > /dev/null
# fsync off: a throw-away cluster; wal_level replica and wal senders are initdb's defaults.
printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nfsync = off\n" \
  "$primary_port" "$work/pg" | as_postgres tee -a "$work/pg/primary/postgresql.conf" > /dev/null
as_postgres "$pg_bin/pg_ctl" -D "$work/pg/primary" -l "$work/pg/primary.log" -w start > /dev/null
psql_on() { "$pg_bin/psql" -h 127.0.0.1 -p "$1" -U postgres -At -v ON_ERROR_STOP=1 -c "$2" "${3:-postgres}"; }
psql_on "$primary_port" "CREATE DATABASE incidentdb" > /dev/null

as_postgres "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
  -D "$work/pg/replica" -R -X stream --checkpoint=fast --no-sync
printf "port = %s\n" "$replica_port" | as_postgres tee -a "$work/pg/replica/postgresql.conf" > /dev/null
start_replica() {
  as_postgres "$pg_bin/pg_ctl" -D "$work/pg/replica" -l "$work/pg/replica.log" -w start > /dev/null
}
start_replica

primary_url=postgres://postgres@127.0.0.1:$primary_port/incidentdb
replica_url=postgres://postgres@127.0.0.1:$replica_port/incidentdb
token=$(DATABASE_URL=$primary_url "$bin" keys create --name replica-check --role editor)
app_port=$(free_port)
base=http://127.0.0.1:$app_port

# Serves the API on the primary and the replica, with any extra VAR=value settings given.
start_server() {
  env DATABASE_URL="$primary_url" DATABASE_READ_URL="$replica_url" BIND="127.0.0.1:$app_port" \
    INCIDENTDB_RATE_LIMIT=0 RUST_LOG=warn "$@" "$bin" serve >> "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "$base/healthz" && return 0
    sleep 0.1
  done
  echo "the service did not start" >&2
  tail -20 "$work/server.log" >&2
  exit 1
}

failures=0
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
  else
    echo "FAIL $what"
    failures=$((failures + 1))
  fi
}
# Waits (at most 30 s) until "$@" holds.
eventually() {
  for _ in $(seq 1 300); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}
status_is() { [ "$(curl -s -o /dev/null -w '%{http_code}' "${@:3}" "$base$2")" = "$1" ]; }
body_has() { curl -s "${@:3}" "$base$2" | grep -q -- "$1"; }
fallbacks() { curl -s "$base/metrics" | awk '$1 == "incidentdb_replica_fallbacks_total" { print $2 }'; }
auth=(-H "Authorization: Bearer $token")
reads=(
  "/v1/incidents?count=true"
  "/v1/incidents?format=csv"
  "/v1/incidents?format=ndjson"
  "/v1/stats?group_by=country,year"
  "/v1/regions"
  "/v1/incidents/deleted"
)
every_read_answers_200() {
  local path
  for path in "${reads[@]}"; do status_is 200 "$path" || return 1; done
}
# POSTs an incident on day $1 of November 2020; prints its Location.
post_incident() {
  curl -s -D - -o /dev/null -X POST "$base/v1/incidents" "${auth[@]}" \
    -H 'Content-Type: application/json' \
    -d "{\"occurred_on\": \"2020-11-$1\", \"location\": {\"country_code\": \"AF\"}}" |
    tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }'
}
replica_streams() {
  [ "$(psql_on "$primary_port" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ]
}
replica_has_key() { [ "$(psql_on "$replica_port" "SELECT count(*) FROM api_keys" incidentdb 2> /dev/null)" = 1 ]; }

echo "== primary on port $primary_port, replica on $replica_port, service on $app_port"
check "the replica streams from the primary" eventually replica_streams
check "the replica has the migrated schema and the key" eventually replica_has_key
start_server

echo "== reads from the replica"
psql_on "$replica_port" "SELECT pg_wal_replay_pause()" > /dev/null
replay_paused() { [ "$(psql_on "$replica_port" "SELECT pg_get_wal_replay_pause_state()")" = paused ]; }
check "the replica's replay is paused" eventually replay_paused
location=$(post_incident 21)
check "POST answers 201 with a Location ($location)" test -n "$location"
check "GET of the new incident answers 200 (from the primary)" status_is 200 "$location"
check "the list does not have it yet: the paused replica answered" \
  body_has '"data":\[\],"next_cursor":null,"total":0' "/v1/incidents?count=true"
check "every read answers 200" every_read_answers_200
check "no read fell back to the primary" test "$(fallbacks)" = 0
echo "     replica sessions of the service: $(psql_on "$replica_port" \
  "SELECT count(*) FROM pg_stat_activity WHERE datname = 'incidentdb' AND backend_type = 'client backend'")"
psql_on "$replica_port" "SELECT pg_wal_replay_resume()" > /dev/null
check "once replayed, the list has it" eventually body_has '"total":1' "/v1/incidents?count=true"

echo "== the replica stopped"
stop_cluster "$work/pg/replica"
before=$(fallbacks)
check "every read answers 200 (from the primary)" every_read_answers_200
check "the fallback counter grew (from $before to $(fallbacks))" test "$(fallbacks)" -gt "$before"
location=$(post_incident 22)
check "POST then GET of it answers 200" status_is 200 "$location"
check "the list has both incidents" body_has '"total":2' "/v1/incidents?count=true"
check "/readyz answers 200 and reports the replica down" \
  body_has '"name":"replica 1","ready":false' /readyz
start_replica
check "/readyz reports the replica back" eventually body_has '"name":"replica 1","ready":true' /readyz
before=$(fallbacks)
check "every read answers 200" every_read_answers_200
check "no read fell back any more" test "$(fallbacks)" = "$before"

echo "== the primary stopped"
stop_cluster "$work/pg/primary"
# One request: each waits out the primary's 10 s connection timeout.
curl -s -o "$work/readyz.json" -w '%{http_code} %{content_type}' "$base/readyz" > "$work/readyz.status"
check "/readyz answers 503 as a problem ($(cat "$work/readyz.status"))" \
  grep -qx '503 application/problem+json' "$work/readyz.status"
check "... naming each pool" \
  grep -q '"name":"primary","ready":false.*"name":"replica 1","ready":true' "$work/readyz.json"
check "anonymous reads answer 200 from the replica" every_read_answers_200
as_postgres "$pg_bin/pg_ctl" -D "$work/pg/primary" -l "$work/pg/primary.log" -w start > /dev/null

echo "== read-only mode, then the primary stopped for maintenance"
stop_server
start_server INCIDENTDB_READ_ONLY=true
stop_cluster "$work/pg/primary"
check "/readyz answers 200" status_is 200 /readyz
check "every read answers 200" every_read_answers_200
check "GET of an incident with a key answers 200 (key check on the replica)" \
  status_is 200 "$location" "${auth[@]}"
check "POST answers 503" status_is 503 /v1/incidents -X POST "${auth[@]}" \
  -H 'Content-Type: application/json' -d '{}'
check "... saying why" body_has 'read-only-mode' /v1/incidents -X POST "${auth[@]}" -d '{}'
check "DELETE answers 503" status_is 503 "$location" -X DELETE "${auth[@]}"

if [ "$failures" -ne 0 ]; then
  echo "$failures checks failed; the service's log:"
  tail -40 "$work/server.log"
  exit 1
fi
echo "all checks passed"
