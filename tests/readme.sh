#!/usr/bin/env bash
# The README works as written: runs its examples marked `<!-- readme-test -->` (```sh blocks),
# in order, against a fresh `serve --demo` on a free port, and compares the answers the README
# shows (status lines, headers such as Location, JSON fields). The convention and how answers
# are compared: tests/readme.py. `http://127.0.0.1:8080` becomes the real base URL, `cargo run
# --release --` the debug binary, and the keys the README creates are real ones (on the same
# database, as DATABASE_URL is exported like the README's default `incidents.db`).
#
#   tests/readme.sh        # SQLite; TEST_DATABASE_URL=postgres://... for PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/server.sh

for tool in jq curl awk; do
  if ! command -v "$tool" > /dev/null; then
    echo "$tool is missing: installing Debian's (the README's examples use it)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" > /dev/null
  fi
done

README_SERVE_ARGS="serve --demo"
start_server readme ${README_SERVE_ARGS#serve }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
export bin DATABASE_URL=$url README_SERVE_ARGS
python3 tests/readme.py README.md "$base" "$work"
