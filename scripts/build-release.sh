#!/usr/bin/env bash
# Builds the production binary and prints its path:
#
#   scripts/build-release.sh [product]        (default: warden; also warden-bench)
#
# A release build with the Swift runtime and Foundation linked in (--static-swift-stdlib: the host needs
# only glibc 2.36 or later, libstdc++ and zlib), every function in a section of its own
# (-function-sections for Swift, -ffunction-sections for C), so that the link can drop what is unused and
# place the code that start-up and the common requests run together (scripts/warden.order, Package.swift
# `releaseLinking`). Its own scratch directory (.build-release): these flags differ from a plain
# `swift build -c release`, and sharing .build would rebuild everything at each switch.
set -euo pipefail
cd "$(dirname "$0")/.."
product="${1:-warden}"
flags=(-c release --static-swift-stdlib --scratch-path .build-release
  -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections)
# SwiftPM does not know the link reads scripts/warden.order: relink when the order is newer.
built="$(swift build "${flags[@]}" --show-bin-path)/$product"
if [ "$product" = warden ] && [ -e "$built" ] && [ scripts/warden.order -nt "$built" ]; then rm -f "$built"; fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
swift build "${flags[@]}" --product "$product" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
echo "$built"
