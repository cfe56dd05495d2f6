#!/usr/bin/env bash
# Issue 17, the page's run view (tests/js/dashboard_runview.mjs drives
# Debian's chromium through playwright-core): four runs of a 4-class CSV whose
# text labels hold HTML and quotes (<b>bee</b>, cat "c", it's): 1 and 2 are
# `master train --cv 3` at two C values and two solvers, 3 a plain training,
# 4 a test of run 3's model. Then `master serve` with a token; the page,
# opened with ?token=, shows run 4's view: the heatmap cells equal the
# metrics' confusion counts, the per-class table the metrics, a download
# link fetches model.txt (run 3) with the bytes of the run folder, the CV
# curve shows for run 1 (both CV runs, one line per solver) and is absent
# for run 3; two ticked runs compare side by side with the differing rows
# highlighted; every label and path with HTML is text, never markup; a
# run view opened before its run exists (run 5, then POSTed) fills in at job_done.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
need_node playwright-core
[ -x "$CHROMIUM" ] || { echo "chromium not installed (apt-get install chromium)"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
for f in uPlot.iife.min.js uPlot.min.css socket.io.min.js; do
    [ -f "$NC_ROOT/dashboard/web/vendor/$f" ] || fail "dashboard/web/vendor/$f missing: run scripts/deps.sh test"
done
nc_setup
F=$T/files
mkdir -p "$F"
# gen ROWS SEED: id,label,f1..f8; class c lifts feature c, 15 % of rows are noise
gen() {
    python3 - "$1" "$2" <<'PY'
import csv, random, sys
n, r = int(sys.argv[1]), random.Random(int(sys.argv[2]))
labels = ['ant', '<b>bee</b>', 'cat "c"', "it's"]
w = csv.writer(sys.stdout, lineterminator='\n')
w.writerow(['id', 'label'] + ['f%d' % j for j in range(1, 9)])
for i in range(n):
    c = r.randrange(4)
    x = [round(r.gauss(0, 1), 3) for _ in range(8)]
    if r.random() > 0.15:
        x[c] += 2.5
    w.writerow(['r%d' % i, labels[c]] + x)
PY
}
gen 400 1 >"$F/train.csv"
# the test file's name is markup too: it is the run's data param and title
TEST_CSV=$F/'test<img src=x onerror=alert(1)>.csv'
gen 200 2 >"$TEST_CSV"
grep -q '"cat ""c"""' "$F/train.csv" || fail "the CSV does not quote the label with quotes"
nc_worker w1
master() { # master NAME ARGS...: a command-line job, output in $T/NAME.out / .log
    local name=$1; shift
    "$NC_BIN/master" "$@" --config "$T/config.json" --no-dashboard --set "runs.dir=$T/runs" \
        >"$T/$name.out" 2>"$T/$name.log" || { tail -5 "$T/$name.log" >&2; fail "$name"; }
}
master cv1 train --data "$F/train.csv" --cv 3 -C 2 --solver 0 --model "$F/cv1.txt" --out "$F/cv1.csv"
master cv2 train --data "$F/train.csv" --cv 3 -C 0.25 --solver 2 --model "$F/cv2.txt" --out "$F/cv2.csv"
master train train --data "$F/train.csv" -C 1 --model "$F/m.txt" --out "$F/s.csv"
master test test --data "$TEST_CSV" --model "$F/m.txt" --out "$F/p.csv"
grep -q "Cross Validation Accuracy" "$T/cv1.out" || fail "run 1 printed no CV accuracy"
for i in 1 2 3 4; do [ -s "$T/runs/$i/run.json" ] || fail "run $i has no folder"; done

TOKEN=tok-$RANDOM$RANDOM-view
nc_master_bg serve --set "dashboard.files=$F" --set "dashboard.token=$TOKEN" --set "runs.dir=$T/runs"
dash_wait_up
mkdir -p "$NC_ROOT/tests/artifacts"
export NC_WEB_ROOT=$NC_ROOT/dashboard/web CHROMIUM DASH_PORT TOKEN RUNS=$T/runs
export ARTIFACT=$NC_ROOT/tests/artifacts/dashboard-runview.png USER_DATA_DIR=$T/chromium-profile
export DOWNLOADS=$T/downloads CV_OUT=$T/cv1.out
node "$NC_ROOT/tests/js/dashboard_runview.mjs" || { tail -20 "$T/master.log" >&2; fail "browser checks"; }
dash_stop_master
echo "ok: run view, heatmap, per-class table, download, CV curve, comparison, labels as text"
