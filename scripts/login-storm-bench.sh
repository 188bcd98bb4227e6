#!/usr/bin/env bash
# Does a login storm take the API down? Against a release build of `warden serve` on plain HTTP
# (`--no-tls`) with a private local Redis, at the production scrypt cost (WARDEN_SCRYPT_LOG_N is not set
# for the server):
#   1. authenticated GET /auth/sessions alone (wrk, 16 connections);
#   2. the same while 8 other connections log in continuously (a second account, its hash at the
#      production cost), with the default hashing pool (half the cores, queue 4 per thread);
#   3. the same storm, the storm's clients retrying at once instead of honouring Retry-After;
#   4. the GET alone again (a second baseline: the machine may be shared);
#   5. the same storm without the bound, as before issue 11 (one hashing thread per processor,
#      an unbounded queue: WARDEN_PASSWORD_HASH_THREADS=<cores>, WARDEN_PASSWORD_HASH_QUEUE=100000).
# Prints requests/s and p99 of the GET, and the logins' outcomes (200, 503 busy, other). Needs wrk and
# redis-server (Debian's packages).
#
#   scripts/login-storm-bench.sh [seconds] [connections]
# WARDEN_BENCH_BIN: a prebuilt binary instead of scripts/build-release.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
connections="${2:-16}"
storm=8
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
bin="${WARDEN_BENCH_BIN:-$(scripts/build-release.sh)}"
scratch="$(mktemp -d)"
pids=()
server=""
cleanup() { for pid in "${pids[@]}" $server; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$scratch"; }
trap cleanup EXIT

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pids+=($!)
export WARDEN_DATA_DIR="$scratch/data" WARDEN_REDIS_URL="redis://127.0.0.1:$redis_port" \
  WARDEN_RATE_LIMIT_PER_MINUTE=1000000 WARDEN_AUTH_RATE_LIMIT_PER_MINUTE=1000000 WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE=1000000
unset WARDEN_DATABASE_URL WARDEN_MASTER_KEY WARDEN_MASTER_KEY_FILE WARDEN_SCRYPT_LOG_N WARDEN_SCRYPT_R WARDEN_SCRYPT_P \
  WARDEN_PASSWORD_HASH_THREADS WARDEN_PASSWORD_HASH_QUEUE
# Both hashes at the production cost: the GET's account (its one login is setup) and the storm's.
echo 'correct horse battery staple' | "$bin" users create bench --password-stdin >/dev/null 2>&1
echo 'correct horse battery staple' | "$bin" users create storm --password-stdin >/dev/null 2>&1

# Starts `warden serve` with extra environment; sets $server and $url.
start() {
  : >"$scratch/serve.log"  # emptied here, before the server starts: the wait below must not find the last one's line
  env "$@" "$bin" serve --no-tls --port 0 >"$scratch/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do grep -q "listening on" "$scratch/serve.log" && break; sleep 0.1; done
  url="$(grep -o 'http://[^ ]*' "$scratch/serve.log" | head -1)"
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

start
python3 - "$url" "$scratch" <<'PY'
import json, sys, urllib.request
url, scratch = sys.argv[1], sys.argv[2]
request = urllib.request.Request(url + "/auth/login", data=json.dumps({"username": "bench", "password": "correct horse battery staple"}).encode(),
                                 headers={"Content-Type": "application/json", "User-Agent": "wrk-setup"}, method="POST")
open(scratch + "/access", "w").write(json.load(urllib.request.urlopen(request))["access_token"])
PY
# One connection per wrk thread, so `delay` (after a 503, wait Retry-After) applies to that connection only.
cat >"$scratch/storm.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  ok, busy, other, wait = 0, 0, 0, 0
  honour = os.getenv("STORM_IGNORES_RETRY_AFTER") == nil
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"username":"storm","password":"correct horse battery staple"}'
end
function delay() local ms = wait; wait = 0; return ms end
function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 503 then
    busy = busy + 1
    if honour then wait = 1000 * (tonumber(headers["Retry-After"]) or 1) end
  else other = other + 1 end
end
function done(summary, latency, requests)
  local o, b, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("busy"); x = x + t:get("other") end
  io.write(string.format("logins: %d ok (%.1f/s), %d refused 503 busy, %d other\n", o, o / (summary.duration / 1e6), b, x))
end
LUA

get() {
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $(cat "$scratch/access")" "$url/auth/sessions" \
    | grep -E "Requests/sec|Latency  |50%|99%|Non-2xx|requests in"
}
# The GET while the storm runs (the storm starts 3 s earlier and ends after it); `stormy ignore`: the
# storm's clients retry at once after a 503.
stormy() {
  env ${1:+STORM_IGNORES_RETRY_AFTER=1} wrk -t"$storm" -c"$storm" -d"$((seconds + 6))s" --timeout 30s -s "$scratch/storm.lua" "$url/auth/login" >"$scratch/storm.out" 2>&1 &
  local generator=$!
  sleep 3
  get
  wait "$generator"
  grep -E "^logins:" "$scratch/storm.out"
}

echo "== GET /auth/sessions alone ($connections connections, ${seconds}s, plain HTTP)"
get
echo "== the same during a login storm ($storm connections, production scrypt), default pool (${WARDEN_PASSWORD_HASH_THREADS:-half the cores}, queue 4 per thread); clients honour Retry-After"
stormy
echo "== the same, the storm's clients retrying at once"
stormy ignore
echo "== GET /auth/sessions alone again (the machine is shared: a second baseline brackets the storms)"
get
stop
cores=$(nproc)
start WARDEN_PASSWORD_HASH_THREADS="$cores" WARDEN_PASSWORD_HASH_QUEUE=100000
echo "== the same storm without the bound, as before ($cores hashing threads, unbounded queue)"
stormy
stop
