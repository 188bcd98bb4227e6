#!/usr/bin/env bash
# Runs Warden's whole test suite on a fresh machine: installs what the tests use, builds, runs every test.
#
#   scripts/test.sh
#
# Needs Swift 6 on PATH and python3. Installs Python's `cryptography` (the interop tests' third-party
# implementation) when it is missing, and PostgreSQL (Debian's package) when it is missing; starts two
# private PostgreSQL servers for the store tests (one plaintext, one TLS only with a throwaway CA) and
# stops them at the end. Finds the shared test vectors in
# $WARDEN_VECTORS_DIR or beside the project in ../shared/vectors.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Python test tools"
if ! python3 -c 'import cryptography, jwt, pyotp, zxingcpp, segno, PIL, aiosmtpd, schemathesis, fido2, soft_webauthn, selenium, prometheus_client' 2>/dev/null; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
  fi
  python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages -r scripts/requirements-test.txt
fi
python3 -c 'import cryptography, jwt, pyotp, zxingcpp, segno, PIL, aiosmtpd, fido2, soft_webauthn, prometheus_client; print("cryptography", cryptography.__version__, "pyjwt", jwt.__version__, "segno", segno.__version__, "fido2", fido2.__version__)'

step "Test vectors"
if [ -z "${WARDEN_VECTORS_DIR:-}" ]; then
  for candidate in ../shared/vectors; do
    if [ -d "$candidate/wycheproof" ]; then WARDEN_VECTORS_DIR=$(cd "$candidate" && pwd); break; fi
  done
fi
if [ -z "${WARDEN_VECTORS_DIR:-}" ] || [ ! -d "$WARDEN_VECTORS_DIR/wycheproof" ]; then
  echo "error: test vectors not found; set WARDEN_VECTORS_DIR to the folder holding wycheproof/ and fernet/" >&2
  exit 1
fi
export WARDEN_VECTORS_DIR
echo "$WARDEN_VECTORS_DIR"

step "openssl"
# The TLS tests check handshakes with `openssl s_client`; the TLS-only PostgreSQL server's CA and
# certificates are made with `openssl req` and `openssl x509`.
if ! command -v openssl >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi
openssl version

step "PostgreSQL (plaintext, and TLS only)"
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop "$WARDEN_TEST_POSTGRES_DIR"' EXIT
eval "$(scripts/postgres.sh start-tls)"
trap 'scripts/postgres.sh stop "$WARDEN_TEST_POSTGRES_DIR"; scripts/postgres.sh stop "$WARDEN_TEST_POSTGRES_TLS_DIR"' EXIT
echo "$WARDEN_TEST_POSTGRES_URL"
echo "TLS only on ${WARDEN_TEST_POSTGRES_TLS_URL##*@} (CA $WARDEN_TEST_POSTGRES_TLS_CA)"

step "Redis"
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
redis-server --version
# The Redis Cluster tests join their nodes with redis-cli (Debian's redis-tools, which redis-server brings).
command -v redis-cli >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools >/dev/null; }
# Chromium and its WebDriver for the console's browser test (scripts/browser-test.sh drives them with
# Selenium, from requirements-test.txt).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
# The Redis tests start their own servers on free ports (they stop and restart them to test outages).

step "Style (swift format lint, the toolchain's, with the committed .swift-format)"
swift format lint --strict --parallel --recursive Sources Tests Examples Package.swift

step "Build (warnings are errors in Warden's targets: Package.swift)"
# Swift in debug (assertions, bounds and overflow checks on), C optimised: a debug build compiles
# BoringSSL at -O0, where one login's scrypt at production parameters took 1.3-4.5 s (0.5 s at -O2, as
# fast as Python's OpenSSL scrypt on the same machine) and the login timing test alone 6 min. The -O2
# comes after SwiftPM's -O0 on the C compiler's command line and wins; Swift's code is not affected.
swift build --build-tests -Xcc -O2

step "Tests"
# A crashing test must fail fast: the backtracer can otherwise hold the process for many minutes.
SWIFT_BACKTRACE=enable=no swift test --skip-build --skip LoginTimingTests --skip LoginTimingHTTPTests
# The timing comparisons run alone, one at a time: 370 other tests in parallel on two cores drown a 5-10%
# signal in noise. LoginTimingTests compares the refusals in the service (cheap scrypt), LoginTimingHTTPTests
# over a socket at production scrypt parameters (under a minute).
# Flush what the suite wrote first (the migration tests write large databases): a failed login writes and
# fsyncs, and must not wait behind the suite's writeback while an unknown name's refusal does not.
sync
SWIFT_BACKTRACE=enable=no swift test --skip-build --filter LoginTimingTests
SWIFT_BACKTRACE=enable=no swift test --skip-build --filter LoginTimingHTTPTests

step "API fuzzing (schemathesis against a live server; any 5xx fails)"
scripts/schemathesis.sh 25

step "Fuzz corpus replay"
"$(swift build --show-bin-path)/warden-fuzz" Fuzz/corpus

step "The web console in a real browser (headless Chromium, virtual WebAuthn authenticator)"
# Twice: on the embedded default as it starts (HTTPS with its self-signed certificate, accepted by the
# browser), and on plain HTTP on localhost (the documented way to try passkeys without trusting it).
WARDEN_BROWSER_TLS=1 scripts/browser-test.sh
scripts/browser-test.sh

step "Chaos (short): three nodes under load, faults Warden must survive, a history checker (docs/reliability.md)"
# libfaketime runs one node on a clock the harness can step; iproute2 gives tc for the slow link.
# Every fault of the one-Redis rotation in about 2.5 minutes: node kill, Redis pause, Redis rollback,
# PostgreSQL restart, a clock stepped ahead, a slow link (the full run, docs/reliability.md, adds the
# cluster faults, the clock stepped back and a clock step followed by a rollback).
if ! ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime libfaketime >/dev/null
fi
if ! command -v tc >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi
WARDEN_BIN="$(swift build --show-bin-path)/warden" scripts/chaos.sh --minutes 2.5 --redis single
