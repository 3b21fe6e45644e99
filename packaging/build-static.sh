#!/usr/bin/env bash
# Builds a statically linked botmox (glibc, crt-static) for x86_64/aarch64 Linux.
# Output: $CARGO_TARGET_DIR/<triple>/release/botmox (path printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
triple="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
cargo build --release --locked --target "$triple" -p botmox
bin="${CARGO_TARGET_DIR:-target}/$triple/release/botmox"
if file "$bin" | grep -Eq 'statically linked|static-pie linked'; then
  echo "static binary: $bin ($(du -h "$bin" | cut -f1))"
else
  echo "error: $bin is not statically linked:" >&2
  file "$bin" >&2
  exit 1
fi
