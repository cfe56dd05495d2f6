#!/usr/bin/env bash
# Issue 17, runs: every job is a run with a small id and a folder.
#   1. train then test (two masters in a row, --no-dashboard): runs 1 and 2,
#      each folder complete (params, run state, log, metrics, the outputs,
#      equal to Data/model.txt and the submissions, which still work as
#      before); `master runs` lists both;
#   2. a third job with the dashboard on is run 3 (ids continue across master
#      restarts, whichever path records them);
#   3. a failed job leaves a folder with its params, log and state failed,
#      and the latest outputs untouched;
#   4. a fresh history database with the same worker still up: its run 1
#      (other data) is computed right, not from the worker's cache of the
#      other database's run 1;
#   5. retention: runs.keep removes the oldest folders and rows;
#      runs.max_age_days removes a run that started too long ago.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 77; }
NC_SHARD_ROWS=500 nc_setup
gen_svm 2000 21 3 20 >d.svm
gen_svm 600 22 3 20 >t.svm
gen_svm 1500 31 4 12 >d2.svm # another problem: 4 classes, 12 features
nc_worker a

master() { # master NAME ARGS...: runs bin/master, output in NAME.out / NAME.log
    local name=$1; shift
    "$NC_BIN/master" "$@" --config config.json >"$name.out" 2>"$name.log"
}
R=$T/Data/runs
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# ---------------------------------------------------------------- 1
master train1 train --no-dashboard --data d.svm --solver 0 -C 2 ||
    { tail -5 train1.log; fail "train"; }
master test1 test --no-dashboard --data t.svm || { tail -5 test1.log; fail "test"; }
for f in params.json run.json job.log metrics.json model.txt model.txt.schema.json submission.csv; do
    [ -s "$R/1/$f" ] || fail "run 1 lacks $f"
done
for f in params.json run.json job.log metrics.json submission.csv; do
    [ -s "$R/2/$f" ] || fail "run 2 lacks $f"
done
[ ! -e "$R/2/model.txt" ] || fail "a test run keeps no model"
[ "$(json "$R/1/params.json" "d['mode'], d['data'], d['C'], d['solver'], d['shard_rows']")" = \
  "('train', 'd.svm', 2.0, '0', 500)" ] || fail "run 1 params: $(cat "$R/1/params.json")"
[ "$(json "$R/2/params.json" "d['mode'], d['data'], d['model']")" = "('test', 't.svm', '$T/model.txt')" ] ||
    fail "run 2 params: $(cat "$R/2/params.json")"
[ "$(json "$R/1/run.json" "d['id'], d['state'], d['status']")" = "(1, 'done', 0)" ] || fail "run 1 state"
[ "$(json "$R/2/run.json" "d['id'], d['state'], d['status']")" = "(2, 'done', 0)" ] || fail "run 2 state"
cmp -s "$R/1/model.txt" model.txt || fail "run 1's model is not the model written"
cmp -s "$R/1/model.txt.schema.json" model.txt.schema.json || fail "run 1's schema"
cmp -s "$R/1/submission.csv" submission_train.csv || fail "run 1's submission"
cmp -s "$R/2/submission.csv" submission_test.csv || fail "run 2's submission"
grep -q "run 1: " "$R/1/job.log" && grep -q "schema: " "$R/1/job.log" || fail "run 1's log"
grep -q "schema: " "$R/2/job.log" && fail "run 2's log holds run 1's lines"
acc=$(sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p' test1.out)
[ "$(json "$R/2/metrics.json" "'%.4f' % (100 * d['accuracy'])")" = "$acc" ] ||
    fail "run 2 metrics.json accuracy vs printed $acc"
# a training run's metrics: its training accuracy (metrics.h's, or alone)
tacc=$(sed -n 's/^Training accuracy = \([0-9.]*\)%.*/\1/p' train1.out)
[ "$(json "$R/1/metrics.json" "'%.4f' % (100 * d.get('accuracy', d.get('train_accuracy', -1)))")" = "$tacc" ] ||
    fail "run 1 metrics.json vs printed $tacc: $(head -c 300 "$R/1/metrics.json")"
# the model of run 1 is usable from its folder as any model
master test1b test --no-dashboard --data t.svm --model "$R/1/model.txt" --out sub1b.csv ||
    fail "testing with the run folder's model"
cmp -s sub1b.csv submission_test.csv || fail "the run folder's model predicts differently"
[ "$(sqlite3 history.db "SELECT state, rows_total, rows_done, total_tasks = done_tasks FROM jobs WHERE id = 1")" = "done|2000|2000|1" ] ||
    fail "history of run 1 without the dashboard: $(sqlite3 history.db 'SELECT * FROM jobs WHERE id = 1')"
note "runs 1 and 2: complete folders"

"$NC_BIN/master" runs --config config.json >runs.txt || fail "master runs"
cat runs.txt >&2
[ "$(sed -n 1p runs.txt | awk '{print $1, $2, $3}')" = "id mode state" ] || fail "runs header"
awk 'NR > 1 { print $1, $2, $3, $4 }' runs.txt >got.txt
printf '3 test done t.svm\n2 test done t.svm\n1 train done d.svm\n' >want.txt
cmp -s got.txt want.txt || { cat got.txt >&2; fail "master runs lines"; }
grep -E "^2 .*acc 0\.[0-9]{4} F1 0\.[0-9]{4}" runs.txt >/dev/null || fail "runs: run 2's metrics"
grep -E "^1 .*acc 0\.[0-9]{4} " runs.txt >/dev/null || fail "runs: run 1's accuracy"

# ---------------------------------------------------------------- 2
master train2 train --data d.svm -C 0.5 || { tail -5 train2.log; fail "train with the dashboard"; }
[ "$(json "$R/4/run.json" "d['id'], d['state']")" = "(4, 'done')" ] || fail "run 4 (dashboard on)"
[ "$(sqlite3 history.db "SELECT group_concat(id) FROM (SELECT id FROM jobs ORDER BY id)")" = "1,2,3,4" ] ||
    fail "history ids: $(sqlite3 history.db 'SELECT id, mode, state FROM jobs')"
[ "$(sqlite3 history.db "SELECT count(*) FROM jobs WHERE state = 'done' AND params IS NOT NULL")" = 4 ] ||
    fail "history: runs not all done with params"
[ "$(sqlite3 history.db "SELECT count(*) FROM tasks WHERE job_id = 4")" -gt 0 ] ||
    fail "the dashboard's tasks of run 4 are not under its id"
note "run 4 with the dashboard on; history ids 1-4"

# ---------------------------------------------------------------- 3
cp model.txt model.before
cp submission_test.csv sub.before
printf '1 1:0.5 2:zz\n' >bad.svm
master bad test --no-dashboard --data bad.svm && fail "a bad test file succeeded"
[ "$(json "$R/5/run.json" "d['state'], d['status']")" = "('failed', 3)" ] ||
    fail "failed run state: $(cat "$R/5/run.json")"
[ -s "$R/5/params.json" ] && [ -s "$R/5/job.log" ] || fail "failed run lacks params or log"
grep -q "bad.svm:1" "$R/5/job.log" || fail "failed run's log lacks the error"
[ ! -e "$R/5/submission.csv" ] || fail "a failed run kept a submission"
cmp -s model.txt model.before && cmp -s submission_test.csv sub.before ||
    fail "a failed run changed the latest outputs"
[ "$(sqlite3 history.db "SELECT state FROM jobs WHERE id = 5")" = failed ] || fail "history: run 5"
note "run 5 failed: params, log, state failed"

# ---------------------------------------------------------------- 4
FRESH=(--set history.db="$T/fresh.db" --set runs.dir="$T/fresh-runs")
master fresh train --no-dashboard "${FRESH[@]}" --data d2.svm --model m2.txt --out s2.csv ||
    { tail -5 fresh.log; fail "run 1 of a fresh database"; }
[ "$(json "$T/fresh-runs/1/run.json" "d['id'], d['state']")" = "(1, 'done')" ] || fail "fresh run id"
grep -q '^nr_class 4$' m2.txt || fail "run 1 of the fresh database trained on the wrong data"
kill "${WORKER_PID[a]}"; wait "${WORKER_PID[a]}" 2>/dev/null
nc_worker b # a worker with an empty cache gives the reference
master ref train --no-dashboard "${FRESH[@]}" --data d2.svm --model mref.txt --out sref.csv ||
    fail "reference training"
d=$(model_dist m2.txt mref.txt)
awk -v d="$d" 'BEGIN { exit !(d < 1e-9) }' || fail "fresh run 1 differs from a fresh worker's (rel L2 $d)"
cmp -s s2.csv sref.csv || fail "fresh run 1's submission differs from a fresh worker's"
note "a fresh database's run 1 on a warm worker = on a cold one (rel L2 $d)"

# ---------------------------------------------------------------- 5
master keep test --no-dashboard --data t.svm --set runs.keep=3 || fail "test with runs.keep"
ls "$R" | sort -n | tr '\n' ' ' >left.txt
[ "$(cat left.txt)" = "4 5 6 " ] || fail "runs.keep=3 left folders: $(cat left.txt)"
[ "$(sqlite3 history.db "SELECT group_concat(id) FROM (SELECT id FROM jobs ORDER BY id)")" = "4,5,6" ] ||
    fail "runs.keep=3 left rows: $(sqlite3 history.db 'SELECT id FROM jobs')"
[ "$(sqlite3 history.db "SELECT count(*) FROM tasks WHERE job_id < 4")" = 0 ] || fail "old tasks kept"
# run 4 started ten days ago
sqlite3 history.db "UPDATE jobs SET started_ms = started_ms - 10 * 86400000 WHERE id = 4"
master age test --no-dashboard --data t.svm --set runs.max_age_days=5 || fail "test with max_age"
ls "$R" | sort -n | tr '\n' ' ' >left.txt
[ "$(cat left.txt)" = "5 6 7 " ] || fail "runs.max_age_days=5 left folders: $(cat left.txt)"
grep -q "run 4 removed" age.log || fail "retention is not logged"
"$NC_BIN/master" runs --config config.json | awk 'NR > 1 { print $1 }' | tr '\n' ' ' >ids.txt
[ "$(cat ids.txt)" = "7 6 5 " ] || fail "master runs after retention: $(cat ids.txt)"
note "retention: runs.keep and runs.max_age_days"

# ---------------------------------------------------------------- 6
# a run left running by a master killed with -9 ends failed at the next start
"$NC_BIN/master" train --config config.json --no-dashboard --data d.svm --min-workers 5 \
    >killed.out 2>killed.log &
KPID=$!
NC_PIDS+=($KPID)
wait_for test -s "$R/8/run.json" && wait_for log_has "$R/8/job.log" "waiting for 5 worker" ||
    fail "run 8 did not start"
[ "$(json "$R/8/run.json" "d['state']")" = running ] || fail "run 8 is not running"
kill -9 $KPID; wait $KPID 2>/dev/null
master after test --no-dashboard --data t.svm || fail "the job after a killed master"
[ "$(json "$R/8/run.json" "d['state'], d['error']")" = \
  "('failed', 'interrupted: the master stopped before the job ended')" ] ||
    fail "run 8 after its master was killed: $(cat "$R/8/run.json")"
[ "$(sqlite3 history.db "SELECT state FROM jobs WHERE id = 8")" = failed ] || fail "history: run 8"
[ "$(json "$R/9/run.json" "d['state']")" = done ] || fail "run 9"
note "a killed master's run ends failed at the next start"
exit 0
