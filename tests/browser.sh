#!/usr/bin/env bash
# The browse page (`GET /`) in headless Chromium against the real server on the demo data:
# `serve --demo` on a fresh SQLite file, then tests/browser/browser.mjs (playwright-core
# driving Debian's Chromium; no browser is downloaded) checks that the page loads with no
# failed request and none leaving 127.0.0.1, that /?country=AF shows only Afghan rows and the
# API's total, that a filter updates the URL, the table, the facets and the map, that the CSV
# export has the table's total, that a row opens with its sources, the phone layout, and the
# "Draft from a report" form: with an editor key made by `keys create`, the seed report
# (../shared/reference/kabul-rockets-2020-11-21.txt beside the repo; that part is skipped with
# a note when it is absent) drafts with its evidence highlighted, is saved, and is found by
# the API; it saves screenshots at desktop and phone widths under target/browser/.
#
#   tests/browser.sh
#
# Needs node (>= 20) and npm (the npm registry, for `npm ci` of playwright-core) and Chromium
# (CHROMIUM, default `chromium` on the PATH; `apt-get install -y chromium`). It starts the
# debug server on a free loopback port and stops it by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] && [ -x "$chromium" ] || { echo "tests/browser.sh: needs Chromium (apt-get install -y chromium)" >&2; exit 1; }
command -v node > /dev/null || { echo "tests/browser.sh: needs node >= 20 and npm" >&2; exit 1; }

cargo build -q --bin incidentdb
bin=${CARGO_TARGET_DIR:-target}/debug/incidentdb
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error > /dev/null)

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATABASE_URL=sqlite://$work/browse.db BIND=127.0.0.1:$port RUST_LOG=warn "$bin" serve --demo > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.1
done

# An editor key for the "Draft from a report" form (drafting and saving need one).
key=$(DATABASE_URL=sqlite://$work/browse.db RUST_LOG=warn "$bin" keys create --name browser --role editor)

status=0
EDITOR_KEY=$key CHROMIUM=$chromium SHOTS=target/browser node tests/browser/browser.mjs "http://127.0.0.1:$port" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)"
  tail -40 "$work/server.log"
fi
exit "$status"
