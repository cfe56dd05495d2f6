#!/usr/bin/env bash
# Issue 6: the stock socket.io-client (npm, websocket transport) connects to
# the dashboard and receives update_stats and worker_stats within 3 s.
# Runs the dashboard under tests/tools/dashfeed (scripted events) until the
# master embeds it; then switch to a real `master train` with 2 workers.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { echo "node not installed"; exit 77; }
[ -d "$NC_ROOT/node_modules/socket.io-client" ] || { echo "npm packages missing (scripts/deps.sh test)"; exit 77; }
FEED=$NC_ROOT/build/san/tests/tools/dashfeed
[ -x "$FEED" ] || fail "missing $FEED (make SAN=1 unit)"
nc_setup
export FEED NC_CONFIG=$T/config.json NC_WEB_ROOT=$NC_ROOT/dashboard/web
node "$NC_ROOT/tests/js/sio_client.mjs" || fail "socket.io client test"
