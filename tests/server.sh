# Sourced by the scripts in tests/ that drive the real service over HTTP: builds the debug
# binary, opens a fresh database (a SQLite file, or a fresh PostgreSQL database when
# TEST_DATABASE_URL names a server), serves it on a free loopback port, and removes it all on
# exit. After `start_server NAME`: $bin, $url (the database), $token (an admin key), $base.
bin=${CARGO_TARGET_DIR:-target}/debug/incidentdb
work=$(mktemp -d)
server_pid=
pg_admin=
pg_db=

stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; fi
  if [ -n "$pg_db" ]; then psql "$pg_admin" -q -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true; fi
  rm -rf "$work"
}
# Interrupted or stopped (bench/fuzz.sh's time limit): exit, so that stop_server runs once,
# on EXIT.
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server NAME [serve args...]: NAME names the key and the PostgreSQL database.
start_server() {
  local name=$1
  shift
  cargo build -q --bin incidentdb
  case "${TEST_DATABASE_URL:-}" in
    postgres://* | postgresql://*)
      pg_admin=$TEST_DATABASE_URL
      pg_db=idb_${name}_$$
      psql "$pg_admin" -q -c "CREATE DATABASE $pg_db"
      url=${TEST_DATABASE_URL%/*}/$pg_db
      ;;
    *) url=sqlite://$work/$name.db ;;
  esac
  token=$(DATABASE_URL=$url "$bin" keys create --name "$name" --role admin)
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  DATABASE_URL=$url BIND=127.0.0.1:$port INCIDENTDB_RATE_LIMIT=0 RUST_LOG=warn \
    "$bin" serve "$@" > "$work/server.log" 2>&1 &
  server_pid=$!
  base=http://127.0.0.1:$port
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "$base/healthz" && return 0
    sleep 0.1
  done
  echo "the server did not start:" >&2
  cat "$work/server.log" >&2
  return 1
}
