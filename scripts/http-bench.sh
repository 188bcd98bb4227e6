#!/usr/bin/env bash
# HTTP load against a release build of `warden serve` with a private local Redis, plain HTTP and TLS 1.3:
#   GET /health                 no Redis, no SQL: the fixed cost of a request
#   GET /auth/sessions          authenticated: token, session check and listing (one Redis round trip)
#   POST /auth/refresh          each connection chains the refresh tokens it receives (every request rotates)
#   encrypt                     POST /v1/crypto/encrypt, batches of 100 items of 256 bytes (16 connections)
#   mix                         one POST /auth/login in every 10 requests, the rest GET /auth/sessions with
#                               the newest token (scrypt at WARDEN_SCRYPT_LOG_N=10 here, not production's 17)
# For each: requests/s, p50 and p99 latency, non-2xx responses, the server's CPU time per request (from
# /proc/<pid>/stat before and after) and its resident memory. Needs wrk, redis-server (Debian's packages).
#
#   scripts/http-bench.sh [seconds] [connections]
#
# Environment: WARDEN_BENCH_MODES ("plain tls" by default), WARDEN_BENCH_LOADS ("health sessions refresh
# mix"), WARDEN_BENCH_CERT_KEY (rsa-4096 or ec-p256: the TLS key type, default the generated RSA-4096),
# WARDEN_BENCH_PERF=1 (also record `perf` for GET /auth/sessions, plain, and print where the CPU goes;
# WARDEN_BENCH_PERF_LOAD names another load), WARDEN_BENCH_PERF_DATA (a file to keep the recording in),
# WARDEN_BENCH_PERF_CALLGRAPH (perf's --call-graph: fp by default; dwarf,16384 unwinds through Swift's
# frames that keep no frame pointer, at a higher cost per sample),
# WARDEN_BENCH_NO_FLOOR=1 (skip the bare-Hummingbird floor, measured first by default),
# WARDEN_BENCH_BIN (a prebuilt binary instead of scripts/build-release.sh), WARDEN_BENCH_KEEP=1 (keep the
# scratch directory with the servers' logs).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
connections="${2:-64}"
modes="${WARDEN_BENCH_MODES:-plain tls}"
loads="${WARDEN_BENCH_LOADS:-health sessions refresh mix encrypt}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
if [ -n "${WARDEN_BENCH_BIN:-}" ]; then
  bin="$WARDEN_BENCH_BIN"
else
  bin="$(scripts/build-release.sh)"
fi
floor="$(dirname "$bin")/warden-bench"
[ -x "$floor" ] || floor="$(scripts/build-release.sh warden-bench)"
scratch="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$scratch"; }
trap cleanup EXIT
[ -n "${WARDEN_BENCH_KEEP:-}" ] && trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; echo "kept $scratch"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks_per_second=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pids+=($!)
# The commands below need Redis up (a user's creation publishes the account's status there).
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
export WARDEN_DATA_DIR="$scratch/data" WARDEN_REDIS_URL="redis://127.0.0.1:$redis_port" WARDEN_SCRYPT_LOG_N=10 \
  WARDEN_RATE_LIMIT_PER_MINUTE=1000000 WARDEN_AUTH_RATE_LIMIT_PER_MINUTE=1000000 WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE=1000000
unset WARDEN_DATABASE_URL WARDEN_MASTER_KEY WARDEN_MASTER_KEY_FILE
# Eight accounts for the listing and refresh loads, one (with crypto_client) for field encryption; 64 for the mix, whose logins rotate through them (an
# account keeps its ten newest sessions, so logins on one account would end the sessions still in use).
for n in $(seq 0 63); do
  echo 'correct horse battery staple' | "$bin" users create "bench$n" --password-stdin >/dev/null 2>&1
done
echo 'correct horse battery staple' | "$bin" users create cryptobench --password-stdin >/dev/null 2>&1
"$bin" users grant cryptobench crypto_client >/dev/null
tls_args=()
if [ -n "${WARDEN_BENCH_CERT_KEY:-}" ]; then
  "$bin" certs generate --key-type "$WARDEN_BENCH_CERT_KEY" --cert "$scratch/cert.pem" --key "$scratch/key.pem" >/dev/null
  tls_args=(--tls-cert "$scratch/cert.pem" --tls-key "$scratch/key.pem")
fi

report() {  # wrk's output file, load, mode, server CPU ticks, RSS
  python3 - "$1" "$2" "$3" "$4" "$ticks_per_second" "$5" <<'PY'
import re, sys
text, load, mode, ticks, hz, rss = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
total = int(re.search(r"(\d+) requests in", text).group(1))
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def percentile(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
failed = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
cpu = ticks * 1e6 / hz / max(1, total)
items = " (%s items/s)" % format(round(rate * 100), ",") if load == "encrypt" else ""
print("| %s | %s | %s%s | %.1f ms | %.1f ms | %s%s | %.0f | %s |" % (
    load, mode, format(round(rate), ","), items, percentile(50), percentile(99), failed.group(1) if failed else "0",
    " (socket: %s)" % errors.group(1) if errors else "", cpu, rss))
PY
}

echo "| load | mode | req/s | p50 | p99 | non-2xx | server CPU µs/req | RSS MB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
if [ -z "${WARDEN_BENCH_NO_FLOOR:-}" ]; then
  # The framework's floor: bare Hummingbird, one route, a fixed body (warden-bench --serve-floor).
  port=$(free_port)
  "$floor" --serve-floor "$port" >"$scratch/floor.log" 2>&1 &
  server=$!
  pids+=($server)
  for _ in $(seq 1 100); do grep -q "listening on" "$scratch/floor.log" && break; sleep 0.1; done
  before=$(cpu_ticks "$server")
  wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/health" >"$scratch/wrk.txt"
  after=$(cpu_ticks "$server")
  report "$scratch/wrk.txt" "health (bare Hummingbird)" plain "$((after - before))" "$(rss_mb "$server")"
  kill "$server"
  wait "$server" 2>/dev/null || true
fi
for mode in $modes; do
  port=$(free_port)
  if [ "$mode" = plain ]; then
    WARDEN_TLS=off "$bin" serve --port "$port" >"$scratch/serve-$mode.log" 2>&1 &
  else
    "$bin" serve --port "$port" "${tls_args[@]}" >"$scratch/serve-$mode.log" 2>&1 &
  fi
  server=$!
  pids+=($server)
  for _ in $(seq 1 300); do grep -q "listening on" "$scratch/serve-$mode.log" && break; sleep 0.1; done
  url="$(grep -o 'https\?://[^ ]*' "$scratch/serve-$mode.log" | head -1)"
  idle_rss=$(rss_mb "$server")

  # Nine logins on each of eight accounts (an account keeps at most ten sessions): refresh chains for the
  # refresh load (split between wrk's two threads), and an access token for the listing.
  python3 - "$url" "$scratch" <<'PY'
import json, ssl, sys, urllib.request
url, scratch = sys.argv[1], sys.argv[2]
context = ssl._create_unverified_context()
def login(name):
    request = urllib.request.Request(url + "/auth/login", data=json.dumps({"username": name, "password": "correct horse battery staple"}).encode(),
                                     headers={"Content-Type": "application/json", "User-Agent": "wrk-setup"}, method="POST")
    return json.load(urllib.request.urlopen(request, context=context))
tokens = [login("bench%d" % n) for n in range(8) for _ in range(9)]
open(scratch + "/access", "w").write(tokens[-1]["access_token"])
import base64, os
items = [{"context": "bench/field/%d" % i, "plaintext": base64.b64encode(os.urandom(256)).decode()} for i in range(100)]
open(scratch + "/encrypt.lua", "w").write("""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
wrk.body = '%s'
""" % (login("cryptobench")["access_token"], json.dumps({"items": items})))
half = len(tokens) // 2
chains = [[t["refresh_token"] for t in tokens[:half]], [t["refresh_token"] for t in tokens[half:]]]
lua = lambda values: "{" + ",".join('"%s"' % v for v in values) + "}"
open(scratch + "/refresh.lua", "w").write("""
local chains = {%s, %s}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
end
function init(args)
  pool = chains[index]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  local token = table.remove(pool)
  return wrk.format(nil, "/auth/refresh", nil, '{"refresh_token":"' .. (token or "none") .. '"}')
end
function response(status, headers, body)
  if status == 200 then table.insert(pool, string.match(body, '"refresh_token":"([^"]+)"')) end
end
""" % (lua(chains[0]), lua(chains[1])))
open(scratch + "/mix.lua", "w").write("""
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("first", counter * 32 - 32)
end
function init(args)
  token = "%s"
  sent = 0
  logins = 0
end
function request()
  sent = sent + 1
  if sent %% 10 == 0 then
    logins = logins + 1
    return wrk.format("POST", "/auth/login", {["Content-Type"] = "application/json"},
      '{"username":"bench' .. (first + logins %% 32) .. '","password":"correct horse battery staple"}')
  end
  return wrk.format("GET", "/auth/sessions", {["Authorization"] = "Bearer " .. token})
end
function response(status, headers, body)
  local fresh = string.match(body, '"access_token":"([^"]+)"')
  if fresh then token = fresh end
end
""" % tokens[-1]["access_token"])
PY
  access="$(cat "$scratch/access")"
  load_command() {
    case "$1" in
      health) command=(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url/health") ;;
      sessions) command=(wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $access" "$url/auth/sessions") ;;
      refresh) command=(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$scratch/refresh.lua" "$url") ;;
      mix) command=(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$scratch/mix.lua" "$url") ;;
      encrypt) command=(wrk -t2 -c16 -d"${seconds}s" --latency -s "$scratch/encrypt.lua" "$url/v1/crypto/encrypt") ;;
      *) echo "unknown load $1" >&2; exit 2 ;;
    esac
  }
  for load in $loads; do
    load_command "$load"
    before=$(cpu_ticks "$server")
    "${command[@]}" >"$scratch/wrk.txt"
    after=$(cpu_ticks "$server")
    report "$scratch/wrk.txt" "$load" "$mode" "$((after - before))" "$(rss_mb "$server")"
  done
  if [ "$mode" = plain ] && [ -n "${WARDEN_BENCH_PERF:-}" ]; then
    perf record -F 999 --call-graph "${WARDEN_BENCH_PERF_CALLGRAPH:-fp}" -p "$server" -o "${WARDEN_BENCH_PERF_DATA:-$scratch/perf.data}" -- sleep "$seconds" >/dev/null 2>&1 &
    recorder=$!
    load_command "${WARDEN_BENCH_PERF_LOAD:-sessions}"
    "${command[@]}" >/dev/null
    wait "$recorder" || true
    echo
    echo "perf, ${WARDEN_BENCH_PERF_LOAD:-sessions} (plain): CPU by thread, by library, and the top symbols"
    perf report -i "${WARDEN_BENCH_PERF_DATA:-$scratch/perf.data}" --no-children --sort comm --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -6
    perf report -i "${WARDEN_BENCH_PERF_DATA:-$scratch/perf.data}" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
    perf report -i "${WARDEN_BENCH_PERF_DATA:-$scratch/perf.data}" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25 | cut -c1-140
  fi
  echo "| idle before the loads | $mode | | | | | | $idle_rss |"
  kill "$server"
  wait "$server" 2>/dev/null || true
done
