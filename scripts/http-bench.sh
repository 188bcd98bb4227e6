#!/usr/bin/env bash
# HTTP load against a release build of `warden serve` with a private local Redis:
#   1. an authenticated GET (/auth/sessions: token verification, session check in Redis, a session listing);
#   2. POST /auth/refresh, each connection chaining the refresh tokens it receives (every request rotates).
# Prints wrk's requests/s and latency percentiles. Needs wrk and redis-server (Debian's packages).
#
#   scripts/http-bench.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
connections="${2:-32}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
swift build -c release --product warden >/dev/null
bin="$(swift build -c release --show-bin-path)/warden"
scratch="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$scratch"; }
trap cleanup EXIT
[ -n "${WARDEN_BENCH_KEEP:-}" ] && trap - EXIT

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pids+=($!)
export WARDEN_DATA_DIR="$scratch/data" WARDEN_REDIS_URL="redis://127.0.0.1:$redis_port" WARDEN_SCRYPT_LOG_N=10 \
  WARDEN_RATE_LIMIT_PER_MINUTE=100000000 WARDEN_AUTH_RATE_LIMIT_PER_MINUTE=100000000 WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE=100000000
unset WARDEN_DATABASE_URL WARDEN_MASTER_KEY WARDEN_MASTER_KEY_FILE
echo 'correct horse battery staple' | "$bin" users create bench --password-stdin >/dev/null 2>&1
"$bin" serve --port 0 >"$scratch/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do grep -q "listening on" "$scratch/serve.log" && break; sleep 0.1; done
url="$(grep -o 'https://[^ ]*' "$scratch/serve.log" | head -1)"

# Eight logins (an account keeps at most 10 sessions): the last one's access token for the GET, and a
# refresh token for each of eight refresh chains.
chains=8
python3 - "$url" "$chains" "$scratch" <<'PY'
import json, ssl, sys, urllib.request
url, count, scratch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ssl._create_unverified_context()
tokens = []
for _ in range(count):
    request = urllib.request.Request(url + "/auth/login", data=json.dumps({"username": "bench", "password": "correct horse battery staple"}).encode(),
                                     headers={"Content-Type": "application/json", "User-Agent": "wrk-setup"}, method="POST")
    tokens.append(json.load(urllib.request.urlopen(request, context=context)))
open(scratch + "/access", "w").write(tokens[-1]["access_token"])
open(scratch + "/refresh.lua", "w").write("""
local tokens = {%s}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("token", tokens[counter])
end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  return wrk.format(nil, "/auth/refresh", nil, '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
  if status == 200 then token = string.match(body, '"refresh_token":"([^"]+)"') end
  if status ~= 200 then failures = (failures or 0) + 1 end
end
""" % ",".join('"%s"' % t["refresh_token"] for t in tokens))
PY
echo "== authenticated GET /auth/sessions ($connections connections, ${seconds}s)"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $(cat "$scratch/access")" "$url/auth/sessions" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|requests in"
echo "== POST /auth/refresh ($chains connections, each chaining its own refresh tokens, ${seconds}s)"
wrk -t"$chains" -c"$chains" -d"${seconds}s" --latency -s "$scratch/refresh.lua" "$url" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|requests in"
