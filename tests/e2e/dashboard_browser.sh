#!/usr/bin/env bash
# Issue 6: Debian's chromium (driven by playwright-core, never a downloaded
# browser) opens the dashboard during a job: both workers appear, the progress
# reaches 100 %, the job is in the history after a reload, the banner shows
# when the connection drops. Screenshot: tests/artifacts/dashboard.png.
# The job is scripted by tests/tools/dashfeed until the master embeds the
# dashboard; then switch to a real `master train` with 2 workers.
. "$(dirname "$0")/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null || { echo "node not installed"; exit 77; }
[ -x "$CHROMIUM" ] || { echo "chromium not installed (apt-get install chromium)"; exit 77; }
[ -d "$NC_ROOT/node_modules/playwright-core" ] || { echo "npm packages missing (scripts/deps.sh test)"; exit 77; }
for f in uPlot.iife.min.js uPlot.min.css socket.io.min.js; do
    [ -f "$NC_ROOT/dashboard/web/vendor/$f" ] || fail "dashboard/web/vendor/$f missing: run scripts/deps.sh test"
done
FEED=$NC_ROOT/build/san/tests/tools/dashfeed
[ -x "$FEED" ] || fail "missing $FEED (make SAN=1 unit)"
nc_setup
mkdir -p "$NC_ROOT/tests/artifacts"
export FEED CHROMIUM NC_CONFIG=$T/config.json NC_WEB_ROOT=$NC_ROOT/dashboard/web
export ARTIFACT=$NC_ROOT/tests/artifacts/dashboard.png USER_DATA_DIR=$T/chromium-profile
node "$NC_ROOT/tests/js/dashboard_browser.mjs" || fail "browser test"
