#!/usr/bin/env bash
# Starts or stops a private PostgreSQL server for the tests: its own data directory, a free port on
# 127.0.0.1.
#
#   eval "$(scripts/postgres.sh start)"       # no TLS, trust authentication (nothing else can reach it)
#   eval "$(scripts/postgres.sh start-tls)"   # TLS only, password or client certificate (see below)
#   scripts/postgres.sh stop DIR
#
# Both install PostgreSQL if it is missing and print export lines. start-tls needs openssl: it makes a
# throwaway CA and a server certificate for the name `localhost` only (no IP address in it, so a client
# that connects to 127.0.0.1 and checks the host name must refuse it), a second CA that signed nothing
# (a wrong `sslrootcert`), and a client certificate for the role `warden_cert`. Its pg_hba.conf has
# `hostssl` lines only: a plaintext TCP connection is refused. Role `warden` (superuser) logs in with a
# random password (SCRAM), role `warden_cert` with its client certificate.
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

install_if_missing() {
  if ! bin=$(find_bin); then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_ca NAME SUBJECT: a self-signed CA, NAME.pem and NAME.key in the current directory.
make_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$1.key" -out "$1.pem" 2>/dev/null
}

# make_leaf NAME SUBJECT EXTENSIONS: a certificate signed by ca.pem, NAME.pem and NAME.key (mode 0600).
make_leaf() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%b' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3 -extfile "$1.ext" \
    -out "$1.pem" 2>/dev/null
  chmod 600 "$1.key"
  rm "$1.csr" "$1.ext"
}

case "${1:-}" in
  start)
    install_if_missing
    dir=$(mktemp -d /tmp/warden-pg.XXXXXX)
    port=$(free_port)
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
    echo "export WARDEN_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
    echo "export WARDEN_TEST_POSTGRES_DIR='$dir'"
    ;;
  start-tls)
    install_if_missing
    command -v openssl >/dev/null || { echo "start-tls needs openssl" >&2; exit 1; }
    dir=$(mktemp -d /tmp/warden-pgtls.XXXXXX)
    port=$(free_port)
    password=$(openssl rand -hex 16)
    mkdir "$dir/tls"
    (
      cd "$dir/tls"
      make_ca ca "Warden test CA"
      make_ca other-ca "Warden test CA that signed nothing"
      make_leaf server localhost 'subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n'
      make_leaf client warden_cert 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'
      rm ca.key other-ca.key
    )
    # The server (user postgres) reads its certificate from here; the socket directory stays 0700.
    chmod 755 "$dir/tls"
    # Unix socket for this script; over TCP, TLS only (no line accepts a plaintext connection).
    printf '%s\n' \
      'local      all  all                        trust' \
      'hostssl    all  warden_cert  127.0.0.1/32  cert' \
      'hostssl    all  all          127.0.0.1/32  scram-sha-256' \
      'hostnossl  all  all          0.0.0.0/0     reject' >"$dir/pg_hba.conf"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir" "$dir/pg_hba.conf" "$dir/tls/server.key" "$dir/tls/server.pem"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100 -c ssl=on -c ssl_cert_file=$dir/tls/server.pem -c ssl_key_file=$dir/tls/server.key -c ssl_ca_file=$dir/tls/ca.pem -c hba_file=$dir/pg_hba.conf -c password_encryption=scram-sha-256" start >&2
    as_owner "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE warden LOGIN SUPERUSER PASSWORD '$password'" -c "CREATE ROLE warden_cert LOGIN" >&2
    echo "export WARDEN_TEST_POSTGRES_TLS_URL='postgres://warden:$password@localhost:$port/postgres?sslmode=verify-full&sslrootcert=$dir/tls/ca.pem'"
    echo "export WARDEN_TEST_POSTGRES_TLS_CA='$dir/tls/ca.pem'"
    echo "export WARDEN_TEST_POSTGRES_TLS_OTHER_CA='$dir/tls/other-ca.pem'"
    echo "export WARDEN_TEST_POSTGRES_TLS_CLIENT_CERT='$dir/tls/client.pem'"
    echo "export WARDEN_TEST_POSTGRES_TLS_CLIENT_KEY='$dir/tls/client.key'"
    echo "export WARDEN_TEST_POSTGRES_TLS_DIR='$dir'"
    ;;
  stop)
    dir=${2:?usage: postgres.sh stop DIR}
    bin=$(find_bin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >&2 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | start-tls | stop DIR" >&2
    exit 2
    ;;
esac
