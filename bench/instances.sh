#!/usr/bin/env bash
# Several instances: two release servers on one database behind nginx on loopback, read at c32
# with wrk for DURATION while one instance is restarted in the middle (SIGTERM: actix's graceful
# shutdown finishes the requests in flight; nginx sends new ones to the other instance), then
# one instance alone for comparison. Prints wrk's figures, the failed requests (wrk's socket
# errors and non-2xx answers, and the 5xx statuses in nginx's access log; target 0) and
# the throughput of two instances against one. A benchmark, not a test: figures go into notes.
#
#   bench/instances.sh                  # PostgreSQL database incidentdb_instances, N incidents
#   DATABASE_URL=sqlite:///tmp/x.db bench/instances.sh
#
# Environment: N (incidents imported when the database is empty, default 100000); DURATION
# (seconds of the two-instance run, default 60; the restart comes at a third of it, and one
# instance alone runs half as long); PG_URL (server, no database; default
# postgres://postgres:postgres@127.0.0.1:5432); DATABASE_URL (overrides the PostgreSQL
# database); REQUEST (default question (a) of bench/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

n=${N:-100000}
duration=${DURATION:-60}
pg_base=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
request=${REQUEST:-/v1/incidents?country=AF&from=2020-11-01&to=2020-11-30&limit=100&sort=-occurred_on}
data=bench/data/incidents-$n.ndjson

die() {
  echo "bench/instances.sh: $*" >&2
  exit 1
}
for tool in wrk nginx curl python3 cargo; do
  command -v "$tool" > /dev/null || die "needs $tool (Debian: apt-get install wrk nginx)"
done
[[ $duration =~ ^[1-9][0-9]*$ ]] || die "DURATION must be whole seconds, got '$duration'"

tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cargo build --release -q
bin=$tmp/incidentdb
cp target/release/incidentdb "$bin"

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$pg_base/incidentdb_instances
  psql "$pg_base/postgres" -qAt -c "SELECT 1 FROM pg_database WHERE datname = 'incidentdb_instances'" \
    | grep -q 1 || psql "$pg_base/postgres" -q -c "CREATE DATABASE incidentdb_instances"
fi
export DATABASE_URL
stored=$("$bin" export --format ndjson --limit 1 2> /dev/null | wc -l || echo 0)
if [ "$stored" -eq 0 ]; then
  mkdir -p bench/data
  [ -s "$data" ] || python3 ../shared/bench/gen_incidents.py --n "$n" --seed 7 > "$data"
  echo "importing $n incidents"
  "$bin" import --format ndjson --dataset bench "$data" > /dev/null
fi

# start_instance INDEX PORT: serves on PORT, waits for /readyz; sets pid_INDEX.
start_instance() {
  local index=$1 port=$2
  BIND=127.0.0.1:$port INCIDENTDB_RATE_LIMIT=0 RUST_LOG=warn "$bin" serve \
    >> "$tmp/instance-$index.log" 2>&1 &
  printf -v "pid_$index" %s $!
  pids+=($!)
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && return 0
    sleep 0.1
  done
  die "instance $index did not become ready (see its log)"
}

port_1=$(free_port)
port_2=$(free_port)
port_nginx=$(free_port)
start_instance 1 "$port_1"
start_instance 2 "$port_2"

# Idempotent reads that fail on one instance (connection refused or closed while it restarts)
# are retried on the other; a restarting instance is skipped for a second.
cat > "$tmp/nginx.conf" << EOF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log $tmp/access.log;
  upstream incidentdb {
    server 127.0.0.1:$port_1 max_fails=1 fail_timeout=1s;
    server 127.0.0.1:$port_2 max_fails=1 fail_timeout=1s;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$port_nginx;
    location / {
      proxy_pass http://incidentdb;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
    }
  }
}
EOF
nginx -c "$tmp/nginx.conf" -p "$tmp" -e "$tmp/nginx-error.log"

url=http://127.0.0.1:$port_nginx$request
curl -sf -o /dev/null "$url" || die "nginx does not answer $url"

echo "two instances behind nginx, c32 for ${duration}s; instance 1 restarted at $((duration / 3))s"
wrk -t2 -c32 -d"${duration}s" --latency "$url" > "$tmp/wrk-two.txt" &
wrk_pid=$!
sleep $((duration / 3))
restart_start=$(date +%s.%N)
kill -TERM "$pid_1"
wait "$pid_1" 2> /dev/null || true
start_instance 1 "$port_1"
restart_end=$(date +%s.%N)
wait "$wrk_pid"
python3 -c "import sys; print(f'instance 1 stopped and ready again in {float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" \
  "$restart_start" "$restart_end"

echo "one instance alone (no nginx), c32 for $((duration / 2))s"
wrk -t2 -c32 -d"$((duration / 2))s" --latency "http://127.0.0.1:$port_2$request" > "$tmp/wrk-one.txt"

python3 - "$tmp/wrk-two.txt" "$tmp/wrk-one.txt" "$tmp/access.log" << 'PY'
import collections, re, sys
def wrk(path):
    text = open(path).read()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket = sum(map(int, errors.groups())) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    p99 = re.search(r"99%\s+([\d.]+\w+)", text).group(1)
    return rate, total, socket, int(non2xx.group(1)) if non2xx else 0, p99
two, one = wrk(sys.argv[1]), wrk(sys.argv[2])
statuses = collections.Counter(line.split('"')[2].split()[0] for line in open(sys.argv[3]) if '"' in line)
print(f"two instances + nginx: {two[0]:.1f} req/s, {two[1]} requests, p99 {two[4]}, "
      f"socket errors {two[2]}, non-2xx {two[3]}")
print(f"nginx statuses: {dict(statuses)}")
print(f"one instance alone:    {one[0]:.1f} req/s, p99 {one[4]}")
print(f"two / one: {two[0] / one[0]:.2f}")
# 499: wrk closing its connections with requests in flight when the run ends, not an answer.
failed = two[2] + two[3] + sum(n for s, n in statuses.items() if s.startswith("5"))
print(f"failed requests: {failed} (wrk's socket errors and non-2xx, nginx's 5xx)")
PY
