#!/usr/bin/env bash
# Installs or upgrades Bot-Mox on a systemd Linux server (run as root).
#
#   packaging/install.sh server BINARY   # the static botmox (packaging/build-static.sh)
#   packaging/install.sh agent  BINARY   # the headless botmox-agent
#
# server: creates the system user `botmox`, installs BINARY as /usr/local/bin/botmox, the unit
#   botmox.service and /etc/botmox/ (env file, mode 0600, kept on upgrade), then enables and
#   (re)starts the service. On an upgrade it first takes a backup with the installed binary
#   (into /var/backups/botmox/, while the old server still runs), then replaces the binary;
#   the new binary applies its migrations at start.
# agent: the same for `botmox-agent` (user botmox-agent, /var/lib/botmox-agent). It is only
#   started when it is already paired; the script prints how to pair it otherwise.
#
# Environment: PREFIX (default /usr/local), UNIT_DIR (default /etc/systemd/system),
#   NO_START=1 (install only, do not enable or start anything).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${PREFIX:-/usr/local}"
unit_dir="${UNIT_DIR:-/etc/systemd/system}"

usage() { sed -n '2,9p' "$0" >&2; exit 2; }
[ $# -eq 2 ] || usage
kind="$1"
binary="$2"
[ -f "$binary" ] || { echo "error: no such file: $binary" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "error: run as root" >&2; exit 1; }
have_systemd() { [ -z "${NO_START:-}" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; }

ensure_user() { # name home
  if ! id -u "$1" >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$2" --no-create-home --shell /usr/sbin/nologin "$1"
    echo "created system user $1"
  fi
  install -d -m 0700 -o "$1" -g "$1" "$2"
}

case "$kind" in
  server)
    name=botmox; data=/var/lib/botmox; unit=botmox.service; etc=/etc/botmox
    ;;
  agent)
    name=botmox-agent; data=/var/lib/botmox-agent; unit=botmox-agent.service; etc=/etc/botmox-agent
    ;;
  *) usage ;;
esac

"$binary" --version >/dev/null || { echo "error: $binary does not run on this machine" >&2; exit 1; }
ensure_user "$name" "$data"
install -d -m 0755 "$etc"
if [ ! -e "$etc/env" ]; then
  install -m 0600 /dev/null "$etc/env"
  echo "# KEY=value lines read by $unit (see docs/operations.md)" > "$etc/env"
fi
target="$prefix/bin/$name"
upgrade=false
if [ -x "$target" ]; then
  upgrade=true
  echo "upgrading $("$target" --version 2>/dev/null || echo "$target") -> $("$binary" --version)"
fi

if [ "$kind" = server ] && $upgrade && [ -e "$data/botmox.db" ]; then
  backups=/var/backups/botmox
  install -d -m 0700 -o "$name" -g "$name" "$backups"
  archive="$backups/botmox-before-upgrade-$(date +%Y%m%d-%H%M%S).tar.gz"
  # `botmox backup` works while the server runs. It runs as the service user (who alone can
  # read the data directory) with the service's environment from /etc/botmox/env.
  (set -a; . "$etc/env"; set +a; export BOTMOX_DATA_DIR="$data"
   setpriv --reuid="$name" --regid="$name" --init-groups "$target" backup "$archive")
  chmod 0600 "$archive"
  echo "backup taken before the upgrade: $archive"
fi

# Replace atomically: a running process keeps the old inode.
install -m 0755 "$binary" "$target.new"
mv -f "$target.new" "$target"
install -m 0644 "$here/$unit" "$unit_dir/$unit"
echo "installed $target and $unit_dir/$unit"

if ! have_systemd; then
  echo "systemd is not running here (or NO_START is set): start it with 'systemctl enable --now $unit'"
  exit 0
fi
systemctl daemon-reload
if [ "$kind" = server ]; then
  systemctl enable "$unit" >/dev/null
  systemctl restart "$unit"
  echo "botmox is running; first start prints the setup URL: journalctl -u $unit"
else
  if [ -s "$data/secrets.json" ]; then
    systemctl enable "$unit" >/dev/null
    systemctl restart "$unit"
    echo "botmox-agent is running: systemctl status $unit"
  else
    cat <<MSG
botmox-agent is installed but not paired. Pair it and add its Proxmox host, then start it:
  sudo -u $name BOTMOX_AGENT_CONFIG_DIR=$data $target pair CODE --server https://botmox.example
  sudo -u $name BOTMOX_AGENT_CONFIG_DIR=$data $target target add --name pve --url https://127.0.0.1:8006 --node pve --token-id 'root@pam!botmox' --token-secret ...
  systemctl enable --now $unit
MSG
  fi
fi
