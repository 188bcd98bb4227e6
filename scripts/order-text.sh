#!/usr/bin/env bash
# Writes scripts/warden.order: the functions that `warden serve` runs to start and then to answer its
# common requests, in that order, for the release link to place together (`--symbol-ordering-file`,
# Package.swift `serverReleaseLinking`). Why: the kernel maps a binary's code in 64 KB windows around
# every page fault ("fault-around"), so start-up code spread over 40 MB of text kept 25 MB of it resident
# in an idle server (docs/benchmarks.md, "What the static binary maps").
#
#   scripts/order-text.sh        (root: it sets the disk's read-ahead to 0 while it runs)
#
# How: the release build (scripts/build-release.sh, every function in a section of its own) is copied and
# dropped from the page cache, the block device's read-ahead is set to 0 (restored on exit), and
# `warden serve` is started from the copy: a page of code then comes in only when it is executed, and
# fault-around can map only pages already read. The pages resident after start (plain HTTP, then TLS) and
# after a round of requests (health, login, listing, field encryption, refresh) are read from
# /proc/<pid>/pagemap. A page holds many small functions, so this first pass gives a superset; the second
# links the same objects with every candidate function followed by 4 KB of padding (a page to itself) and
# measures again, which names exactly the functions that ran. Names that no longer exist after later
# changes are skipped by the linker, and new code is placed after the list: run it again after large
# changes. The link command is SwiftPM's own, read from .build-release/release.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(scripts/build-release.sh)"
scratch="$(mktemp -d)"
device="$(lsblk -no PKNAME "$(df --output=source "$scratch" | tail -1)" 2>/dev/null || true)"
[ -n "$device" ] || device="$(basename "$(df --output=source "$scratch" | tail -1)")"
readahead="/sys/block/$device/queue/read_ahead_kb"
saved="$(cat "$readahead")"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  echo "$saved" > "$readahead"
  rm -rf "$scratch"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Writes the resident pages (file page numbers) of binary $1 in the running server to $2.
snapshot() {
  python3 - "$pid" "$1" "$2" <<'PY'
import struct, sys
pid, path, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
pages = set()
with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
    for line in open(f"/proc/{pid}/maps"):
        fields = line.split()
        if len(fields) < 6 or fields[5] != path:
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        offset = int(fields[2], 16)
        for address in range(start, end, 4096):
            pagemap.seek(address // 4096 * 8)
            if struct.unpack("<Q", pagemap.read(8))[0] >> 63:
                pages.add((offset + address - start) // 4096)
open(out, "w").write("\n".join(map(str, sorted(pages))))
PY
}

# Starts `serve` from binary $1, cold and without read-ahead, with its data in $2 and the arguments after
# those; sets $port and $pid, and waits until it listens and has settled.
start() {
  local binary="$1" data="$2"
  shift 2
  sync "$binary"
  dd if="$binary" iflag=nocache count=0 status=none
  echo 0 > "$readahead"
  port=$(free_port)
  WARDEN_DATA_DIR="$data" WARDEN_SCRYPT_LOG_N=10 "$binary" serve --port "$port" "$@" > "$scratch/log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do grep -q "listening on" "$scratch/log" && break; sleep 0.1; done
  sleep 6
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; echo "$saved" > "$readahead"; }

# Profiles binary $1 (a copy in the scratch directory): writes its resident pages after the plain start,
# the TLS start and the requests to $1.plain, $1.tls and $1.load.
profile() {
  local binary="$1" data="$1.data"
  echo 'correct horse battery staple' | WARDEN_DATA_DIR="$data" "$binary" users create order --password-stdin >/dev/null
  WARDEN_DATA_DIR="$data" "$binary" users grant order crypto_client >/dev/null
  start "$binary" "$data" --no-tls
  snapshot "$binary" "$binary.plain"
  stop
  start "$binary" "$data"
  snapshot "$binary" "$binary.tls"
  local url="https://localhost:$port" login access refresh
  for _ in $(seq 20); do curl -sk "$url/health" >/dev/null; curl -sk "$url/health/ready" >/dev/null; done
  for _ in $(seq 5); do
    login=$(curl -sk "$url/auth/login" -H 'Content-Type: application/json' \
      -d '{"username":"order","password":"correct horse battery staple"}')
    access=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' <<<"$login")
    refresh=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])' <<<"$login")
    for _ in $(seq 10); do curl -sk "$url/auth/sessions" -H "Authorization: Bearer $access" >/dev/null; done
    curl -sk "$url/v1/crypto/encrypt" -H "Authorization: Bearer $access" -H 'Content-Type: application/json' \
      -d '{"items":[{"context":"order/field/1","plaintext":"aGVsbG8="}]}' >/dev/null
    curl -sk "$url/auth/refresh" -H 'Content-Type: application/json' -d "{\"refresh_token\":\"$refresh\"}" >/dev/null
  done
  snapshot "$binary" "$binary.load"
  stop
}

# Prints the functions of binary $1 on its profiled pages: start-up's first (plain and TLS), then the
# requests', each group in address order.
functions() {
  nm --defined-only --print-size --no-demangle "$1" | python3 -c '
import re, subprocess, sys
binary = sys.argv[1]
sections = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True).stdout
delta = next(int(m.group(1), 16) - int(m.group(2), 16)
             for m in re.finditer(r"\]\s+\.text\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)", sections))
functions = []
for line in sys.stdin:
    fields = line.split()
    if len(fields) == 4 and fields[2] in "tTW" and int(fields[1], 16):
        functions.append((int(fields[0], 16) - delta, int(fields[1], 16), fields[3]))
functions.sort()
listed = set()
for group in ([".plain", ".tls"], [".load"]):
    pages = set()
    for suffix in group:
        pages |= {int(p) for p in open(binary + suffix).read().split()}
    for start, size, name in functions:
        if name not in listed and any(p in pages for p in range(start // 4096, (start + size - 1) // 4096 + 1)):
            listed.add(name)
            print(name)
' "$1"
}

# Pass 1: the release build as it is.
cp "$bin" "$scratch/warden"
profile "$scratch/warden"
functions "$scratch/warden" > "$scratch/candidates"
echo "pass 1: $(wc -l < "$scratch/candidates") functions on the pages that ran" >&2

# Pass 2: each candidate on pages of its own (4 KB of padding after it), linked as SwiftPM links.
python3 - "$scratch" <<'PY'
import sys
scratch = sys.argv[1]
names = open(f"{scratch}/candidates").read().split()
with open(f"{scratch}/pads.s", "w") as pads, open(f"{scratch}/padded.order", "w") as order:
    for n, name in enumerate(names):
        pads.write(f'.section .text.warden_order_pad{n},"axR",@progbits\n.hidden warden_order_pad{n}\n'
                   f'.globl warden_order_pad{n}\nwarden_order_pad{n}:\n.zero 4096\n')
        order.write(f"{name}\nwarden_order_pad{n}\n")
PY
clang -c "$scratch/pads.s" -o "$scratch/pads.o"
python3 - "$scratch" <<'PY'
import json, re, subprocess, sys
scratch = sys.argv[1]
manifest = open(".build-release/release.yaml").read()
block = manifest[manifest.index('"C.warden-x86_64-unknown-linux-gnu-release.exe"'):]
args = json.loads(re.search(r"^\s*args: (\[.*\])$", block, re.M).group(1))
# Without the committed order (its flags and their -Xlinker): the padded one replaces it.
cleaned = []
for i, arg in enumerate(args):
    if "symbol-ordering" in arg or (arg == "-Xlinker" and i + 1 < len(args) and "symbol-ordering" in args[i + 1]):
        continue
    cleaned.append(arg)
cleaned[cleaned.index("-o") + 1] = f"{scratch}/padded"
cleaned += [f"{scratch}/pads.o", "-Xlinker", f"--symbol-ordering-file={scratch}/padded.order",
            "-Xlinker", "--no-warn-symbol-ordering"]
subprocess.run(cleaned, check=True)
PY
profile "$scratch/padded"
functions "$scratch/padded" > scripts/warden.order
echo "pass 2: scripts/warden.order, $(wc -l < scripts/warden.order) functions that ran" >&2
