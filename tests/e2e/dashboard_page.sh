#!/usr/bin/env bash
# Issue 18, the page as the cluster's control room (tests/js/dashboard_page.mjs
# drives Debian's chromium through playwright-core): a real `master serve`
# with a token, its files root holding a training CSV, a test CSV and a file
# whose name and header hold markup, and 2 real workers on 127.0.0.1. The
# page starts a training job from its form (the command line it shows is the
# job's), the per-phase bars only move forward (sampled on every change), a
# second and a third job wait in the queue and are cancelled from it (one
# running, one queued) and end "cancelled", a test job's accuracy lands in
# the test column and the training job's in the training one, the model is
# downloaded through the run view and loads in Debian's liblinear-predict,
# "Run again with changes" prefills the form, a bad path is refused inline,
# a reload shows both jobs, nothing is wider than a 400 px viewport (a long
# error included), and dark mode follows prefers-color-scheme.
# Screenshots (1400 px, 400 px, dark) go to $SHOTS (default tests/artifacts;
# scripts/screenshots.sh sets docs/screenshots).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
need_node playwright-core
[ -x "$CHROMIUM" ] || { echo "chromium not installed (apt-get install chromium)"; exit 77; }
command -v liblinear-predict >/dev/null || { echo "liblinear-predict not installed (apt-get install liblinear-tools)"; exit 77; }
for f in uPlot.iife.min.js uPlot.min.css socket.io.min.js; do
    [ -f "$NC_ROOT/dashboard/web/vendor/$f" ] || fail "dashboard/web/vendor/$f missing: run scripts/deps.sh test"
done
nc_setup
F=$T/files
mkdir -p "$F" "$T/runs"
dash_train_csv 6000 "$F/train.csv"
gen_svm 600 11 3 60 >"$T/test.svm"
svm_to_csv 60 <"$T/test.svm" >"$F/test.csv"
# a file whose name and header are markup: listed, shown as text
printf 'id,label,f<b>1</b>,<img src=x onerror=alert(1)>\nr1,a,1,2\nr2,b,2,1\n' >"$F/odd<img src=x onerror=alert(1)>.csv"

TOKEN=tok-$RANDOM$RANDOM-ctl
# the config's model and outputs inside the files root, as the demo's Data/ is
nc_master_bg serve --scale none --set "dashboard.files=$F" --set "model.file=$F/model.txt" \
    --set "output.train=$F/train-pred.csv" --set "output.test=$F/test-pred.csv" --set "dashboard.token=$TOKEN" --set "runs.dir=$T/runs"
dash_wait_up
NC_TEST_TRON_DELAY_MS=150 nc_worker w1 # rounds that take a while: a job lasts seconds
NC_TEST_TRON_DELAY_MS=150 nc_worker w2

SHOTS=${SHOTS:-$NC_ROOT/tests/artifacts}
mkdir -p "$SHOTS" "$NC_ROOT/tests/artifacts"
export NC_WEB_ROOT=$NC_ROOT/dashboard/web CHROMIUM DASH_PORT TOKEN RUNS=$T/runs FILES=$F SHOTS
export ARTIFACT=$NC_ROOT/tests/artifacts/dashboard-page.png USER_DATA_DIR=$T/chromium-profile
export DOWNLOADS=$T/downloads MODEL_COPY=$T/downloaded-model.txt
node "$NC_ROOT/tests/js/dashboard_page.mjs" || { tail -30 "$T/master.log" >&2; fail "browser checks"; }

# the model the page downloaded is a liblinear model file
[ -s "$MODEL_COPY" ] || fail "no downloaded model"
liblinear-predict "$T/test.svm" "$MODEL_COPY" "$T/pred.txt" >"$T/pred.out" 2>&1 ||
    { cat "$T/pred.out" >&2; fail "liblinear-predict cannot use the downloaded model"; }
[ "$(wc -l <"$T/pred.txt")" -eq 600 ] || fail "liblinear-predict wrote $(wc -l <"$T/pred.txt") predictions, want 600"
grep -q "^Accuracy = " "$T/pred.out" || fail "liblinear-predict printed no accuracy"
dash_stop_master
echo "ok: form, command line, forward-only progress, cancel, download into liblinear-predict, reload, 400 px, dark mode"
