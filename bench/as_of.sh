#!/usr/bin/env bash
# "As of" benchmark (issue 16): question (a) asked as of a month ago, after 100,000 updates
# spread over the data. Works on a copy of the database bench/run.sh left (run it first, same
# N): the copy's incidents are dated two months back (created and last changed then), then
# 100,000 PATCHes through the API change random incidents now, so a month ago every one of
# them answers from the history. Prints wrk's req/s and latencies for (a) now and (a) as of a
# month ago, at c32 and c1, per backend.
#
#   bench/as_of.sh [N]             # default 1000000; BACKENDS, DURATION, UPDATES, PG_URL as run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-${N:-1000000}}
backends=${BACKENDS:-sqlite postgres}
duration=${DURATION:-10s}
updates=${UPDATES:-100000}
pg_base=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
source_file=bench/data/bench-$n.db
copy_file=bench/data/as-of-$n.db
pg_source=incidentdb_bench
pg_copy=incidentdb_as_of

cargo build --release -q
tmp=$(mktemp -d)
cp target/release/incidentdb "$tmp/incidentdb"
bin=$tmp/incidentdb
server_pid=
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2> /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

copy_sqlite() {
  [ -s "$source_file" ] || { echo "no $source_file: run bench/run.sh first" >&2; exit 1; }
  rm -f "$copy_file" "$copy_file-wal" "$copy_file-shm"
  python3 - "$source_file" "$copy_file" << 'PY'
import sqlite3, sys
source = sqlite3.connect(sys.argv[1])
source.execute(f"VACUUM INTO '{sys.argv[2]}'")
copy = sqlite3.connect(sys.argv[2])
copy.execute("UPDATE incidents SET created_at = datetime(created_at, '-60 days'), "
             "updated_at = datetime(updated_at, '-60 days')")
copy.commit()
PY
  echo "sqlite://$copy_file"
}

copy_postgres() {
  psql "$pg_base/postgres" -q -c "DROP DATABASE IF EXISTS $pg_copy" \
    -c "CREATE DATABASE $pg_copy TEMPLATE $pg_source" > /dev/null
  psql "$pg_base/$pg_copy" -q -c "UPDATE incidents SET created_at = created_at - interval '60 days', \
    updated_at = updated_at - interval '60 days'" -c "VACUUM ANALYZE incidents" > /dev/null
  echo "$pg_base/$pg_copy"
}

# PATCHes `updates` random incidents through the API, 4 connections.
patch_random() {
  local base=$1 token=$2
  python3 - "$base" "$token" "$updates" "$n" << 'PY'
import http.client, json, random, sys, threading, time, urllib.parse
base, token, updates, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host = urllib.parse.urlparse(base).netloc
def work(seed, count):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(host)
    for _ in range(count):
        body = json.dumps({"casualties": {"killed": {"high": rng.randint(0, 500)}}})
        conn.request("PATCH", f"/v1/incidents/{rng.randint(1, n)}", body,
                     {"Authorization": f"Bearer {token}",
                      "Content-Type": "application/merge-patch+json",
                      "X-Change-Reason": "benchmark"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"PATCH answered {response.status}")
start = time.time()
threads = [threading.Thread(target=work, args=(i, updates // 4)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(f"{updates} PATCHes in {time.time() - start:.0f} s")
PY
}

wrk_line() {
  local label=$1 url=$2 conns=$3 threads=$4
  wrk --latency -t"$threads" -c"$conns" -d"$duration" --timeout 10s "$url" \
    | awk -v l="$label c$conns" '/Requests\/sec/ {r=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
        /Non-2xx/ {e=$NF} END {printf "%-34s %10s req/s  p50 %8s  p99 %8s  non-2xx %s\n", l, r, p50, p99, e+0}'
}

for backend in $backends; do
  echo "== $backend"
  url=$(copy_"$backend")
  token=$(DATABASE_URL=$url "$bin" keys create --name "as-of-$(date +%s)" --role editor)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base=http://127.0.0.1:$port
  DATABASE_URL=$url BIND=127.0.0.1:$port INCIDENTDB_RATE_LIMIT=0 RUST_LOG=warn "$bin" serve > "$tmp/serve.log" 2>&1 &
  server_pid=$!
  until curl -sf -o /dev/null "$base/healthz"; do sleep 0.2; done
  patch_random "$base" "$token"
  month_ago=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
  question="/v1/incidents?country=AF&from=2020-11-01&to=2020-11-30&limit=100&sort=-occurred_on"
  curl -sf "$base$question&as_of=$month_ago" | python3 -c 'import json,sys; print("as_of answer:", len(json.load(sys.stdin)["data"]), "incidents")'
  for conns in 32 1; do
    threads=$((conns > 1 ? 2 : 1))
    wrk_line "a now" "$base$question" "$conns" "$threads"
    wrk_line "a as_of a month ago" "$base$question&as_of=$month_ago" "$conns" "$threads"
  done
  kill "$server_pid"
  wait "$server_pid" 2> /dev/null || true
  server_pid=
done
