#!/usr/bin/env bash
# Migrates N rows of mixed legacy values with `warden migrate run` (release build) on SQLite and on
# PostgreSQL, and prints rows/s and peak RSS.
#
#   scripts/migrate-bench.sh [rows] [sqlite|postgres|both]     (default 1000000 both)
#
# The rows (table legacy_values(id, value)) are written by Python's `cryptography` as the original
# wrote them: 80% raw-key Fernet, 15% digital-twin Fernet (PBKDF2-derived key, JSON wrapper), 2% AES-GCM
# JSON envelopes under two key versions (each version's key is derived once, as PBKDF2 allows no less),
# 2% plaintext, 1% NULL. Each run starts from a fresh Warden data directory and a fresh backup.
# Environment: WARDEN_BENCH_BIN (default .build/release/warden, built if missing), WARDEN_BENCH_KEEP=1
# keeps the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
which=${2:-both}
bin=${WARDEN_BENCH_BIN:-$(scripts/build-release.sh)}
scratch=$(mktemp -d)
[ "${WARDEN_BENCH_KEEP:-}" = 1 ] || trap 'rm -rf "$scratch"; [ -n "${pgdir:-}" ] && scripts/postgres.sh stop "$pgdir" >/dev/null 2>&1 || true' EXIT

echo "== generating $rows rows" >&2
python3 - "$scratch" "$rows" <<'EOF'
import base64, hashlib, json, os, random, sqlite3, sys, time
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
out, rows = sys.argv[1], int(sys.argv[2])
raw = os.urandom(32)
master = os.urandom(32)
text_key = base64.b64encode(raw).decode()
fernet = Fernet(base64.urlsafe_b64encode(raw))
twin = Fernet(base64.urlsafe_b64encode(hashlib.pbkdf2_hmac("sha256", raw, b"digital_twin_salt_aivillage_2025", 100000, 32)))
versions = ["v_20260901_101010_0a1b2c3d", "v_20261001_101010_4e5f6a7b"]
keys = {v: AESGCM(hashlib.pbkdf2_hmac("sha256", master, (v + "digital_twin_salt").encode(), 100000, 32)) for v in versions}
db = sqlite3.connect(os.path.join(out, "app.db"))
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE legacy_values (id INTEGER PRIMARY KEY, value BLOB)")
csv = open(os.path.join(out, "values.csv"), "w")
rng = random.Random(5)
batch = []
start = time.time()
for i in range(1, rows + 1):
    kind = i % 100
    plain = f"value {i} {'x' * (i % 40)}"
    if kind < 80:
        value = fernet.encrypt(plain.encode())
    elif kind < 95:
        value = twin.encrypt(json.dumps({"data": plain, "meta": {"field": "f", "encrypted_at": "2026-06-30T02:55:22.275692",
                                                                   "compliance_flags": {"coppa": True, "ferpa": True, "gdpr": True}}}).encode())
    elif kind < 97:
        v = versions[i % 2]
        nonce = os.urandom(12)
        sealed = keys[v].encrypt(nonce, plain.encode(), None)
        value = json.dumps({"version": v, "iv": base64.b64encode(nonce).decode(), "tag": base64.b64encode(sealed[-16:]).decode(),
                            "data": base64.b64encode(sealed[:-16]).decode(), "algorithm": "AES-256-GCM"}).encode()
    elif kind < 99:
        value = plain.encode()
    else:
        value = None
    batch.append((i, value))
    cell = "" if value is None else "\\x" + value.hex()
    csv.write(f"{i},{cell}\n")
    if len(batch) == 10000:
        db.executemany("INSERT INTO legacy_values VALUES (?, ?)", batch)
        batch = []
db.executemany("INSERT INTO legacy_values VALUES (?, ?)", batch)
db.commit()
db.close()
csv.close()
json.dump({"DIGITAL_TWIN_ENCRYPTION_KEY": text_key, "DIGITAL_TWIN_MASTER_KEY": base64.urlsafe_b64encode(master).decode()},
          open(os.path.join(out, "keys.json"), "w"))
print(f"generated in {time.time() - start:.0f} s", file=sys.stderr)
EOF
export DIGITAL_TWIN_ENCRYPTION_KEY DIGITAL_TWIN_MASTER_KEY
DIGITAL_TWIN_ENCRYPTION_KEY=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['DIGITAL_TWIN_ENCRYPTION_KEY'])" "$scratch/keys.json")
DIGITAL_TWIN_MASTER_KEY=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['DIGITAL_TWIN_MASTER_KEY'])" "$scratch/keys.json")

measure() { # label, then the warden arguments
  local label=$1; shift
  local data="$scratch/warden-$label"
  /usr/bin/time -f '%e %M' -o "$scratch/time-$label" env WARDEN_DATA_DIR="$data" "$bin" migrate run "$@" --backup-dir "$scratch/backup-$label" --quiet --json >"$scratch/report-$label.json"
  read -r seconds kilobytes <"$scratch/time-$label"
  python3 - "$label" "$rows" "$seconds" "$kilobytes" "$scratch/report-$label.json" <<'EOF'
import json, sys
label, rows, seconds, kb, path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
report = json.load(open(path))
rewritten = sum(c["rewritten"] for c in report["columns"])
assert report["ok"], report
print(f"{label}: {rows} rows ({rewritten} rewritten) in {seconds:.1f} s = {rows / seconds:,.0f} rows/s "
      f"(backup, rewrite and count included); peak RSS {kb / 1024:.0f} MB")
EOF
  env WARDEN_DATA_DIR="$data" "$bin" migrate verify "$@" --quiet --json >"$scratch/verify-$label.json" \
    || { echo "verify failed for $label" >&2; exit 1; }
}

if [ "$which" = sqlite ] || [ "$which" = both ]; then
  measure sqlite --database "$scratch/app.db" --column legacy_values.value
fi
if [ "$which" = postgres ] || [ "$which" = both ]; then
  eval "$(scripts/postgres.sh start)"
  pgdir=$WARDEN_TEST_POSTGRES_DIR
  psql -q "$WARDEN_TEST_POSTGRES_URL" -c "CREATE TABLE legacy_values (id BIGINT PRIMARY KEY, value BYTEA)" \
    -c "\\copy legacy_values FROM '$scratch/values.csv' WITH (FORMAT csv)"
  measure postgres --database "$WARDEN_TEST_POSTGRES_URL" --column legacy_values.value
fi
