#!/usr/bin/env bash
# A Python client generated from the committed OpenAPI document (openapi-python-client), used
# against the real server: create, list with a region and date filter, page, stats. A change
# to the document that breaks client generation or the generated calls fails here.
#
#   tests/client.sh        # SQLite; TEST_DATABASE_URL=postgres://... for PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/server.sh

venv=target/client-venv
if [ ! -x "$venv/bin/openapi-python-client" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q openapi-python-client==0.29.1
fi
generated=target/client-gen
"$venv/bin/openapi-python-client" generate --path openapi/openapi.json \
  --output-path "$generated" --overwrite > "$work/generate.log" 2>&1 || {
  cat "$work/generate.log" >&2
  exit 1
}
"$venv/bin/pip" install -q --force-reinstall --no-deps "$generated"

start_server client
"$venv/bin/python" tests/client/check.py "$base" "$token"
