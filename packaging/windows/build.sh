#!/usr/bin/env bash
# Cross-compiles the Windows agent from Linux and builds its installer.
#
#   apt-get install mingw-w64 nsis && rustup target add x86_64-pc-windows-gnu
#   packaging/windows/build.sh
#
# Output, in $CARGO_TARGET_DIR/cross-windows/windows-dist/ (printed at the end):
#   botmox-agent.exe                          the agent (static CRT: needs no DLL beside it)
#   BotMox-Agent-Setup-<version>.exe          the NSIS installer
#   wine-test/bcryptprimitives.dll            ProcessPrng shim, only for running under wine
#   wine-test/idle-baseline.exe               the smoke test's memory floor (idle-baseline.c)
# Set CARGO_FEATURES to pass --features to the agent build (default: its default features).
set -euo pipefail
cd "$(dirname "$0")/../.."
triple=x86_64-pc-windows-gnu
for tool in x86_64-w64-mingw32-gcc makensis; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found: apt-get install mingw-w64 nsis" >&2; exit 1; }
done
rustup target list --installed 2>/dev/null | grep -qx "$triple" || rustup target add "$triple"

# Its own build directory under the shared one: a cross build never waits for the host build's
# lock, and keeps its build scripts apart.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/cross-windows"
target_dir="$CARGO_TARGET_DIR"
dist="$target_dir/windows-dist"
mkdir -p "$dist/wine-test"

# The CRT and libgcc linked in statically, so the .exe runs without mingw DLLs beside it.
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS="-C target-feature=+crt-static"
features=()
[ -n "${CARGO_FEATURES:-}" ] && features=(--features "$CARGO_FEATURES")
cargo build --release --locked --target "$triple" -p botmox-agent "${features[@]}"
exe="$target_dir/$triple/release/botmox-agent.exe"
install -m 0755 "$exe" "$dist/botmox-agent.exe"

# Which DLLs it imports: system DLLs only.
imports="$(x86_64-w64-mingw32-objdump -p "$dist/botmox-agent.exe" | sed -n 's/^\s*DLL Name: //p' | sort -u)"
echo "imports: $(echo $imports)"
if grep -Eiq '^(libgcc|libwinpthread|libstdc)' <<<"$imports"; then
  echo "error: botmox-agent.exe needs mingw runtime DLLs; it must be self-contained" >&2
  exit 1
fi

x86_64-w64-mingw32-gcc -O2 -shared -s -o "$dist/wine-test/bcryptprimitives.dll" \
  packaging/windows/processprng-shim.c packaging/windows/processprng-shim.def -ladvapi32
x86_64-w64-mingw32-gcc -O2 -s -o "$dist/wine-test/idle-baseline.exe" packaging/windows/idle-baseline.c \
  -luser32 -lgdi32 -lcomctl32 -lshell32 -lws2_32 -lbcrypt -lcrypt32 -loleaut32 -ladvapi32

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
makensis -V2 -DVERSION="$version" -DEXE="$(realpath "$dist/botmox-agent.exe")" \
  -DOUTFILE="$(realpath "$dist")/BotMox-Agent-Setup-$version.exe" \
  -DICON="$(realpath assets/agent/botmox-agent.ico)" \
  packaging/windows/installer.nsi

size() { stat -c %s "$1"; }
echo "agent: $dist/botmox-agent.exe ($(size "$dist/botmox-agent.exe") bytes)"
echo "installer: $dist/BotMox-Agent-Setup-$version.exe ($(size "$dist/BotMox-Agent-Setup-$version.exe") bytes)"
if [ "$(size "$dist/botmox-agent.exe")" -ge $((15 * 1024 * 1024)) ]; then
  echo "error: botmox-agent.exe is over the 15 MB budget" >&2
  exit 1
fi
