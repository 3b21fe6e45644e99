#!/usr/bin/env bash
# Builds the from-scratch image around the static botmox (packaging/Containerfile) and checks
# it: the image config (user, entrypoint, port, data volume) and its files (only /botmox and
# /data, 0700 and owned by the unprivileged user).
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
install -d -m 0700 "$ctx/rootfs/data"
cp packaging/Containerfile "$ctx/Containerfile"
engine="$(command -v podman || command -v docker || true)"
if [ -n "${CONTEXT_ONLY:-}" ] || [ -z "$engine" ]; then
  echo "build context ready in $ctx (no podman or docker here, or CONTEXT_ONLY set):"
  echo "  podman build -f $ctx/Containerfile -t $tag $ctx"
  exit 0
fi
"$engine" build -q -f "$ctx/Containerfile" -t "$tag" "$ctx" >/dev/null
rm -rf "$ctx"

fail() { echo "error: image $tag: $*" >&2; exit 1; }
config="$("$engine" image inspect "$tag" --format '{{json .Config}}')"
want='{"User":"65532:65532","Entrypoint":["/botmox"],"Cmd":["serve"],"Port":["8080/tcp","8081/tcp"],"Volume":["/data"],"DataDir":"BOTMOX_DATA_DIR=/data"}'
got="$(jq -c '{User, Entrypoint, Cmd, Port: (.ExposedPorts | keys), Volume: (.Volumes | keys),
  DataDir: (.Env | map(select(startswith("BOTMOX_DATA_DIR="))) | first)}' <<<"$config")"
[ "$got" = "$want" ] || fail "config is $got, expected $want"
# Its files, from a created (never started) container.
container="$("$engine" create "$tag")"
files="$("$engine" export "$container" | tar -tvf - | awk '{print $1, $2, $6}' | sort)"
"$engine" rm "$container" >/dev/null
want_files="$(printf '%s\n' 'drwx------ 65532/65532 data/' '-rwxr-xr-x 0/0 botmox' | sort)"
[ "$files" = "$want_files" ] || fail "files are:
$files
expected:
$want_files"
echo "image: $tag ($("$engine" image inspect "$tag" --format '{{.Size}}') bytes; /botmox and /data only, runs as 65532)"
