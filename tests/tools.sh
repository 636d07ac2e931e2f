#!/usr/bin/env bash
# The tools users already have, against the real server (serve --demo, plus incidents named in
# Spanish, French and Turkish): curl -I on a list (200, the GET's headers, no body), GDAL
# reading the GeoJSON export through pyogrio (its wheel bundles GDAL with curl) by
# /vsicurl/ (the export's size on HEAD, then byte ranges), /vsicurl_streaming/ and the GeoJSON
# driver given the URL (every feature, with killed_best), and pandas.read_csv of the CSV export
# with bom=true (non-ASCII names intact). tests/tools/check.py does the checks.
#
#   tests/tools.sh        # SQLite; TEST_DATABASE_URL=postgres://... for PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/server.sh
source tests/pyvenv.sh

start_server tools --demo
"$py" tests/tools/check.py "$base" "$token"
