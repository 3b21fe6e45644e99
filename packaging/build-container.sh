#!/usr/bin/env bash
# Builds the from-scratch image around the static botmox (packaging/Containerfile).
#   packaging/build-container.sh [TAG]        # default tag: botmox:<version>
# Uses podman, else docker; with neither (or CONTEXT_ONLY=1) it only prepares the build
# context and prints where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-musl/release/botmox"
[ -x "$bin" ] || bash packaging/build-static.sh
version="$("$bin" --version | awk '{print $2}')"
tag="${1:-botmox:$version}"
ctx="$(mktemp -d)"
install -m 0755 "$bin" "$ctx/botmox"
install -d -m 0700 "$ctx/data"
cp packaging/Containerfile "$ctx/Containerfile"
engine="$(command -v podman || command -v docker || true)"
if [ -n "${CONTEXT_ONLY:-}" ] || [ -z "$engine" ]; then
  echo "build context ready in $ctx (no podman or docker here, or CONTEXT_ONLY set):"
  echo "  podman build -f $ctx/Containerfile -t $tag $ctx"
  exit 0
fi
"$engine" build -f "$ctx/Containerfile" -t "$tag" "$ctx"
rm -rf "$ctx"
echo "image: $tag"
