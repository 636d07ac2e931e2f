#!/usr/bin/env bash
# Import benchmark: the NDJSON benchmark dataset (../shared/bench/gen_incidents.py) imported
# with the release CLI into a fresh SQLite file and a fresh PostgreSQL database; prints rows/s
# and the peak RSS of the importer. A benchmark, not a test: figures go into issue notes.
#
#   bench/import.sh [N]        # N incidents, default 1000000
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-1000000}
pg_base=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
data=bench/data/incidents-$n.ndjson
mkdir -p bench/data
if [ ! -s "$data" ]; then
  echo "generating $data"
  python3 ../shared/bench/gen_incidents.py --n "$n" --seed 7 > "$data"
fi
cargo build --release -q
bin=target/release/incidentdb

run() {
  local label=$1 url=$2
  local log
  log=$(mktemp)
  local start end
  start=$(date +%s.%N)
  DATABASE_URL=$url /usr/bin/time -v "$bin" import --format ndjson --dataset bench "$data" \
    > "$log.report" 2> "$log"
  end=$(date +%s.%N)
  local inserted rss
  inserted=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["inserted"])' "$log.report")
  rss=$(awk '/Maximum resident set size/ {print $6}' "$log")
  python3 - "$label" "$inserted" "$start" "$end" "$rss" <<'PY'
import sys
label, inserted, start, end, rss = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
secs = end - start
print(f"{label:10} {inserted:>9} rows  {secs:8.1f} s  {inserted / secs:9.0f} rows/s  peak RSS {rss / 1024:7.1f} MB")
PY
  rm -f "$log" "$log.report"
}

sqlite_file=bench/data/bench-import.db
rm -f "$sqlite_file" "$sqlite_file-wal" "$sqlite_file-shm"
run sqlite "sqlite://$sqlite_file"

db=incidentdb_bench_import
psql "$pg_base/postgres" -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
run postgres "$pg_base/$db"
psql "$pg_base/postgres" -q -c "DROP DATABASE IF EXISTS $db"
