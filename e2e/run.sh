#!/usr/bin/env bash
# Runs the browser tests of the web UI.
#
#   BOTMOX_BIN=/path/to/botmox e2e/run.sh
#
# Without BOTMOX_BIN it uses target/release/botmox or target/debug/botmox of
# this repository (whichever is newer); it never builds the server itself.
# Needs Debian's chromium (installed here with apt-get when missing and root).
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

CHROMIUM="${BOTMOX_E2E_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "e2e: installing chromium with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "e2e: no chromium at $CHROMIUM (apt-get install -y chromium)" >&2
    exit 1
  fi
fi

if [ -z "${BOTMOX_BIN:-}" ] && [ -z "${BOTMOX_E2E_BASE_URL:-}" ]; then
  for candidate in ../target/release/botmox ../target/debug/botmox; do
    if [ -x "$candidate" ] && { [ -z "${BOTMOX_BIN:-}" ] || [ "$candidate" -nt "$BOTMOX_BIN" ]; }; then
      BOTMOX_BIN="$(cd "$(dirname "$candidate")" && pwd)/$(basename "$candidate")"
    fi
  done
  if [ -z "${BOTMOX_BIN:-}" ]; then
    echo "e2e: no server binary; build it (cargo build) or set BOTMOX_BIN" >&2
    exit 1
  fi
  export BOTMOX_BIN
fi

# Every *.test.mjs file; node runs them in parallel, each with its own server.
exec node --test ./*.test.mjs "$@"
