#!/usr/bin/env bash
# The web console in a real browser: starts `warden serve` on the embedded default (SQLite, open
# registration) with an operator account, and runs Tests/Browser/console_browser.py in headless Chromium
# with its virtual WebAuthn authenticator, then Tests/Browser/passkey_api.py (the passkey JSON routes with a
# software authenticator) against the same server.
#
#   scripts/browser-test.sh [screenshot-dir]
#
# Plain HTTP on localhost by default (a secure context for cookies and passkeys, no certificate involved);
# WARDEN_BROWSER_TLS=1 serves HTTPS with the generated self-signed certificate, as `warden serve` starts,
# and tells Chromium to accept it.
#
# Installs Debian's chromium and chromium-driver and PyPI's selenium and pyotp when they are missing. With a
# screenshot directory (docs/console to refresh the documentation's), every page is saved there as PNG.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! python3 -c 'import selenium, pyotp' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check selenium pyotp \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages selenium pyotp
fi
chromium --version

BIN=$(swift build --show-bin-path)
[ -x "$BIN/warden" ] || swift build --product warden
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
OPERATOR_PASSWORD="security desk passphrase $(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
printf '%s\n' "$OPERATOR_PASSWORD" | "$BIN/warden" users create --data-dir "$DATA" operator --password-stdin >/dev/null
"$BIN/warden" users grant --data-dir "$DATA" operator security_admin >/dev/null

if [ "${WARDEN_BROWSER_TLS:-}" = 1 ]; then
  # The embedded default as it starts: HTTPS with the generated self-signed certificate, and the browser
  # told to accept it (as a person clicking through the warning would).
  SCHEME=https
  WARDEN_REGISTRATION=open WARDEN_LOG_LEVEL=warning "$BIN/warden" serve --host 127.0.0.1 --port "$PORT" --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
else
  SCHEME=http
  WARDEN_REGISTRATION=open WARDEN_WEBAUTHN_ORIGINS="http://localhost:$PORT" WARDEN_LOG_LEVEL=warning \
    "$BIN/warden" serve --no-tls --host 127.0.0.1 --port "$PORT" --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
fi
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do
  curl -kfsS "$SCHEME://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.2
done

SHOTS=()
if [ $# -ge 1 ]; then SHOTS=(--screenshots "$1"); fi
if ! python3 Tests/Browser/console_browser.py "$SCHEME://localhost:$PORT" operator "$OPERATOR_PASSWORD" --outbox "$DATA/outbox.jsonl" "${SHOTS[@]}"; then
  echo "--- server log" >&2
  tail -50 "$DATA/server.log" >&2
  exit 1
fi
# Then passkeys through the JSON API on the same server: soft-webauthn as the authenticator, python-fido2 as a
# second verifier, forgeries and replays refused, exactly one of 20 concurrent sign-ins.
if ! python3 -c 'import soft_webauthn, fido2' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check fido2==1.2.0 soft-webauthn==0.1.4 \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages fido2==1.2.0 soft-webauthn==0.1.4
fi
if ! python3 Tests/Browser/passkey_api.py "$SCHEME://localhost:$PORT" operator "$OPERATOR_PASSWORD"; then
  echo "--- server log" >&2
  tail -50 "$DATA/server.log" >&2
  exit 1
fi
