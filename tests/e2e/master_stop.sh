#!/usr/bin/env bash
# Ctrl-C (SIGINT) and SIGTERM stop bin/master cleanly in every phase: while a
# train or test job waits for workers (this was a NULL dereference in
# progress_finish, exit 139), in the middle of exact training (a "resume with:"
# hint that works), in the middle of a test job (the same hint), and in serve mode. A stopped job exits 128 + the signal
# (130 for Ctrl-C, 143 for SIGTERM) with one line saying where it stopped;
# serve mode is meant to end that way and exits 0. Runs the ASan/UBSan build.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
nc_setup

gen_svm 1200 5 3 12 >d.svm

# stop_master SIGNAL EXPECTED_STATUS PATTERN: signals the background master,
# checks its status, its last line and that no sanitizer fired.
stop_master() {
    kill -"$1" "$MASTER_PID"
    wait "$MASTER_PID"
    local rc=$?
    grep -E "runtime error|AddressSanitizer|LeakSanitizer" master.log && fail "$1: sanitizer report"
    [ "$rc" -eq "$2" ] || { tail -5 master.log; fail "$1: exit status $rc, expected $2"; }
    grep -q -- "$3" master.log || { tail -5 master.log; fail "$1: no line matching '$3'"; }
    note "$1 -> $rc: $(tail -1 master.log)"
}

# 1. train, waiting for workers: SIGINT then SIGTERM.
for sig in INT TERM; do
    nc_master_bg train --data d.svm --no-dashboard
    wait_for log_has master.log "waiting for 1 worker" || fail "train did not start waiting"
    want=130; [ $sig = TERM ] && want=143
    stop_master $sig $want "master: stopped by SIG$sig while waiting for workers"
    mv master.log master-wait-$sig.log
done

# 2. mid-training (exact strategy, journaled): the hint is a command that resumes.
nc_worker a
NC_TEST_TRON_DELAY_MS=80 nc_worker b
nc_master_bg train --data d.svm --solver 0 --min-workers 2 --no-dashboard -v
WAIT_S=60 wait_for log_has master.log "iter 2 class" || { cat master.log; fail "training did not start"; }
stop_master INT 130 "master: stopped by SIGINT in the training phase; resume with: .*train --data d.svm --solver 0 --min-workers 2 --no-dashboard -v --config $T/config.json --resume"
[ -e "$T/model.txt" ] && fail "a model was written by a stopped job"
hint=$(sed -n 's/.*resume with: //p' master.log)
mv master.log master-mid.log
$hint >resume.out 2>master.log || { tail -5 master.log; fail "the resume hint did not finish the job"; }
grep -q "resume: continuing" master.log || fail "the hint did not resume from the journal"
[ -s "$T/model.txt" ] || fail "no model after resuming"
mv master.log master-resume.log

# 3. test, waiting for more workers than there are.
nc_master_bg test --data d.svm --min-workers 5 --no-dashboard
wait_for log_has master.log "waiting for 5 worker" || { cat master.log; fail "test did not start waiting"; }
stop_master INT 130 "master: interrupted while waiting for workers"
mv master.log master-test.log

# 3b. test, stopped mid-prediction (each shard's task slowed): the line
#     names the signal and the command that finishes the job.
stop_workers() { for n in "$@"; do kill "${WORKER_PID[$n]}" 2>/dev/null; wait "${WORKER_PID[$n]}" 2>/dev/null; done; }
stop_workers a b
NC_TEST_PREDICT_DELAY_MS=400 nc_worker p1
nc_master_bg test --data d.svm --out pred.csv --shard-rows 100 --min-workers 1 --no-dashboard
WAIT_S=60 wait_for log_has master.log "predicting: [1-9]" || { cat master.log; fail "test did not predict"; }
stop_master INT 130 "master: stopped by SIGINT with [0-9]* of [0-9]* shards done; resume with: .*test --data d.svm --out pred.csv --shard-rows 100 --min-workers 1 --no-dashboard --config $T/config.json --resume"
[ -e pred.csv ] && fail "a stopped test wrote its output"
hint=$(sed -n 's/.*resume with: //p' master.log)
mv master.log master-test-mid.log
$hint >resume-test.out 2>master.log || { tail -5 master.log; fail "the test's resume hint did not finish"; }
[ "$(wc -l <pred.csv)" -eq 1201 ] || fail "resumed test: $(wc -l <pred.csv) lines"
mv master.log master-test-resume.log
stop_workers p1
nc_worker a
NC_TEST_TRON_DELAY_MS=80 nc_worker b

# 4. serve mode ends with SIGTERM, status 0, also in the middle of a job
#    submitted over REST (no command line to offer for resuming it).
nc_master_bg serve -v --set "dashboard.files=$T"
wait_for log_has master.log "serving" || { cat master.log; fail "serve did not start"; }
curl -sf -X POST -H 'Content-Type: application/json' -d '{"mode":"train","data":"d.svm","model":"served.txt","min-workers":2}' \
    "http://127.0.0.1:$DASH_PORT/api/jobs" >/dev/null || fail "POST /api/jobs"
WAIT_S=60 wait_for log_has master.log "iter 2 class" || { cat master.log; fail "the served job did not train"; }
stop_master TERM 0 "master: stopped by SIGTERM in the training phase$"
grep -q "resume with" master.log && fail "serve offered a command line to resume a REST job"
echo ok
