#!/usr/bin/env bash
# Issue 6: REST, /metrics and the static file server checked against a real
# master (tests/js/rest_check.mjs has the checks):
#   1. `master train --keep-running` with 2 workers: /health, /api/workers,
#      /api/jobs[/ID] (done, the printed accuracy, iterations, timeline),
#      /api/history, /metrics (format, names, agreement with the REST view),
#      path traversal ("..", %2e%2e, symlinks out of the web root) never
#      leaks config.json, which holds the token;
#   2. `master serve` with dashboard.token: POST /api/jobs without or with a
#      wrong token -> 401, with the token -> {"id": N}; GET /api/jobs/N
#      reaches done with the same accuracy and the outputs exist.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
need_node
nc_setup
TOKEN=tok-$RANDOM$RANDOM-secret
sed -i "s/\"token\": \"\"/\"token\": \"$TOKEN\"/" "$T/config.json"
grep -q "$TOKEN" "$T/config.json" || fail "could not set dashboard.token"
dash_train_csv 4000 "$T/train.csv"

# a web root of our own, with symlinks that lead out of it (never committed)
mkdir -p "$T/web"
cp "$NC_ROOT/dashboard/web/index.html" "$NC_ROOT/dashboard/web/app.js" "$NC_ROOT/dashboard/web/style.css" "$T/web/"
ln -s "$T/config.json" "$T/web/leak.json"
ln -s "$T" "$T/web/up"
export NC_WEB_ROOT=$T/web

nc_master_bg train --data "$T/train.csv" --min-workers 2 --scale none --keep-running
dash_wait_up
NC_TEST_TRON_DELAY_MS=100 nc_worker w1 # a job that lasts seconds, as a real one does
NC_TEST_TRON_DELAY_MS=100 nc_worker w2
WAIT_S=120 wait_for log_has "$T/master.out" "Training accuracy" || { cat "$T/master.log"; fail "the job did not finish"; }
ACCURACY=$(sed -n 's/^Training accuracy = \([0-9.]*\)%.*/\1/p' "$T/master.out")
[ -n "$ACCURACY" ] || fail "no accuracy printed"
export DASH_PORT TOKEN T ACCURACY
node "$NC_ROOT/tests/js/rest_check.mjs" job || fail "REST checks after a training job"
dash_stop_master

# serve mode: same ports, same history file, the workers reconnect by themselves
mkdir -p "$T/serve"
nc_master_bg serve --set "dashboard.files=$T"
dash_wait_up
out=$(node "$NC_ROOT/tests/js/rest_check.mjs" serve) || { echo "$out"; tail -30 "$T/master.log"; fail "serve-mode checks"; }
echo "$out"
id=$(sed -n 's/^id \([0-9]*\)$/\1/p' <<<"$out")
[ -n "$id" ] || fail "no job id from the serve checks"
[ -s "$T/serve/model.txt" ] || fail "served job wrote no model"
[ -s "$T/serve/model.txt.schema.json" ] || fail "served job wrote no schema"
[ "$(wc -l <"$T/serve/submission.csv")" -eq 4001 ] || fail "served job submission has $(wc -l <"$T/serve/submission.csv") lines, want 4001"
# the same model: exact training with two workers adds their answers in
# arrival order, so the last bits may differ, nothing more
diff=$(awk -f "$NC_ROOT/scripts/bench/model_diff.awk" "$T/model.txt" "$T/serve/model.txt")
awk -v d="$diff" 'BEGIN { exit !(d ~ /^[0-9.eE+-]+$/ && d + 0 <= 1e-9) }' ||
    fail "the served job's model differs from the command line's (relative L2 $diff)"
cmp -s <(head -6 "$T/model.txt") <(head -6 "$T/serve/model.txt") ||
    fail "the served job's model header differs from the command line's"
dash_stop_master
echo "ok: REST, /metrics, traversal, serve-mode job $id"
