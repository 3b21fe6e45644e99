#!/usr/bin/env bash
# Fuzzes the real server from its own OpenAPI document with Schemathesis: an admin signs in
# and every operation (except those that end that admin's session) is called with generated
# input. Any server error, or any answer the document does not describe (status, content type,
# schema), fails the run. Builds nothing: it runs $CARGO_TARGET_DIR/debug/botmox.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
config="$root/tests/fuzz/schemathesis.toml"
bin="${BOTMOX_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/botmox}"
venv="${SCHEMATHESIS_VENV:-$HOME/.cache/botmox-schemathesis}"
st="$venv/bin/schemathesis"
[ -x "$st" ] || { echo "schemathesis is not installed in $venv (see .ci/run)" >&2; exit 1; }
[ -x "$bin" ] || { echo "no server binary at $bin: cargo build -p botmox first" >&2; exit 1; }

work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "${SCHEMATHESIS_SERVER_LOG:-}" ] && cp "$work/log" "$SCHEMATHESIS_SERVER_LOG"
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" --data-dir "$work/data" serve --listen 127.0.0.1:0 --gateway-listen 127.0.0.1:0 --log-format text --log info 2>"$work/log" &
server=$!
base=""
for _ in $(seq 300); do
  base="$(grep -o 'listening on http://[^ ]*' "$work/log" | head -n1 | sed 's/listening on //' || true)"
  [ -n "$base" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "the server did not start" >&2; cat "$work/log" >&2; exit 1; }
setup_token="$(grep -o 'setup URL: [^ ]*' "$work/log" | head -n1 | sed 's/.*token=//')"
token="$(curl -sf "$base/api/v1/auth/setup" -H 'content-type: application/json' \
  -d "{\"token\":\"$setup_token\",\"email\":\"fuzz@example.com\",\"password\":\"fuzzing admin password\"}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')"

started=$SECONDS
# Excluded: the operations that end the fuzzing admin's own session or identity.
# From the temporary directory: Schemathesis keeps a cache in the working directory.
(cd "$work" && "$st" --config-file "$config" run "$base/api/v1/openapi.json" \
  --url "$base" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases "${SCHEMATHESIS_PHASES:-examples,coverage,fuzzing,stateful}" \
  ${SCHEMATHESIS_MAX_EXAMPLES:+--max-examples "$SCHEMATHESIS_MAX_EXAMPLES"} \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 2 \
  --exclude-path /api/v1/auth/logout \
  --exclude-path /api/v1/auth/password \
  --exclude-path '/api/v1/auth/sessions/{id}' \
  --exclude-path '/api/v1/admin/users/{id}/sessions' \
  "$@")
# A run that lost its session partway would pass while testing little but 401s.
status="$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/auth/whoami" -H "Authorization: Bearer $token")"
[ "$status" = 200 ] || { echo "the fuzzing admin's session ended during the run (whoami: $status)" >&2; exit 1; }
echo "schemathesis passed in $((SECONDS - started)) s"
