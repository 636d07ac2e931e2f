#!/usr/bin/env bash
# HTTP benchmark: the five questions of ../shared/bench/README.md asked of the release server
# over loopback with wrk (2 threads, 32 connections; then 1 thread, 1 connection), on SQLite
# and on PostgreSQL holding the NDJSON benchmark dataset. Prints, per backend, req/s, p50, p90,
# p99 and errors per question, the server's peak RSS, and the bare floor (bench/floor.rs: the
# same queries through our own storage code, no HTTP, 2 threads) with ours/floor at c32; and,
# where nginx is installed, the transport alone: nginx serving each answer's exact bytes as a
# static file to the same wrk, which is what loopback TCP and wrk cost on this machine with no
# database work at all. The ceiling 1 / (1/floor + 1/static) is what a server adding nothing
# to the floor's work and nginx's transport could reach; ours/ceiling is our HTTP efficiency.
# A benchmark, not a test: figures go into issue notes.
#
#   bench/run.sh [N]                                     # N incidents, default 1000000
#   N=100000 BACKENDS=sqlite DURATION=3s REUSE=1 bench/run.sh
#
# Environment: N; BACKENDS (default "sqlite postgres"); DURATION (wrk -d and the floor's time a
# question, default 10s); PG_URL (server, no database; default
# postgres://postgres:postgres@127.0.0.1:5432); REUSE=1 keeps a database that already holds N
# incidents instead of importing again; FLOOR_THREADS (default 2); PORT (default a free one);
# STATIC=0 skips the nginx runs;
# RUST_LOG and INCIDENTDB_* reach the server as usual. The SQLite file (bench/data/bench-N.db)
# and the PostgreSQL database incidentdb_bench are left in place for REUSE=1.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-${N:-1000000}}
backends=${BACKENDS:-sqlite postgres}
duration=${DURATION:-10s}
pg_base=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
pg_db=incidentdb_bench
reuse=${REUSE:-0}
floor_threads=${FLOOR_THREADS:-2}
static=${STATIC:-1}
data=bench/data/incidents-$n.ndjson
sqlite_file=bench/data/bench-$n.db

die() {
  echo "bench/run.sh: $*" >&2
  exit 1
}

[[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$n'"
case $duration in
  *s) seconds=${duration%s} ;;
  *m) seconds=$((${duration%m} * 60)) ;;
  *) seconds=$duration ;;
esac
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "DURATION must be like 10s or 2m, got '$duration'"
[[ $floor_threads =~ ^[1-9][0-9]*$ ]] || die "FLOOR_THREADS must be a positive integer"
for backend in $backends; do
  [[ $backend == sqlite || $backend == postgres ]] || die "unknown backend '$backend'"
done
for tool in wrk curl python3 psql cargo; do
  command -v "$tool" > /dev/null || die "needs $tool"
done

# The five questions: name and request (path and query string).
questions=(
  "a_country_month /v1/incidents?country=AF&from=2020-11-01&to=2020-11-30&limit=100&sort=-occurred_on"
  "b_year_all /v1/incidents?from=2020-01-01&to=2020-12-31&limit=100&sort=-occurred_on"
  "c_agg_year /v1/stats?group_by=country&from=2020-01-01&to=2020-12-31"
  "d_bbox /v1/incidents?bbox=68.9,34.3,69.5,34.8&limit=100&sort=-occurred_on"
  "e_region_month /v1/incidents?region=Middle%20East&from=2020-11-01&to=2020-11-30&limit=100&sort=-occurred_on"
)
region_body='{"countries": ["SY","YE","IQ","PS","IL","LB","TR","IR","SA"]}'

tmp=$(mktemp -d)
server_pid=
nginx_pid=

# Stops the process whose PID is in the variable named $1, and clears it.
stop_pid() {
  local pid=${!1}
  [ -n "$pid" ] || return 0
  kill "$pid" 2> /dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2> /dev/null; then
    echo "$1 $pid still running after 10 s; killing it" >&2
    kill -KILL "$pid" 2> /dev/null || true
  fi
  wait "$pid" 2> /dev/null || true
  printf -v "$1" '%s' ''
}

stop_server() {
  stop_pid server_pid
}

cleanup() {
  stop_server
  stop_pid nginx_pid
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The data file: someone else may still be writing it; wait for their generator to finish.
mkdir -p bench/data
waited=0
while pgrep -f "gen_incidents\.py --n $n( |$)" > /dev/null; do
  if [ "$waited" -eq 0 ]; then echo "waiting for the generator of $data to finish"; fi
  [ "$waited" -lt 3600 ] || die "the generator of $data is still running after an hour"
  sleep 5
  waited=$((waited + 5))
done
if [ ! -s "$data" ]; then
  echo "generating $data"
  python3 ../shared/bench/gen_incidents.py --n "$n" --seed 7 > "$data.partial.$$"
  mv "$data.partial.$$" "$data"
fi
lines=$(wc -l < "$data")
[ "$lines" -eq "$n" ] || die "$data has $lines lines, expected $n"

# Build once, and run copies: a rebuild in the work tree during the run changes nothing here.
echo "building"
cargo build --release -q
floor_built=$(cargo bench --bench floor --no-run -q --message-format=json \
  | python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "floor" \
            and message.get("executable"):
        print(message["executable"])')
[ -n "$floor_built" ] || die "cargo bench --no-run named no floor executable"
cp target/release/incidentdb "$tmp/incidentdb"
cp "$floor_built" "$tmp/floor"
bin=$tmp/incidentdb

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

sqlite_count() {
  [ -s "$sqlite_file" ] || {
    echo 0
    return
  }
  python3 - "$sqlite_file" << 'PY' 2> /dev/null || echo 0
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM incidents").fetchone()[0])
PY
}

pg_count() {
  psql "$pg_base/$pg_db" -qAt -c 'SELECT count(*) FROM incidents' 2> /dev/null || echo 0
}

# Imports the data file into `url` with the release CLI; fails unless every line went in.
import_into() {
  local url=$1 start end
  echo "importing $data"
  start=$(date +%s.%N)
  DATABASE_URL=$url "$bin" import --format ndjson --dataset bench "$data" > "$tmp/import.json"
  end=$(date +%s.%N)
  python3 - "$tmp/import.json" "$n" "$start" "$end" << 'PY'
import json, sys
report = json.load(open(sys.argv[1]))
n, secs = int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
print(f"imported {report['inserted']} incidents in {secs:.1f} s ({report['inserted'] / secs:.0f} rows/s)")
if report["inserted"] != n:
    sys.exit(f"expected {n} inserted: {report}")
PY
}

prepare_sqlite() {
  if [ "$reuse" = 1 ] && [ "$(sqlite_count)" -eq "$n" ]; then
    echo "reusing $sqlite_file ($n incidents)"
  else
    rm -f "$sqlite_file" "$sqlite_file-wal" "$sqlite_file-shm"
    import_into "sqlite://$sqlite_file"
  fi
}

prepare_postgres() {
  if [ "$reuse" = 1 ] && [ "$(pg_count)" -eq "$n" ]; then
    echo "reusing database $pg_db ($n incidents)"
  else
    psql "$pg_base/postgres" -q -c "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db"
    import_into "$pg_base/$pg_db"
  fi
}

# Starts the server on `url` and waits for /healthz; sets server_pid and base.
start_server() {
  local url=$1 log=$2 port
  port=${PORT:-$(free_port)}
  base=http://127.0.0.1:$port
  # The benchmark is one client at thousands of requests a second: no rate limit.
  # Its stats warm-up (a core for seconds at 1M) is waited for: it would share the runs' CPU.
  DATABASE_URL=$url BIND=127.0.0.1:$port INCIDENTDB_RATE_LIMIT=0 \
    RUST_LOG="${RUST_LOG:-warn},incidentdb::warm=info" "$bin" serve > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 6000); do
    if grep -q -e "stats warmed" -e "warming the stats" "$log" \
      && curl -sf -o /dev/null --max-time 2 "$base/healthz"; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2> /dev/null; then
      tail -20 "$log" >&2
      die "the server exited before answering /healthz"
    fi
    sleep 0.1
  done
  tail -20 "$log" >&2
  die "the server did not answer /healthz, warmed, within 600 s"
}

# One wrk run; appends `backend name conns req/s p50 p90 p99 errors` to $results.
run_wrk() {
  local backend=$1 name=$2 url=$3 threads=$4 conns=$5 out
  out=$tmp/wrk-$backend-$name-c$conns.txt
  wrk --latency -t"$threads" -c"$conns" -d"$duration" --timeout 10s "$url" > "$out"
  python3 - "$out" "$backend" "$name" "$conns" >> "$results" << 'PY'
import re, sys
text = open(sys.argv[1]).read()
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}
latency = {p: float(v) * unit[u] for p, v, u in
           re.findall(r"^\s+(50|75|90|99)\.?\d*%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)}
rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
if rate is None or not all(p in latency for p in ("50", "90", "99")):
    sys.exit("cannot read the wrk output:\n" + text)
errors = 0
socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
if socket:
    errors += sum(int(g) for g in socket.groups())
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if non2xx:
    errors += int(non2xx.group(1))
print("\t".join(sys.argv[2:5] + [rate.group(1)] + [f"{latency[p]:.2f}" for p in ("50", "90", "99")]
                + [str(errors)]))
PY
}

# The transport alone: nginx (two workers, like our two HTTP workers) serves each answer's
# bytes, saved during the runs, to wrk at c32. Appends `backend static name req/s`.
run_static() {
  local backend=$1 dir=$tmp/static-$backend conf=$tmp/nginx/nginx.conf port file name
  [ -d "$dir" ] || return 0
  port=$(free_port)
  mkdir -p "$tmp/nginx"
  # nginx's workers run as an unprivileged user: let them through to the files.
  chmod o+x "$tmp" && chmod -R o+rX "$dir"
  {
    echo "worker_processes 2; pid $tmp/nginx/nginx.pid; error_log $tmp/nginx/error.log;"
    echo "events { worker_connections 1024; }"
    echo "http { access_log off; default_type application/json;"
    for temp in client_body proxy fastcgi uwsgi scgi; do echo "${temp}_temp_path $tmp/nginx;"; done
    echo "server { listen 127.0.0.1:$port; root $dir; } }"
  } > "$conf"
  nginx -c "$conf" -g 'daemon off;' 2> "$tmp/nginx/stderr" &
  nginx_pid=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
  echo "static (nginx $nginx_pid: the same bytes, wrk $duration a question)"
  for file in "$dir"/*; do
    name=$(basename "$file")
    local served
    served=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 10 \
      "http://127.0.0.1:$port/$name") || true
    if [ "$served" != "200 $(wc -c < "$file")" ]; then
      echo "static $name: nginx answered '$served' ($(head -c 300 "$tmp/nginx/error.log"))" >&2
      continue
    fi
    wrk -t2 -c32 -d"$duration" --timeout 10s "http://127.0.0.1:$port/$name" \
      | awk -v b="$backend" -v q="$name" '/^Requests\/sec:/ {print b "\tstatic\t" q "\t" $2}' \
        >> "$results"
  done
  stop_pid nginx_pid
}

# Appends `backend name skipped reason` to $results.
skip() {
  printf '%s\t%s\tskipped\t%s\n' "$1" "$2" "$3" >> "$results"
}

results=$tmp/results.tsv
failed=0

bench_backend() {
  local backend=$1 url
  echo
  echo "== $backend"
  case $backend in
    sqlite)
      prepare_sqlite
      url=sqlite://$sqlite_file
      ;;
    postgres)
      prepare_postgres
      url=$pg_base/$pg_db
      ;;
  esac
  local token
  token=$(DATABASE_URL=$url "$bin" keys create --name "bench-$(date +%s)-$$" --role admin)
  [[ $token =~ ^[^[:space:]]+$ ]] || die "keys create printed no token: '$token'"

  start_server "$url" "$tmp/serve-$backend.log"
  echo "server $server_pid on $base"

  local region_code region_ok=1
  region_code=$(curl -s -o "$tmp/region.out" -w '%{http_code}' --max-time 30 -X PUT \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "$region_body" "$base/v1/regions/Middle%20East") || true
  if [[ $region_code != 2* ]]; then
    region_ok=0
    echo "PUT /v1/regions/Middle%20East: HTTP $region_code $(head -c 300 "$tmp/region.out")" >&2
  fi

  local entry name path check code
  for entry in "${questions[@]}"; do
    name=${entry%% *}
    path=${entry#* }
    if [ "$name" = e_region_month ] && [ "$region_ok" = 0 ]; then
      skip "$backend" "$name" "PUT /v1/regions/Middle%20East gave HTTP $region_code"
      continue
    fi
    check=$(curl -s -o "$tmp/check.out" -w '%{http_code} %{size_download}' --max-time 60 \
      "$base$path") || true
    code=${check% *}
    if [ "$code" != 200 ]; then
      echo "$name: GET $path: HTTP $code $(head -c 300 "$tmp/check.out")" >&2
      skip "$backend" "$name" "GET gave HTTP $code"
      case $name in c_* | e_*) ;; *) failed=1 ;; esac
      continue
    fi
    echo "$name"
    printf '%s\tsize\t%s\t%s\n' "$backend" "$name" "${check#* }" >> "$results"
    mkdir -p "$tmp/static-$backend"
    cp "$tmp/check.out" "$tmp/static-$backend/$name"
    run_wrk "$backend" "$name" "$base$path" 2 32
    run_wrk "$backend" "$name" "$base$path" 1 1
  done

  # Peak RSS, and the current RSS split into anonymous memory and file-backed pages (SQLite's
  # mmap of the database file counts in RSS).
  awk -v b="$backend" '/^(VmHWM|RssAnon|RssFile):/ {sub(":", "", $1); print b "\t" $1 "\t" $2}' \
    "/proc/$server_pid/status" >> "$results"
  stop_server

  if [ "$static" = 1 ] && command -v nginx > /dev/null; then
    run_static "$backend"
  fi

  echo "floor ($floor_threads threads, $seconds s a question)"
  "$tmp/floor" "$url" "$seconds" "$floor_threads" 2> "$tmp/floor-$backend.err" \
    | awk -v b="$backend" '$1 == "floor" {print b "\tfloor\t" $2 "\t" $3}' >> "$results" \
    || {
      cat "$tmp/floor-$backend.err" >&2
      die "the floor failed on $backend"
    }
}

for backend in $backends; do
  bench_backend "$backend"
done

echo
python3 - "$results" "$n" "$duration" "$seconds" "$floor_threads" << 'PY'
import sys
from collections import defaultdict

path, n, duration, seconds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
# Datasette 0.65.5 over SQLite, 1M incidents, c32 (../shared/bench/README.md).
datasette = {"a_country_month": 209, "b_year_all": 197, "c_agg_year": 27, "d_bbox": 45,
             "e_region_month": 182}
runs, skipped, memory, floor, size, static = (defaultdict(list), defaultdict(dict),
                                              defaultdict(dict), defaultdict(dict),
                                              defaultdict(dict), defaultdict(dict))
backends = []
for line in open(path):
    fields = line.rstrip("\n").split("\t")
    backend = fields[0]
    if backend not in backends:
        backends.append(backend)
    if fields[1] in ("VmHWM", "RssAnon", "RssFile"):
        memory[backend][fields[1]] = fields[2]
    elif fields[1] == "size":
        size[backend][fields[2]] = int(fields[3])
    elif fields[1] == "floor":
        floor[backend][fields[2]] = float(fields[3])
    elif fields[1] == "static":
        static[backend][fields[2]] = float(fields[3])
    elif fields[2] == "skipped":
        skipped[backend][fields[1]] = fields[3]
    else:
        runs[backend].append(fields[1:])

for backend in backends:
    mb = {k: int(memory[backend][k]) / 1024 for k in ("VmHWM", "RssAnon", "RssFile")}
    print(f"{backend}: {n} incidents, wrk {duration} a run, loopback")
    print(f"  peak server RSS {mb['VmHWM']:.1f} MB (VmHWM); after the runs "
          f"{mb['RssAnon']:.1f} MB anonymous + {mb['RssFile']:.1f} MB file-backed")
    print(f"  {'question':16} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'body KB':>8}")
    c32 = {}
    for name in datasette:
        if name in skipped[backend]:
            print(f"  {name:16} skipped ({skipped[backend][name]})")
        for q, conns, rate, p50, p90, p99, errors in runs[backend]:
            if q == name:
                body = size[backend].get(q)
                body = f"{body / 1024:8.1f}" if body is not None else f"{'-':>8}"
                print(f"  {q:16} {conns:>5} {float(rate):9.1f} {p50:>8} {p90:>8} {p99:>8} {errors:>6} {body}")
                if conns == "32":
                    c32[q] = float(rate)
    print(f"  floor (bench/floor.rs: no HTTP, {threads} threads, {seconds} s a question) and ours at c32")
    print(f"  {'question':16} {'floor q/s':>9} {'c32 req/s':>9} {'ours/floor':>10} {'x Datasette(1M)':>15}")
    for name in datasette:
        f, ours = floor[backend].get(name), c32.get(name)
        cells = [f"{f:9.1f}" if f else f"{'-':>9}", f"{ours:9.1f}" if ours else f"{'-':>9}",
                 f"{ours / f:10.0%}" if f and ours else f"{'-':>10}",
                 f"{ours / datasette[name]:14.1f}x" if ours else f"{'-':>15}"]
        print(f"  {name:16} " + " ".join(cells))
    if static[backend]:
        print("  static: nginx serving the same bytes to the same wrk (the transport alone);")
        print("  ceiling: 1 / (1/floor + 1/static), the floor's work plus that transport, nothing more")
        print(f"  {'question':16} {'static q/s':>10} {'ceiling':>9} {'c32 req/s':>9} {'ours/ceiling':>12}")
        for name in datasette:
            f, s, ours = floor[backend].get(name), static[backend].get(name), c32.get(name)
            ceiling = 1 / (1 / f + 1 / s) if f and s else None
            cells = [f"{s:10.1f}" if s else f"{'-':>10}",
                     f"{ceiling:9.1f}" if ceiling else f"{'-':>9}",
                     f"{ours:9.1f}" if ours else f"{'-':>9}",
                     f"{ours / ceiling:12.0%}" if ceiling and ours else f"{'-':>12}"]
            print(f"  {name:16} " + " ".join(cells))
    print()
PY
[ "$failed" = 0 ] || die "some of questions a, b, d did not answer 200 (see above)"
