#!/usr/bin/env bash
# Fuzzes the parsers Warden owns (envelopes, base64 strict and legacy-lenient, Fernet tokens, legacy JSON, RESP, SMTP replies, WebAuthn CBOR and ceremonies) with libFuzzer.
#
#   scripts/fuzz.sh [seconds]     default 60
#
# Builds the `warden-fuzz` target with -sanitize=fuzzer into .build-fuzz, then runs it over a copy of
# Fuzz/corpus (linked with lld: gold fails on the fuzzer runtime). Inputs that crash are written to Fuzz/crashes/; add them to Fuzz/corpus once fixed so the
# test suite replays them. The fuzz entries reach the parsers through `@testable import` (they are not
# part of the production modules), so the release build enables testing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
swift build -c release --product warden-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -DWARDEN_LIBFUZZER -Xswiftc -use-ld=lld -Xswiftc -enable-testing
work=$(mktemp -d)
cp Fuzz/corpus/* "$work"/
mkdir -p Fuzz/crashes
.build-fuzz/release/warden-fuzz "$work" -max_total_time="$seconds" -max_len=4096 -artifact_prefix=Fuzz/crashes/ -print_final_stats=1
rm -rf "$work"
