#!/usr/bin/env bash
# Type-checks and lints botmox-agent for macOS (aarch64-apple-darwin) from Linux:
# `cargo clippy -D warnings` (which type-checks as `cargo check` does) over all targets with the
# default features, so the macOS-only code (the menu-bar tray in agent/src/tray/macos.rs, the
# Keychain, the LaunchAgent and the other `target_os = "macos"` branches) compiles and is
# lint-clean.
#
# What it cannot prove: there is no macOS SDK here, so nothing is linked and nothing runs.
# The objc2/AppKit calls are checked against their Rust bindings, not against a real AppKit,
# and whether the icon shows and the menu answers needs a Mac.
#
# The one C dependency, ring, is compiled for real by its build script (check runs build
# scripts). Without the SDK's libc headers it uses ring's own sysroot-less mode (clang's
# builtin stdint/stddef, `-nostdlibinc`, RING_CORE_NOSTDLIBINC) plus a stand-in for the SDK's
# TargetConditionals.h in stub-include/. Those objects are thrown away; no Mac build uses them.
#
# Needs: clang and llvm-ar (Debian: apt-get install -y clang llvm), and
# `rustup target add aarch64-apple-darwin`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/botmox-target}"
target=aarch64-apple-darwin

missing() {
  echo "error: $1 is missing; on Debian: apt-get install -y clang llvm" >&2
  exit 1
}
command -v clang >/dev/null || missing clang
command -v llvm-ar >/dev/null || missing llvm-ar
rustup target list --installed | grep -qx "$target" || {
  echo "error: the $target target is missing: rustup target add $target" >&2
  exit 1
}

export CC_aarch64_apple_darwin=clang
export AR_aarch64_apple_darwin=llvm-ar
export CFLAGS_aarch64_apple_darwin="-nostdlibinc -DRING_CORE_NOSTDLIBINC=1 -I$here/stub-include"

# clippy type-checks everything `cargo check` would, then lints it.
cargo clippy -p botmox-agent --target "$target" --all-targets --locked -- -D warnings
echo "botmox-agent type-checks and is clippy-clean for $target (not linked: no macOS SDK)"
