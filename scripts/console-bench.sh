#!/usr/bin/env bash
# The web console's pages under load, one at a time: server CPU time per page (from /proc/<pid>/stat before
# and after), latency p50/p99 with one connection (wrk -c1), and each page's weight with everything it loads
# (the HTML, the stylesheet and the script). The budget is 5 ms of rendering and 100 KB per page.
#
#   scripts/console-bench.sh [seconds]
#
# A release build of `warden serve` on the embedded default (SQLite, sessions in the database), plain HTTP.
# WARDEN_BENCH_BIN: a prebuilt binary instead of scripts/build-release.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ -n "${WARDEN_BENCH_BIN:-}" ]; then
  bin="$WARDEN_BENCH_BIN"
else
  bin="$(scripts/build-release.sh)"
fi
scratch="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$scratch"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export WARDEN_DATA_DIR="$scratch/data" WARDEN_RATE_LIMIT_PER_MINUTE=1000000 WARDEN_AUTH_RATE_LIMIT_PER_MINUTE=1000000 \
  WARDEN_LOGIN_RATE_LIMIT_PER_MINUTE=1000000 WARDEN_LOG_LEVEL=warning WARDEN_WEBAUTHN_ORIGINS="http://localhost:$port"
echo 'the security desk bench passphrase' | "$bin" users create operator --password-stdin >/dev/null
"$bin" users grant operator security_admin >/dev/null
"$bin" serve --no-tls --port "$port" >"$scratch/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do grep -q "listening on" "$scratch/serve.log" && break; sleep 0.1; done
url="http://localhost:$port"

# Sign in through the console's own form; the cookies go into wrk's requests.
cookie=$(python3 - "$url" <<'PY'
import http.cookiejar, re, sys, urllib.parse, urllib.request
url = sys.argv[1]
jar = http.cookiejar.CookieJar()
class Secure(http.cookiejar.DefaultCookiePolicy):
    def return_ok(self, cookie, request): return True
    def set_ok(self, cookie, request): return True
jar.set_policy(Secure())
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = opener.open(url + "/console/sign-in").read().decode()
token = re.search(r'action="/console/sign-in" novalidate><input type="hidden" name="csrf" value="([^"]+)"', page).group(1)
body = urllib.parse.urlencode({"csrf": token, "username": "operator", "password": "the security desk bench passphrase"}).encode()
request = urllib.request.Request(url + "/console/sign-in", data=body, headers={"Origin": url, "Content-Type": "application/x-www-form-urlencoded"})
opener.open(request).read()
print("; ".join("%s=%s" % (c.name, c.value) for c in jar if c.name in ("__Host-warden-session", "__Host-warden-refresh")))
PY
)
assets=$(( $(curl -s "$url/console/assets/console.css" | wc -c) + $(curl -s "$url/console/assets/console.js" | wc -c) ))
ticks_per_second=$(getconf CLK_TCK)
printf '%-28s %10s %10s %10s %12s %10s\n' page "req/s" "p50 ms" "p99 ms" "CPU µs/req" "KB total"
for page in sign-in sign-up account account/sessions account/passkeys account/totp admin admin/accounts admin/audit; do
  headers=()
  [ "$page" != sign-in ] && [ "$page" != sign-up ] && headers=(-H "Cookie: $cookie")
  status=$(curl -s -o "$scratch/page.html" -w '%{http_code}' "${headers[@]}" "$url/console/$page")
  [ "$status" = 200 ] || { echo "GET /console/$page answered $status" >&2; exit 1; }
  weight=$(( $(wc -c <"$scratch/page.html") + assets ))
  before=$(awk '{print $14 + $15}' "/proc/$server/stat")
  wrk -t1 -c1 -d"${seconds}s" --latency "${headers[@]}" "$url/console/$page" >"$scratch/wrk.txt"
  after=$(awk '{print $14 + $15}' "/proc/$server/stat")
  python3 - "$scratch/wrk.txt" "$page" "$((after - before))" "$ticks_per_second" "$weight" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    match = re.search(r"\s%s\s+([\d.]+)(us|ms|s)" % label, text)
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
requests = int(re.search(r"(\d+) requests in", text).group(1))
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
cpu = int(sys.argv[3]) / int(sys.argv[4]) / max(1, requests) * 1e6
print("%-28s %10.0f %10.2f %10.2f %12.0f %10.1f" % ("/console/" + sys.argv[2], rate, ms("50%"), ms("99%"), cpu, int(sys.argv[5]) / 1024))
PY
done
