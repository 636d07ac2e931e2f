#!/usr/bin/env bash
# The Python client of clients/python (`pip install ./clients/python[pandas]`) and its pytest
# tests (clients/python/tests) against the real server: create and get, a region and date
# filter against the API's total, the DataFrame of the CSV export, stats, an import of the
# UCDP sample from ../shared/datasets, a local NDJSON mirror kept in sync through a PATCH and
# a DELETE, problem+json errors, and 429s retried after Retry-After (a second server on the
# same database, limited to one request a second).
#
#   tests/pyclient.sh        # SQLite; TEST_DATABASE_URL=postgres://... for PostgreSQL
#   tests/pyclient.sh -k sync   # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/server.sh
source tests/pyvenv.sh

start_server pyclient
INCIDENTDB_BASE=$base INCIDENTDB_TOKEN=$token INCIDENTDB_BIN=$bin INCIDENTDB_DATABASE_URL=$url \
  INCIDENTDB_SHARED=${INCIDENTDB_SHARED:-$(cd .. && pwd)/shared} \
  "$py" -m pytest -q -p no:cacheprovider clients/python/tests "$@"
