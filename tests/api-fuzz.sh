#!/usr/bin/env bash
# Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis): every
# operation gets generated valid and invalid requests; any 5xx, any response that does not
# match the documented status codes, content types, headers and schemas fails the run.
#
#   tests/api-fuzz.sh [MAX_EXAMPLES [SCHEMATHESIS_OPTION...]]
#
# MAX_EXAMPLES: per operation, default 30; CI passes a bounded count. Any further arguments
# go to every schemathesis run after this script's own (bench/fuzz.sh passes its own on).
# At the end it prints what the server itself counted (its /metrics):
#   api-fuzz: N requests served, N with a 5xx status, N panics in the server log
#
# The database is a fresh SQLite file, or a fresh PostgreSQL database when TEST_DATABASE_URL
# names one (as in CI), served on loopback with an admin key (tests/server.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${1:-30}
extra=("${@:2}")
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q schemathesis==4.32.5
fi
source tests/server.sh
# The demo data: 200 real UCDP events and the Kabul report.
start_server fuzz --demo

# positive_data_acceptance is left out everywhere: a request can match the schema and still
# name an unknown country or an empty date range, which is a 400 by design. Two operations
# run apart, each with the one thing that does not apply to it:
# - an import body is a dataset file, so any bytes are a well-formed request; its reader,
#   not the schema, reports what is wrong line by line (no negative_data_rejection);
# - for POST /v1/incidents, schemathesis 4.32.5's coverage phase drops `external_id` as if it
#   were required (the schema does not require it), so that phase is left out there.
# One worker: on CPython 3.11 hypothesis' lambda descriptions call ast.parse from several
# threads at once, which fails with "AST constructor recursion depth mismatch".
export SCHEMATHESIS_HOOKS=tests.fuzz_hooks
fuzz() {
  "$venv/bin/schemathesis" run "$base/openapi.json" \
    --max-examples "$examples" --seed 20261124 --workers 1 \
    --header "Authorization: Bearer $token" --no-color "$@" "${extra[@]}"
}
# - the stateful phase chains operations by their links; its negative requests can lose what
#   made them invalid on the way to the wire (an integer where the schema wants a string is the
#   same query text), so it runs apart, without negative_data_rejection.
create="POST /v1/incidents"
status=0
fuzz --checks all --exclude-checks positive_data_acceptance --phases examples,coverage,fuzzing \
  --exclude-path /v1/imports --exclude-name "$create" || status=$?
fuzz --checks all --exclude-checks positive_data_acceptance,negative_data_rejection \
  --phases stateful --exclude-path /v1/imports || status=$?
fuzz --checks all --exclude-checks positive_data_acceptance \
  --include-name "$create" --phases examples,fuzzing || status=$?
fuzz --checks all --exclude-checks positive_data_acceptance,negative_data_rejection \
  --include-path /v1/imports || status=$?

# What the server saw, by its own count: every phase's and every check's requests.
if metrics=$(curl -sf -H "Authorization: Bearer $token" "$base/metrics"); then
  awk -v panics="$(grep -c panicked "$work/server.log" || true)" '
    /^incidentdb_http_requests_total\{/ { n += $NF; if ($0 ~ /status="5/) e += $NF }
    END {
      printf "api-fuzz: %d requests served, %d with a 5xx status, %d panics in the server log\n",
        n, e, panics
    }' <<< "$metrics"
else
  echo "api-fuzz: the server no longer answers /metrics"
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)"
  tail -40 "$work/server.log"
fi
exit "$status"
