#!/usr/bin/env bash
# Installs a NetCompute worker as a systemd service on this PC.
#
#   sudo scripts/install-worker.sh [--dry-run] [--config FILE] [--key FILE]
#        [--master-pub FILE] [--bin FILE] [--no-start]
#
# What it does (and prints, one line per step):
#   1. creates the system user `netcompute` (no login, no home of its own);
#   2. copies the worker binary to /opt/netcompute/bin/worker;
#   3. copies the config to /etc/netcompute/config.json (an existing one is
#      kept; the new one is written next to it as config.json.new);
#   4. with CURVE keys: the worker's .key (0600, owned by netcompute) and the
#      master's .pub to /etc/netcompute/ (set security.secret_key_file and
#      security.master_public_key in the config to those paths);
#   5. installs scripts/netcompute-worker.service and enables and starts it.
# --dry-run prints the steps without doing anything (no root needed).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
prefix=/opt/netcompute
etc=/etc/netcompute
unit_dir=/etc/systemd/system
user=netcompute

dry=0 start=1
bin=$repo/bin/worker
config=$repo/config.json
key="" master_pub=""

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install-worker: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
    --dry-run) dry=1 ;;
    --no-start) start=0 ;;
    --config) config=${2:?--config needs a FILE}; shift ;;
    --key) key=${2:?--key needs a FILE}; shift ;;
    --master-pub) master_pub=${2:?--master-pub needs a FILE}; shift ;;
    --bin) bin=${2:?--bin needs a FILE}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done

run() {
    printf '+'; printf ' %q' "$@"; printf '\n'
    [ "$dry" -eq 1 ] || "$@"
}

[ -x "$bin" ] || die "$bin not found or not executable: run 'make' first or give --bin FILE"
[ -f "$config" ] || die "$config not found: give --config FILE"
[ -z "$key" ] || [ -f "$key" ] || die "$key not found (make one with: bin/master keygen NAME)"
[ -z "$master_pub" ] || [ -f "$master_pub" ] || die "$master_pub not found (copy the master's .pub)"
[ -f "$here/netcompute-worker.service" ] || die "$here/netcompute-worker.service is missing"
if [ "$dry" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    die "needs root (try sudo), or --dry-run to see the steps"
fi

# Shared libraries the binary needs must exist here too (libzmq5, liblinear4, ...).
if command -v ldd >/dev/null && ldd "$bin" 2>/dev/null | grep -q 'not found'; then
    echo "install-worker: warning: missing libraries for $bin:" >&2
    ldd "$bin" | grep 'not found' >&2
    echo "install-worker: install them first (Debian: apt-get install libzmq5 liblinear4 libcsv3 libjson-c5 libwebsockets17 libsqlite3-0)" >&2
fi

echo "# 1. service user"
if id -u "$user" >/dev/null 2>&1; then
    echo "user $user exists"
else
    run useradd --system --user-group --home-dir /var/lib/netcompute --no-create-home \
        --shell /usr/sbin/nologin --comment "NetCompute worker" "$user"
fi

echo "# 2. binary"
run install -d -m 0755 "$prefix/bin"
run install -m 0755 "$bin" "$prefix/bin/worker"

echo "# 3. configuration"
run install -d -m 0755 "$etc"
if [ -e "$etc/config.json" ]; then
    echo "$etc/config.json exists: kept; the new one goes to $etc/config.json.new"
    run install -m 0644 "$config" "$etc/config.json.new"
else
    run install -m 0644 "$config" "$etc/config.json"
fi

echo "# 4. CURVE keys"
if [ -n "$key" ]; then
    run install -m 0600 -o "$user" -g "$user" "$key" "$etc/worker.key"
    echo "set security.secret_key_file to $etc/worker.key in $etc/config.json"
fi
if [ -n "$master_pub" ]; then
    run install -m 0644 "$master_pub" "$etc/master.pub"
    echo "set security.master_public_key to $etc/master.pub in $etc/config.json"
fi
[ -n "$key$master_pub" ] || echo "none given (plaintext; see README 'Security' for --key/--master-pub)"

echo "# 5. systemd unit"
run install -m 0644 "$here/netcompute-worker.service" "$unit_dir/netcompute-worker.service"
run systemctl daemon-reload
if [ "$start" -eq 1 ]; then
    run systemctl enable --now netcompute-worker.service
else
    run systemctl enable netcompute-worker.service
fi

echo "done. Status: systemctl status netcompute-worker; logs: journalctl -u netcompute-worker -f"
[ "$dry" -eq 0 ] || echo "(dry run: nothing was changed)"
