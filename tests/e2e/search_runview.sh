#!/usr/bin/env bash
# The page's run view of a search run (tests/js/search_runview.mjs drives
# Debian's chromium through playwright-core): `master search --cv 3
# --C-list 0.01,0.1,1,10` on a 3-class CSV, then `master serve`; the view of
# run 1 shows the CV section with one point per C (the C values, the CV
# accuracies of metrics.json, the best row marked), the curve drawn, and
# the final model among the run's files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
need_node playwright-core
[ -x "$CHROMIUM" ] || { echo "chromium not installed (apt-get install chromium)"; exit 77; }
for f in uPlot.iife.min.js uPlot.min.css socket.io.min.js; do
    [ -f "$NC_ROOT/dashboard/web/vendor/$f" ] || fail "dashboard/web/vendor/$f missing: run scripts/deps.sh test"
done
nc_setup
F=$T/files
mkdir -p "$F"
dash_train_csv 600 "$F/train.csv"
nc_worker w1
"$NC_BIN/master" search --data "$F/train.csv" --cv 3 --C-list 0.01,0.1,1,10 --config "$T/config.json" \
    --no-dashboard --set "runs.dir=$T/runs" --model "$F/m.txt" --out "$F/s.csv" \
    >"$T/search.out" 2>"$T/search.log" || { tail -5 "$T/search.log" >&2; fail "master search"; }
[ -s "$T/runs/1/metrics.json" ] || fail "run 1 has no metrics.json"
nc_master_bg serve --set "dashboard.files=$F" --set "runs.dir=$T/runs"
dash_wait_up
mkdir -p "$NC_ROOT/tests/artifacts"
export NC_WEB_ROOT=$NC_ROOT/dashboard/web CHROMIUM DASH_PORT RUNS=$T/runs
export ARTIFACT=$NC_ROOT/tests/artifacts/search-runview.png USER_DATA_DIR=$T/chromium-profile
node "$NC_ROOT/tests/js/search_runview.mjs" || { tail -20 "$T/master.log" >&2; fail "browser checks"; }
dash_stop_master
echo "ok: a search run's view draws its CV points, the best marked"
