#!/usr/bin/env bash
# Runs the cross-compiled Windows agent under wine against a real server on loopback:
#   1. `botmox-agent.exe --version`;
#   2. a headless `pair CODE --server http://127.0.0.1:PORT` (a pairing made through the API);
#   3. `run --heartbeat-secs 1` until the server API shows the agent online, with a
#      `last_seen_at` newer than its pairing (one heartbeat) and platform "windows";
#   4. `autostart on|status|off` and `register-scheme` as seen in wine's registry;
#   5. `tray` on wine's virtual desktop (Xvfb): its icon shows in the notification area in the
#      "online" colour; then a second `tray` hands over to the first and exits 0;
#   6. `service install --pair CODE` (the Windows service, run by wine's service manager): the
#      service's agent comes online with its token moved from the install's file into the
#      Credential Manager, the tray switches to showing the service's state, then
#      `service stop` and `service uninstall`, and the tray runs its own link again;
#   7. `service install` with no arguments takes over a user's pairing from the default
#      config dir (Credential Manager) into LocalSystem's, and comes online.
#
#   packaging/windows/build.sh && packaging/windows/smoke-test.sh
#
# BOTMOX_BIN: the server binary (default: the static musl build, else the release build).
# Needs wine (Debian's wine + wine64), curl, jq, python3 and for step 5 Xvfb and xwd (Debian's
# xvfb and x11-apps). Debian's wine lacks bcryptprimitives.dll, so the ProcessPrng shim that
# build.sh makes goes into the prefix's system32 (the service runs a copy of the .exe from
# Program Files, which needs it too).
set -euo pipefail
cd "$(dirname "$0")/../.."
target_dir="${CARGO_TARGET_DIR:-target}"
dist="$target_dir/cross-windows/windows-dist"
server_bin="${BOTMOX_BIN:-}"
if [ -z "$server_bin" ]; then
  for candidate in "$target_dir/x86_64-unknown-linux-musl/release/botmox" "$target_dir/release/botmox"; do
    [ -x "$candidate" ] && { server_bin="$candidate"; break; }
  done
fi
[ -x "$server_bin" ] || { echo "error: no server binary; set BOTMOX_BIN" >&2; exit 1; }
[ -f "$dist/botmox-agent.exe" ] || { echo "error: run packaging/windows/build.sh first" >&2; exit 1; }
for tool in wine curl jq python3 Xvfb xwd; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install wine wine64 curl jq python3 xvfb x11-apps)" >&2; exit 1; }
done

work="$(mktemp -d)"
server_pid=""
agent_pid=""
xvfb_pid=""
cleanup() {
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  WINEPREFIX="$work/prefix" wineserver -k 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "smoke test FAILED: $*" >&2
  for f in "$work/server.log" "$work/agent-run.log" "$work/cfg/agent.log" "$work/svc/agent.log"; do
    [ -f "$f" ] && { echo "--- $f (last 40 lines)" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}

mkdir -p "$work/app" "$work/cfg"
cp "$dist/botmox-agent.exe" "$work/app/"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
unset DISPLAY
# Z: is the Linux root in every wine prefix.
export BOTMOX_AGENT_CONFIG_DIR="Z:${work//\//\\}\\cfg"
agent() { timeout 120 wine "$work/app/botmox-agent.exe" "$@"; }

echo "wine: $(wine --version); preparing a prefix"
timeout 300 wineboot --init >/dev/null 2>&1 || true
cp "$dist/wine-test/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
# Then one wineserver for the whole test: wine's service manager keeps installed services only
# while it runs, and the first boot of a prefix leaves two service managers that each see half
# of the services.
wineserver -k
wineserver -w
wineserver -p

version="$(agent --version 2>"$work/version.err" | tr -d '\r')" || { cat "$work/version.err" >&2; fail "--version did not run"; }
echo "1. $version"
[[ "$version" == botmox-agent\ * ]] || fail "unexpected --version output: $version"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)"
base="http://127.0.0.1:$port"
export BOTMOX_DATA_DIR="$work/data"
email=smoke@botmox.local
password='smoke-test-password-1'
"$server_bin" admin create-user --email "$email" --password "$password" --role admin >/dev/null
BOTMOX_LISTEN="127.0.0.1:$port" BOTMOX_LOG=warn "$server_bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS "$base/api/v1/health/ready" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited"
  sleep 0.2
done
token="$(curl -fsS "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | jq -r .data.token)"
[ -n "$token" ] && [ "$token" != null ] || fail "cannot sign in"
api() { curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
code="$(api -X POST "$base/api/v1/agents/pairings" -d '{"name":"wine-smoke"}' | jq -r .data.pairing_code)"
[ -n "$code" ] && [ "$code" != null ] || fail "cannot create a pairing"

agent pair "$code" --server "$base" >"$work/pair.log" 2>&1 || { cat "$work/pair.log" >&2; fail "pair failed"; }
echo "2. $(tr -d '\r' <"$work/pair.log" | head -n1)"
agent_id="$(jq -r .agent_id "$work/cfg/config.json")"
[ -n "$agent_id" ] && [ "$agent_id" != null ] || fail "config.json has no agent_id"
paired_seen="$(api "$base/api/v1/agents/$agent_id" | jq -r .data.last_seen_at)"

wine "$work/app/botmox-agent.exe" run --heartbeat-secs 1 >"$work/agent-run.log" 2>&1 &
agent_pid=$!
seen=""
for _ in $(seq 120); do
  agent_json="$(api "$base/api/v1/agents/$agent_id")"
  if [ "$(jq -r .data.online <<<"$agent_json")" = true ] \
     && [ "$(jq -r .data.last_seen_at <<<"$agent_json")" != "$paired_seen" ]; then
    seen="$agent_json"
    break
  fi
  kill -0 "$agent_pid" 2>/dev/null || fail "the agent exited"
  sleep 0.5
done
[ -n "$seen" ] || fail "no heartbeat from the agent within 60 s"
platform="$(jq -r .data.platform <<<"$seen")"
[ "$platform" = windows ] || fail "the agent reports platform '$platform', not windows"
echo "3. online: agent $agent_id, platform $platform, last_seen_at $(jq -r .data.last_seen_at <<<"$seen") (paired at $paired_seen)"
# Idle memory: the agent after 5 s online, beside wine's floor for a process that imports the
# same DLLs and waits (idle-baseline.exe); the difference estimates the agent's own share.
cp "$dist/wine-test/idle-baseline.exe" "$work/app/"
wine "$work/app/idle-baseline.exe" >/dev/null 2>&1 &
sleep 5
rss_kb() { for pid in $(pgrep -f "$1"); do awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; done | sort -n | tail -n1; }
agent_kb="$(rss_kb 'botmox-agent.exe run')"
floor_kb="$(rss_kb 'idle-baseline.exe')"
pkill -f 'idle-baseline.exe' || true
[ -n "$agent_kb" ] && [ -n "$floor_kb" ] || fail "cannot read the idle memory (agent: '$agent_kb' kB, baseline: '$floor_kb' kB)"
echo "idle RSS under wine: agent $((agent_kb / 1024)) MiB ($agent_kb kB), wine's floor with the same imports $((floor_kb / 1024)) MiB ($floor_kb kB); the agent's own share ~ $(((agent_kb - floor_kb) / 1024)) MiB"
echo "secrets kept in the OS keyring (wine's Credential Manager): $(jq -c '.in_keyring // []' "$work/cfg/secrets.json")"
echo "state.json: $(jq -c '{status, message}' "$work/cfg/state.json" 2>/dev/null || echo none)"

# 4. Start at login and the botmox:// scheme, as the tray writes them (wine's HKCU).
reg_value() { wine reg query "$1" "${@:2}" 2>/dev/null | tr -d '\r' | sed -n 's/.*REG_SZ *//p'; }
run_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
agent autostart on >"$work/autostart.log" 2>&1 || { cat "$work/autostart.log" >&2; fail "autostart on failed"; }
run_value="$(reg_value "$run_key" /v BotMoxAgent)"
[[ "$run_value" == \"*'botmox-agent.exe"'*' tray' ]] || fail "unexpected Run value: '$run_value'"
[[ "$(agent autostart status | tr -d '\r')" == "Start at login: on"* ]] || fail "autostart status does not say on"
agent autostart off >/dev/null 2>&1 || fail "autostart off failed"
[ -z "$(reg_value "$run_key" /v BotMoxAgent)" ] || fail "autostart off left the Run value"
agent register-scheme >"$work/scheme.log" 2>&1 || { cat "$work/scheme.log" >&2; fail "register-scheme failed"; }
open_command="$(reg_value 'HKCU\Software\Classes\botmox\shell\open\command' /ve)"
[[ "$open_command" == *'botmox-agent.exe" '*'open-url "%1"' ]] || fail "unexpected botmox:// command: '$open_command'"
echo "4. Run value: $run_value (then off); botmox:// opens: $open_command"

# 5. The tray on wine's virtual desktop, on a private X server: its icon is drawn in wine's
# notification area (bottom right of the taskbar) in the colour of the link's state. (Clicks on
# it do not reach the menu under wine 8: tray-icon asks Shell_NotifyIconGetRect where the icon
# is, which wine only stubs.)
kill "$agent_pid" 2>/dev/null || true
wait "$agent_pid" 2>/dev/null || true
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.2; done
[ -s "$work/display" ] || fail "Xvfb did not start: $(cat "$work/xvfb.log")"
display=":$(head -n1 "$work/display")"
DISPLAY="$display" wine explorer /desktop=botmox,1024x768 "$work/app/botmox-agent.exe" tray >"$work/tray.log" 2>&1 &
agent_pid=$!
online_rgb=0,180,0 # assets/agent/make-icons.py
green=0
for _ in $(seq 120); do
  if [ -f "$work/cfg/tray.json" ]; then
    DISPLAY="$display" xwd -root -silent >"$work/screen.xwd"
    green="$(python3 packaging/windows/screen.py "$work/screen.xwd" "$online_rgb")"
    [ "$green" -ge 40 ] && break
  fi
  kill -0 "$agent_pid" 2>/dev/null || fail "the tray exited"
  sleep 0.5
done
[ -f "$work/cfg/tray.json" ] || fail "the tray did not claim the instance within 60 s"
python3 packaging/windows/screen.py "$work/screen.xwd" "$online_rgb" "$target_dir/cross-windows/wine-tray.png" >/dev/null
! grep -q "cannot create the tray icon" "$work/cfg/agent.log" || fail "the tray could not create its icon"
[ "$green" -ge 40 ] || fail "no online-green icon in the taskbar of wine's desktop ($green pixels; see $target_dir/cross-windows/wine-tray.png)"
echo "5. tray icon drawn online-green in wine's notification area ($green pixels): $target_dir/cross-windows/wine-tray.png"

# One tray per user: a second `tray` hands over to the first and exits 0.
second="$(agent tray 2>&1 | tr -d '\r')" || fail "the second tray failed: $second"
[[ "$second" == *"already runs"* ]] || fail "the second tray did not hand over: $second"
for _ in $(seq 60); do
  grep -q agent.instance.handoff "$work/cfg/agent.log" && break
  sleep 0.5
done
grep -q agent.instance.handoff "$work/cfg/agent.log" || fail "the first tray logged no hand-off"
# The front's Win32 message loop woke up (PostThreadMessageW) and acted on it: a plain second
# start opens the dashboard.
for _ in $(seq 60); do
  grep -q '"action":"open-dashboard"' "$work/cfg/agent.log" && break
  sleep 0.5
done
grep -q '"action":"open-dashboard"' "$work/cfg/agent.log" || fail "the tray's message loop did not act on the hand-off"
kill -0 "$agent_pid" 2>/dev/null || fail "the first tray exited"
echo "   second tray: \"$second\" The first opened the dashboard."

# 6. The Windows service, paired at install with a code of its own, in its own config dir.
state_message() { jq -r .message "$work/cfg/state.json" 2>/dev/null || true; }
wait_for() { # DESCRIPTION COMMAND...: polls COMMAND for up to 60 s
  local what="$1"; shift
  for _ in $(seq 120); do "$@" && return 0; sleep 0.5; done
  fail "$what"
}
code="$(api -X POST "$base/api/v1/agents/pairings" -d '{"name":"wine-service"}' | jq -r .data.pairing_code)"
svc="$work/svc"
mkdir -p "$svc"
agent --config-dir "Z:${svc//\//\\}" service install --pair "$code" --server "$base" >"$work/service.log" 2>&1 \
  || { cat "$work/service.log" >&2; fail "service install failed"; }
tr -d '\r' <"$work/service.log" | sed 's/^/   /'
service_id="$(jq -r .agent_id "$svc/config.json")"
[ "$service_id" != "$agent_id" ] && [ "$service_id" != null ] || fail "the service has no pairing of its own"
service_online() { [ "$(api "$base/api/v1/agents/$service_id" | jq -r .data.online)" = true ]; }
wait_for "the service's agent did not come online within 60 s" service_online
# install wrote the token to the service's file; the service moved it to its Credential Manager.
token_in_keyring() { [ "$(jq -c '[.in_keyring, .agent_token]' "$1/secrets.json")" = '[["agent_token"],null]' ]; }
wait_for "the service's token is not (only) in its Credential Manager: $(jq -c 'keys' "$svc/secrets.json")" token_in_keyring "$svc"
service_says() { [[ "$(agent service status | tr -d '\r')" == *"$1"* ]]; }
wait_for "service status does not say running" service_says "installed and running"
tray_shows_service() { [[ "$(state_message)" == *"Windows service runs the agent (running)"* ]]; }
wait_for "the tray does not show the service's state: '$(state_message)'" tray_shows_service
echo "6. service: agent $service_id online; the tray says \"$(state_message)\""
agent service stop >/dev/null 2>&1 || fail "service stop failed"
wait_for "the service did not stop" service_says "installed and stopped"
agent service uninstall >/dev/null 2>&1 || fail "service uninstall failed"
wait_for "the service is still installed" service_says "not installed"
tray_runs_link() { [[ "$(jq -r .status "$work/cfg/state.json" 2>/dev/null)" == online ]] && ! tray_shows_service; }
wait_for "the tray did not run its own link again: '$(state_message)'" tray_runs_link
echo "   stopped and uninstalled; the tray runs its own link again (\"$(state_message)\")"

# 7. The default path: a user paired in their own (default) config dir installs the service
# without arguments; it takes that pairing over into LocalSystem's config dir.
code="$(api -X POST "$base/api/v1/agents/pairings" -d '{"name":"wine-user"}' | jq -r .data.pairing_code)"
as_user() { env -u BOTMOX_AGENT_CONFIG_DIR timeout 120 wine "$work/app/botmox-agent.exe" "$@"; }
as_user pair "$code" --server "$base" >"$work/pair-user.log" 2>&1 || { cat "$work/pair-user.log" >&2; fail "pair (default dir) failed"; }
as_user service install >"$work/service-user.log" 2>&1 || { cat "$work/service-user.log" >&2; fail "service install (takeover) failed"; }
grep -q "took over this user's pairing" "$work/service-user.log" || { cat "$work/service-user.log" >&2; fail "the service did not take over the pairing"; }
system_dir="$WINEPREFIX/drive_c/windows/system32/config/systemprofile/AppData/Roaming/botmox-agent"
user_id="$(jq -r .agent_id "$system_dir/config.json")"
service_id="$user_id"
wait_for "the taken-over agent did not come online under the service within 60 s" service_online
wait_for "the taken-over token is not in the service's Credential Manager" token_in_keyring "$system_dir"
as_user service uninstall >/dev/null 2>&1 || fail "service uninstall (takeover) failed"
wait_for "the service is still installed" service_says "not installed"
echo "7. a plain \`service install\` took over this user's pairing (agent $user_id, online), then uninstalled"
echo "wine smoke test passed"
