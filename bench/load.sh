#!/usr/bin/env bash
# Load under writes: wrk reads at c32 for DURATION (default 60 s) while a bulk import of
# IMPORT_ROWS fresh incidents runs into the same database; then checks that no request failed
# and that every imported row is there. SQLite and PostgreSQL. A benchmark, not a test.
#
#   bench/load.sh                     # BACKENDS="sqlite postgres" DURATION=60s IMPORT_ROWS=200000
set -euo pipefail
cd "$(dirname "$0")/.."

backends=${BACKENDS:-sqlite postgres}
duration=${DURATION:-60s}
rows=${IMPORT_ROWS:-200000}
base_rows=100000
pg_base=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
pg_db=incidentdb_load
source_file=bench/data/incidents-1000000.ndjson

mkdir -p bench/data
if [ ! -s "$source_file" ]; then
  python3 ../shared/bench/gen_incidents.py --n 1000000 --seed 7 > "$source_file"
fi
cargo build --release -q
work=$(mktemp -d)
bin=$work/incidentdb
cp target/release/incidentdb "$bin"
head -n "$base_rows" "$source_file" > "$work/base.ndjson"
# Lines the base does not hold, as a dataset of their own.
sed -n "$((base_rows + 1)),$((base_rows + rows))p" "$source_file" > "$work/more.ndjson"

server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; fi
  psql "$pg_base/postgres" -q -c "DROP DATABASE IF EXISTS $pg_db" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

for backend in $backends; do
  case $backend in
    sqlite) url=sqlite://$work/load.db ;;
    postgres)
      psql "$pg_base/postgres" -q -c "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db"
      url=$pg_base/$pg_db
      ;;
  esac
  echo "== $backend: $base_rows incidents to read, $rows more imported during $duration of reads"
  DATABASE_URL=$url "$bin" import --format ndjson --dataset base "$work/base.ndjson" > /dev/null 2>&1
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  DATABASE_URL=$url BIND=127.0.0.1:$port INCIDENTDB_RATE_LIMIT=0 RUST_LOG=warn "$bin" serve > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  read_url="http://127.0.0.1:$port/v1/incidents?country=AF&from=2020-01&to=2020-12&limit=100"
  wrk --latency -t2 -c32 -d"$duration" --timeout 10s "$read_url" > "$work/wrk.txt" &
  wrk_pid=$!
  sleep 2
  start=$(date +%s.%N)
  DATABASE_URL=$url "$bin" import --format ndjson --dataset load --on-error skip "$work/more.ndjson" \
    > "$work/import.json" 2> /dev/null
  end=$(date +%s.%N)
  wait "$wrk_pid"
  stored=$(curl -sf "http://127.0.0.1:$port/v1/incidents?dataset=load&count=true&limit=1" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])')
  kill "$server_pid"
  wait "$server_pid" 2> /dev/null || true
  server_pid=
  python3 - "$work/wrk.txt" "$work/import.json" "$start" "$end" "$rows" "$stored" << 'PY'
import json, re, sys
wrk = open(sys.argv[1]).read()
report = json.load(open(sys.argv[2]))
secs = float(sys.argv[4]) - float(sys.argv[3])
rows, stored = int(sys.argv[5]), int(sys.argv[6])
rate = re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1)
total = re.search(r"(\d+) requests in", wrk).group(1)
lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", wrk, re.M))
errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", wrk))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
errors += int(non2xx.group(1)) if non2xx else 0
print(f"  reads: {total} requests, {rate} req/s, p50 {lat.get('50')}, p99 {lat.get('99')}, errors {errors}")
print(f"  import: {report['inserted']} inserted in {secs:.1f} s ({report['inserted'] / secs:.0f} rows/s), "
      f"{len(report['errors'])} bad rows; stored afterwards: {stored} of {rows}")
ok = errors == 0 and report["inserted"] == rows and stored == rows
print("  OK" if ok else "  FAILED")
sys.exit(0 if ok else 1)
PY
done
