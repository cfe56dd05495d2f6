#!/usr/bin/env bash
# Issue 6: Debian's chromium (driven by playwright-core, never a downloaded
# browser) watches a real `master train` job with 2 real workers: the page is
# open before the workers start, both workers appear, the progress reaches
# 100 % with the accuracy the master prints, a late browser opened mid-job
# sees the running job, a reload shows the job in the history table (the
# master stays up with --keep-running), and the banner shows when the master
# stops. Screenshot: tests/artifacts/dashboard.png.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
need_node playwright-core
[ -x "$CHROMIUM" ] || { echo "chromium not installed (apt-get install chromium)"; exit 77; }
for f in uPlot.iife.min.js uPlot.min.css socket.io.min.js; do
    [ -f "$NC_ROOT/dashboard/web/vendor/$f" ] || fail "dashboard/web/vendor/$f missing: run scripts/deps.sh test"
done
nc_setup
dash_train_csv 4000 "$T/train.csv"
mkdir -p "$NC_ROOT/tests/artifacts"
export NC_WEB_ROOT=$NC_ROOT/dashboard/web
nc_master_bg train --data "$T/train.csv" --min-workers 2 --scale none --keep-running
dash_wait_up

export CHROMIUM DASH_PORT MASTER_PID MASTER_OUT=$T/master.out READY_FILE=$T/page-ready
export ARTIFACT=$NC_ROOT/tests/artifacts/dashboard.png USER_DATA_DIR=$T/chromium-profile
node "$NC_ROOT/tests/js/dashboard_browser.mjs" &
NODE_PID=$!
NC_PIDS+=("$NODE_PID")
# the workers start only once the page is open, so that it sees them arrive
WAIT_S=60 wait_for test -e "$T/page-ready" || { kill -0 $NODE_PID 2>/dev/null || wait $NODE_PID; fail "the page did not open"; }
NC_TEST_TRON_DELAY_MS=100 nc_worker w1 # a job that lasts seconds, as a real one does
NC_TEST_TRON_DELAY_MS=100 nc_worker w2
rc=0
wait "$NODE_PID" || rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$T/master.log" >&2; fail "browser test (rc $rc)"; }
# dashboard_browser.mjs sent SIGTERM to the master to see the banner
wait "$MASTER_PID" || fail "master exited with $? after SIGTERM"
grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$T/master.log" && { cat "$T/master.log" >&2; fail "sanitizer report"; }
echo "ok"
