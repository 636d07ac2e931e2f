#!/usr/bin/env bash
# Export memory: streams every incident of the benchmark database as CSV, NDJSON and GeoJSON
# and samples the server's resident memory while it does, to show it stays flat. Needs the
# databases bench/run.sh leaves (bench/data/bench-$N.db, PostgreSQL incidentdb_bench).
#
#   bench/export.sh                    # N=1000000, BACKENDS="sqlite postgres", FORMATS="csv ndjson geojson"
set -euo pipefail
cd "$(dirname "$0")/.."

n=${N:-1000000}
backends=${BACKENDS:-sqlite postgres}
formats=${FORMATS:-csv ndjson geojson}
pg_base=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
cargo build --release -q
work=$(mktemp -d)
cp target/release/incidentdb "$work/incidentdb"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Anonymous resident memory: what the server itself holds. (SQLite's mmap'd database pages are
# file-backed; they count in VmRSS as the export touches them, and the kernel drops them first.)
rss_kb() { awk '/^RssAnon/ {print $2}' "/proc/$1/status"; }

for backend in $backends; do
  case $backend in
    sqlite) url=sqlite://bench/data/bench-$n.db ;;
    postgres) url=$pg_base/incidentdb_bench ;;
  esac
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  DATABASE_URL=$url BIND=127.0.0.1:$port INCIDENTDB_RATE_LIMIT=0 RUST_LOG=warn "$work/incidentdb" serve > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  echo "== $backend ($n incidents)"
  for format in $formats; do
    before=$(rss_kb "$server_pid")
    start=$(date +%s.%N)
    curl -sf "http://127.0.0.1:$port/v1/incidents?format=$format" -o "$work/export.$format" &
    curl_pid=$!
    peak=$before
    samples=()
    while kill -0 "$curl_pid" 2> /dev/null; do
      now=$(rss_kb "$server_pid")
      samples+=("$now")
      [ "$now" -gt "$peak" ] && peak=$now
      sleep 1
    done
    wait "$curl_pid"
    end=$(date +%s.%N)
    size=$(stat -c %s "$work/export.$format")
    lines=$(wc -l < "$work/export.$format")
    python3 - "$format" "$start" "$end" "$size" "$lines" "$before" "$peak" "${samples[@]}" << 'PY'
import sys
fmt, start, end, size, lines, before, peak = sys.argv[1:8]
samples = [int(s) for s in sys.argv[8:]]
secs = float(end) - float(start)
mid = samples[len(samples) // 2] if samples else int(before)
print(f"  {fmt:8} {int(size) / 1e6:8.1f} MB, {int(lines):>8} lines in {secs:6.1f} s; server anonymous RSS "
      f"before {int(before) / 1024:.1f} MB, half-way {mid / 1024:.1f} MB, peak {int(peak) / 1024:.1f} MB "
      f"({len(samples)} samples)")
PY
    rm -f "$work/export.$format"
  done
  kill "$server_pid"
  wait "$server_pid" 2> /dev/null || true
  server_pid=
done
