#!/usr/bin/env bash
# TLS handshake rates of a release build of `warden serve`, next to nginx serving a fixed body with the
# same certificates, all on this machine (client and servers share its cores). For RSA-4096 and ECDSA
# P-256 certificates made by `warden certs generate`, it runs `openssl s_time` (TLS 1.3):
#   new     full handshakes, no request (`s_time -new`);
#   new+GET full handshakes, each with one GET /health (`s_time -new -www …`);
#   resumed resumed handshakes, each with one GET /health (`s_time -reuse -www …`; reading the response
#           makes the client take the TLS 1.3 session ticket, which arrives after the handshake).
# s_time sends `GET <path> HTTP/1.0` with no Host header, which Warden refuses (400), and against Warden
# s_time then stalled after its first connection; the path given to -www therefore carries a whole HTTP/1.1 request
# with Host and `Connection: close` (the " HTTP/1.0" s_time appends after it is never read). Both servers
# get the same request.
# Then, for each key type, whether handshakes slow down requests on connections that are already open:
# wrk (16 keep-alive connections, GET /health, 10 s) alone and during an `s_time -new` flood, `reps` times,
# against the default server (signatures on a thread of their own) and one with WARDEN_TLS_SIGN_OFF_LOOP=off.
# Servers and modes are interleaved, `reps` times; prints connections per wall-clock second for each run,
# the server's CPU time per connection (utime + stime from /proc, nginx's workers included), and for
# `resumed` how many connections s_time reports as reused. Needs openssl and nginx (Debian's
# packages, installed with apt-get when missing) and wrk for the second part. Starts everything on free ports in a temporary
# directory and removes it at exit.
#
#   scripts/tls-bench.sh [seconds per run, 5] [repetitions, 2]
#   WARDEN_BIN=path/to/warden scripts/tls-bench.sh   # use a built binary instead of building
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
reps="${2:-2}"
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v python3 >/dev/null || missing+=(python3)
command -v wrk >/dev/null || missing+=(wrk)
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
if [ -z "${WARDEN_BIN:-}" ]; then
  WARDEN_BIN="$(scripts/build-release.sh)"
fi

scratch="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

unset WARDEN_DATABASE_URL WARDEN_MASTER_KEY WARDEN_MASTER_KEY_FILE WARDEN_REDIS_URL
declare -A port loop_port server_pid
for key in rsa-4096 ec-p256; do
  "$WARDEN_BIN" certs generate --key-type "$key" --cert "$scratch/$key.crt" --key "$scratch/$key.key" >/dev/null

  # warden serve, embedded default (SQLite in its own data directory), TLS 1.3 only.
  WARDEN_DATA_DIR="$scratch/data-$key" "$WARDEN_BIN" serve --port 0 \
    --tls-cert "$scratch/$key.crt" --tls-key "$scratch/$key.key" >"$scratch/warden-$key.log" 2>&1 &
  pids+=($!); server_pid[warden-$key]=$!
  for _ in $(seq 1 300); do grep -q "listening on" "$scratch/warden-$key.log" && break; sleep 0.1; done
  port[warden-$key]="$(grep -o 'https://[^ ]*' "$scratch/warden-$key.log" | head -1 | sed 's/.*://')"
  [ -n "${port[warden-$key]}" ] || { cat "$scratch/warden-$key.log"; exit 1; }
  # The same, signing handshakes on its event loops (WARDEN_TLS_SIGN_OFF_LOOP=off), for the second part.
  WARDEN_TLS_SIGN_OFF_LOOP=off WARDEN_DATA_DIR="$scratch/data-loop-$key" "$WARDEN_BIN" serve --port 0 \
    --tls-cert "$scratch/$key.crt" --tls-key "$scratch/$key.key" >"$scratch/loop-$key.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do grep -q "listening on" "$scratch/loop-$key.log" && break; sleep 0.1; done
  loop_port[$key]="$(grep -o 'https://[^ ]*' "$scratch/loop-$key.log" | head -1 | sed 's/.*://')"

  # nginx with the same certificate: one worker per core, a fixed body, no access log, TLS 1.3 only,
  # session tickets on (its default) so that TLS 1.3 resumption works as in Warden.
  port[nginx-$key]="$(free_port)"
  mkdir -p "$scratch/nginx-$key"
  cat >"$scratch/nginx-$key/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $scratch/nginx-$key/nginx.pid;
error_log $scratch/nginx-$key/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $scratch/nginx-$key/body;
  proxy_temp_path $scratch/nginx-$key/proxy;
  fastcgi_temp_path $scratch/nginx-$key/fastcgi;
  uwsgi_temp_path $scratch/nginx-$key/uwsgi;
  scgi_temp_path $scratch/nginx-$key/scgi;
  server {
    listen 127.0.0.1:${port[nginx-$key]} ssl;
    ssl_certificate $scratch/$key.crt;
    ssl_certificate_key $scratch/$key.key;
    ssl_protocols TLSv1.3;
    location / { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
CONF
  "$nginx_bin" -p "$scratch/nginx-$key" -c "$scratch/nginx-$key/nginx.conf" &
  pids+=($!); server_pid[nginx-$key]=$!
done
# Wait until every server completes a handshake.
for name in "${!port[@]}"; do
  for _ in $(seq 1 100); do
    openssl s_client -connect "127.0.0.1:${port[$name]}" -tls1_3 </dev/null >/dev/null 2>&1 && break
    sleep 0.1
  done
done

# CPU time (utime + stime, clock ticks) of a server process and its children (nginx's workers).
server_cpu() {
  local t=0 p
  for p in "$1" $(pgrep -P "$1" || true); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}

# One s_time run; prints "connections/s, the server's CPU per connection [reused/connections]".
measure() { # name mode
  local name="$1" mode="$2" flags=() out start end
  local path=$'/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
  case "$mode" in
    new) flags=(-new) ;;
    new+GET) flags=(-new -www "$path") ;;
    resumed) flags=(-reuse -www "$path") ;;
  esac
  local cpu0 cpu1
  cpu0="$(server_cpu "${server_pid[$name]}")"
  start="$(date +%s.%N)"
  out="$(openssl s_time -connect "127.0.0.1:${port[$name]}" -time "$seconds" "${flags[@]}" 2>&1 || true)"
  end="$(date +%s.%N)"
  cpu1="$(server_cpu "${server_pid[$name]}")"
  python3 - "$out" "$start" "$end" "$mode" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" <<'PY'
import re, sys
out, start, end, mode = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
ticks, hz = int(sys.argv[5]), int(sys.argv[6])
counts = [int(n) for n in re.findall(r"^(\d+) connections in [\d.]+s", out, re.M)]
if not counts:
    print("failed: " + out.strip().splitlines()[-1] if out.strip() else "failed"); sys.exit()
total = counts[-1]
# With -reuse, s_time runs one full handshake first, then its timed loop; its progress line prints
# "r" for each connection that resumed the session and "*" for a full handshake.
reused = sum(line.count("r") for line in re.findall(r"^[r*tT]+$", out, re.M))
rate = total / (end - start)
print(f"{rate:8.0f}/s  server CPU {ticks / hz / total * 1e6:6.0f} us/conn" + (f"  ({max(reused, 0)}/{total} reused)" if mode == "resumed" else ""))
PY
}

printf '%s\n' "openssl s_time, TLS 1.3, ${seconds} s per run, ${reps} repetitions; $(nproc) cores; $(openssl version); $("$nginx_bin" -v 2>&1)"
for rep in $(seq 1 "$reps"); do
  for mode in new new+GET resumed; do
    for key in rsa-4096 ec-p256; do
      for server in warden nginx; do
        printf 'rep %s  %-8s %-9s %-7s %s\n' "$rep" "$mode" "$key" "$server" "$(measure "$server-$key" "$mode")"
      done
    done
  done
done

# Requests on open connections while new handshakes arrive: each loop of `warden serve` signs the
# handshakes of its own connections, between their requests.
# "pool" is the default (signatures on a thread of their own), "loop" is WARDEN_TLS_SIGN_OFF_LOOP=off.
echo "wrk -t1 -c16 GET /health on keep-alive connections, 10 s: alone, then during openssl s_time -new"
for rep in $(seq 1 "$reps"); do
  for key in rsa-4096 ec-p256; do
   for signing in pool loop; do
    target="${port[warden-$key]}"
    [ "$signing" = loop ] && target="${loop_port[$key]}"
    for load in alone flood; do
      tpid=""
      if [ "$load" = flood ]; then
        openssl s_time -connect "127.0.0.1:$target" -new -time 12 >"$scratch/flood.out" 2>&1 &
        tpid=$!
        sleep 1
      fi
      out="$(wrk -t1 -c16 -d10s --latency -H 'Connection: keep-alive' "https://localhost:$target/health")"
      flood=""
      if [ -n "$tpid" ]; then
        wait "$tpid" || true
        flood="$(grep -oE '^[0-9]+ connections in [0-9]+ real' "$scratch/flood.out" | awk '{printf "  (flood: %.0f handshakes/s)", $1 / $4}')"
      fi
      printf 'rep %s  %-9s %-5s %-6s %8.0f req/s  p50 %-9s p99 %-9s%s\n' "$rep" "$key" "$signing" "$load" \
        "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
        "$(awk '$1 == "99%" {print $2}' <<<"$out")" "$flood"
    done
   done
  done
done
