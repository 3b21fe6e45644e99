#!/usr/bin/env bash
# Builds a fully static botmox for x86_64 Linux against musl (Debian's musl-tools), then checks
# that it really is static: `file` must say "statically linked" and `ldd` must say
# "not a dynamic executable", and the binary must run with an empty environment and PATH.
#
#   rustup target add x86_64-unknown-linux-musl && apt-get install musl-tools
#   packaging/build-static.sh            # prints the path of the binary at the end
#
# Output: $CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/botmox
# Set BOTMOX_STATIC_COPY_TO=DIR to also copy it there (e.g. for the container build).
set -euo pipefail
cd "$(dirname "$0")/.."
triple=x86_64-unknown-linux-musl
command -v musl-gcc >/dev/null || { echo "error: musl-gcc not found: apt-get install musl-tools" >&2; exit 1; }
rustup target list --installed 2>/dev/null | grep -qx "$triple" || rustup target add "$triple"

# C dependencies (bundled SQLite, ring) are compiled with musl-gcc; the Rust side links them
# statically with musl's self-contained CRT.
export CC_x86_64_unknown_linux_musl=musl-gcc
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER="${CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER:-cc}"
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=+crt-static"
cargo build --release --locked --target "$triple" -p botmox

bin="${CARGO_TARGET_DIR:-target}/$triple/release/botmox"
file_out="$(file -b "$bin")"
ldd_out="$(ldd "$bin" 2>&1 || true)"
if ! grep -Eq 'statically linked|static-pie linked' <<<"$file_out"; then
  echo "error: $bin is not statically linked: $file_out" >&2
  exit 1
fi
if ! grep -Eq 'not a dynamic executable|statically linked' <<<"$ldd_out"; then
  echo "error: ldd lists shared libraries for $bin:" >&2
  echo "$ldd_out" >&2
  exit 1
fi
# Runs on a clean path: no PATH, no environment, from an empty directory.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp "$bin" "$scratch/botmox"
version="$(cd "$scratch" && env -i ./botmox --version)"
echo "file: $file_out"
echo "ldd: $ldd_out"
echo "runs with an empty environment: $version"
size=$(stat -c %s "$bin")
echo "static binary: $bin ($((size / 1024 / 1024)) MiB, $size bytes)"
if [ "$size" -ge $((40 * 1024 * 1024)) ]; then
  echo "error: the static server is over the 40 MB budget" >&2
  exit 1
fi
if [ -n "${BOTMOX_STATIC_COPY_TO:-}" ]; then
  install -m 0755 "$bin" "$BOTMOX_STATIC_COPY_TO/botmox"
  echo "copied to $BOTMOX_STATIC_COPY_TO/botmox"
fi
