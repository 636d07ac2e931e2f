#!/usr/bin/env bash
# Long API fuzzing: tests/api-fuzz.sh (schemathesis from the OpenAPI document, the CI fuzz
# step's setup and checks) with many more examples per operation, on SQLite then PostgreSQL.
# Not for CI: a soak of the API's input handling. Prints, per backend, the requests the server
# counted (its /metrics: every phase's and check's requests), how many had a 5xx status, the
# panics in the server log, the elapsed time and the outcome (schemathesis' verdict, or a
# timeout); exits non-zero when any backend failed, timed out or answered a 5xx. Each
# backend's full output, with schemathesis' reproduction curl for any failure, is kept in
# target/bench-fuzz/BACKEND.log.
#
#   bench/fuzz.sh                          # 2600 examples per operation, both backends
#   EXAMPLES=300 BACKENDS=sqlite bench/fuzz.sh --seed 1    # further arguments go to schemathesis
#
# Environment: EXAMPLES (per operation, default 2600: over 20,000 requests per backend, about
# 15 minutes each, 30 in all, on the 2-core machine with the debug server); BACKENDS (default
# "sqlite postgres"); LIMIT (seconds per backend before it is stopped, default 1800); PG_URL
# (server, no database; default postgres://postgres:postgres@127.0.0.1:5432; the database is a
# fresh one that tests/api-fuzz.sh creates and drops).
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${EXAMPLES:-2600}
backends=${BACKENDS:-sqlite postgres}
limit=${LIMIT:-1800}
pg_base=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
logs=target/bench-fuzz
mkdir -p "$logs"

failed=0
summary=()
for backend in $backends; do
  case $backend in
    sqlite) db_env=(env -u TEST_DATABASE_URL) ;;
    postgres) db_env=(env TEST_DATABASE_URL="$pg_base/postgres") ;;
    *) echo "unknown backend $backend (sqlite, postgres)" >&2; exit 2 ;;
  esac
  log=$logs/$backend.log
  echo "== $backend: $examples examples per operation, at most ${limit}s (log: $log)"
  start=$(date +%s)
  rc=0
  "${db_env[@]}" timeout "$limit" tests/api-fuzz.sh "$examples" "$@" > "$log" 2>&1 || rc=$?
  secs=$(($(date +%s) - start))
  counted=$(grep '^api-fuzz: ' "$log" | tail -n 1 || true)
  counted=${counted:-api-fuzz: no count from the server}
  fives=$(sed -n 's/.*, \([0-9]*\) with a 5xx status.*/\1/p' <<< "$counted")
  case $rc in
    0) outcome=passed ;;
    124) outcome="timed out after ${limit}s" ;;
    *) outcome="failed (exit $rc)" ;;
  esac
  if [ "$rc" -ne 0 ] || [ "${fives:-1}" != 0 ]; then failed=1; fi
  grep -E '^ *[0-9]+ generated' "$log" | sed 's/^ */   schemathesis: /' || true
  line="$backend: ${counted#api-fuzz: }; ${secs}s; $outcome"
  echo "$line"
  summary+=("$line")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
