#!/usr/bin/env bash
# Starts or stops a private PostgreSQL server for the tests: its own data directory, a free port on
# 127.0.0.1, no TLS, trust authentication (nothing else can reach it).
#
#   eval "$(scripts/postgres.sh start)"   # installs PostgreSQL if missing; prints export lines
#   scripts/postgres.sh stop DIR
set -euo pipefail

find_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then return 1; fi
  echo "$dir"
}

as_owner() {
  # initdb and postgres refuse to run as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if ! bin=$(find_bin); then
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      bin=$(find_bin)
    fi
    dir=$(mktemp -d /tmp/warden-pg.XXXXXX)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
    echo "export WARDEN_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
    echo "export WARDEN_TEST_POSTGRES_DIR='$dir'"
    ;;
  stop)
    dir=${2:?usage: postgres.sh stop DIR}
    bin=$(find_bin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >&2 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
