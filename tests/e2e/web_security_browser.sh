#!/usr/bin/env bash
# Issue 12, the browser half (tests/js/web_security_browser.mjs): Debian's
# chromium against a real `master serve`.
#   1. a page on another loopback origin (python3 -m http.server) tries every
#      way a web page can start a job on the dashboard (no token in force, so
#      only the Origin / Content-Type rules stand in the way): no job appears;
#   2. with dashboard.host 0.0.0.0 and no token, the URL the master prints
#      (?token=..., opened on 127.0.0.1) gives a live page with the workers
#      and jobs, and the page without it gets nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
need_node playwright-core
[ -x "$CHROMIUM" ] || { echo "chromium not installed (apt-get install chromium)"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
[ -f "$NC_ROOT/dashboard/web/vendor/socket.io.min.js" ] || fail "dashboard/web/vendor missing: run scripts/deps.sh test"
nc_setup
F=$T/files
mkdir -p "$F" "$T/evil"
dash_train_csv 300 "$F/train.csv"
export NC_WEB_ROOT=$NC_ROOT/dashboard/web CHROMIUM DASH_PORT
jobs_json() { curl -s -m 5 ${1:+-H "Authorization: Bearer $1"} "http://127.0.0.1:$DASH_PORT/api/jobs"; }

# ---------------------------------------------------------------- 1. another origin
EVIL_PORT=$(free_port)
echo '<!doctype html><title>not the dashboard</title><p>hello</p>' >"$T/evil/index.html"
(cd "$T/evil" && exec python3 -m http.server "$EVIL_PORT" --bind 127.0.0.1 >"$T/evil.log" 2>&1) &
NC_PIDS+=($!)
nc_master_bg serve --set "dashboard.files=$F"
dash_wait_up
WAIT_S=20 wait_for curl -s -m 2 -o /dev/null "http://127.0.0.1:$EVIL_PORT/" || fail "the other origin's server did not start"
USER_DATA_DIR=$T/profile-evil EVIL_URL=http://127.0.0.1:$EVIL_PORT/ \
    node "$NC_ROOT/tests/js/web_security_browser.mjs" evil || fail "evil page checks"
sleep 1
[ "$(jobs_json)" = "[]" ] || fail "a page on another origin started a job: $(jobs_json)"
grep -q "queued" "$T/master.log" && fail "the master queued a job from another origin"
[ -e "$F/evil.txt" ] && fail "the other origin's job wrote its model"
n=$(grep -c "cross-origin request refused" "$T/master.log" || true)
note "no job from the other origin (refusals in the log are not required: $n)"
dash_stop_master

# ---------------------------------------------------------------- 2. the printed token URL
nc_master_bg serve --set "dashboard.files=$F" --set dashboard.host=0.0.0.0
dash_wait_up
WAIT_S=10 wait_for log_has "$T/master.out" "?token=" || fail "no URL with a token printed"
GEN=$(sed -n 's/.*?token=\([0-9a-f]*\).*/\1/p' "$T/master.out" | head -1)
[ -n "$GEN" ] || fail "no token in $(cat "$T/master.out")"
nc_worker w1
r=$(curl -s -m 10 -H "Authorization: Bearer $GEN" -H 'Content-Type: application/json' \
    -d '{"mode":"train","data":"train.csv","model":"m.txt","out":"o.csv","scale":"none"}' \
    "http://127.0.0.1:$DASH_PORT/api/jobs")
[[ "$r" == *'"id"'* ]] || fail "job with the generated token: $r"
USER_DATA_DIR=$T/profile-token TOKEN_URL="http://127.0.0.1:$DASH_PORT/?token=$GEN" \
    node "$NC_ROOT/tests/js/web_security_browser.mjs" token || fail "token page checks"
dash_stop_master
echo "ok: no job from another origin; the printed token URL works, the bare page gets nothing"
