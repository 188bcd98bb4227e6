#!/usr/bin/env bash
# Faults under load for three `warden serve` nodes, and a Jepsen-style check of what they answered.
#
#   scripts/chaos.sh [--minutes N] [--redis single|cluster|both] [--out DIR] [-- harness options]
#
# Starts a private PostgreSQL (scripts/postgres.sh), then for each Redis mode: Redis (one server, or a
# cluster of three primaries and three replicas), three nodes sharing it (the second under libfaketime,
# the third in a network namespace behind a veth pair), a load generator and a fault schedule
# (scripts/chaos/harness.py), and finally the checker over the recorded history
# (scripts/chaos/checker.py). Exits non-zero when the checker finds a violation. What is injected and
# what is checked: docs/reliability.md.
#
# The warden binary: $WARDEN_BIN, else `swift build --product warden` and its bin path.
# Runs as root on a fresh Debian machine: installs redis-server, redis-tools, faketime, iproute2,
# PostgreSQL and pyotp when missing. Ends every process it started, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=2
modes=single
out=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --redis) modes=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$modes" in single) modes=(single) ;; cluster) modes=(cluster) ;; both) modes=(single cluster) ;;
  *) echo "--redis must be single, cluster or both" >&2; exit 2 ;; esac
[ -n "$out" ] || out=$(mktemp -d /tmp/warden-chaos.XXXXXX)
mkdir -p "$out"
out=$(cd "$out" && pwd)

apt_install() {
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools
command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1 || apt_install iproute2 || echo "chaos: iproute2 not installable: the slow-link fault will be skipped" >&2
ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || apt_install faketime libfaketime || echo "chaos: libfaketime not installable: the clock fault will be skipped" >&2
if ! python3 -c 'import pyotp' 2>/dev/null; then
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  pyotp=$(grep '^pyotp' scripts/requirements-test.txt)
  python3 -m pip install --quiet --disable-pip-version-check "$pyotp" \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$pyotp"
fi

if [ -n "${WARDEN_BIN:-}" ]; then
  warden=$WARDEN_BIN
else
  swift build --product warden >&2
  warden="$(swift build --show-bin-path)/warden"
fi
[ -x "$warden" ] || { echo "chaos: no warden binary at $warden" >&2; exit 1; }

pg_dir=""
harness_pid=""
cleanup() {
  local status=$?
  if [ -n "$harness_pid" ] && kill -0 "$harness_pid" 2>/dev/null; then
    kill -TERM "$harness_pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$harness_pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$harness_pid" 2>/dev/null || true
  fi
  # Whatever the harness started and could not end itself (it lists them by id in pids).
  for f in "$out"/*/pids; do
    [ -f "$f" ] || continue
    while read -r pid name; do
      kill -CONT "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null && echo "chaos: ended $name ($pid)" >&2 || true
    done <"$f"
  done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^wchaos" || true); do
    pid=${ns#wchaos}
    kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null || true
  done
  [ -n "$pg_dir" ] && scripts/postgres.sh stop "$pg_dir" 2>/dev/null || true
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

eval "$(scripts/postgres.sh start)"
pg_dir=$WARDEN_TEST_POSTGRES_DIR
echo "chaos: PostgreSQL at ${WARDEN_TEST_POSTGRES_URL##*@}, output in $out" >&2

failed=0
for mode in "${modes[@]}"; do
  run="$out/$mode"
  mkdir -p "$run"
  # A fresh database per mode: drop what the previous mode left.
  psql_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql
  pg_port=$(echo "$WARDEN_TEST_POSTGRES_URL" | sed 's|.*127.0.0.1:\([0-9]*\)/.*|\1|')
  db="chaos_$mode"
  "$psql_bin" -q -h "$pg_dir" -p "$pg_port" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  url=$(echo "$WARDEN_TEST_POSTGRES_URL" | sed "s|/postgres?|/$db?|")
  echo "chaos: == $mode Redis, $minutes minute(s)" >&2
  python3 scripts/chaos/harness.py --minutes "$minutes" --redis "$mode" --out "$run" --warden "$warden" \
    --database-url "$url" --pg-dir "$pg_dir" "${extra[@]}" &
  harness_pid=$!
  if ! wait "$harness_pid"; then
    echo "chaos: the harness failed ($mode); see $run" >&2
    failed=1
    harness_pid=""
    continue
  fi
  harness_pid=""
  if ! python3 scripts/chaos/checker.py "$run" | tee "$run/check.txt"; then
    failed=1
  fi
done
echo "chaos: output in $out" >&2
exit "$failed"
