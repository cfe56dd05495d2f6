#!/usr/bin/env bash
# Faults during exact training give the same model: a worker killed with
# SIGKILL mid-training (its shards move to the others and the round is
# recomputed: its group of shards is split, and the new holders get the
# points they lack), and a master killed with
# SIGKILL then restarted with --resume (continues from the SQLite journal, not
# from iteration 1). Workers are slowed by the NC_TEST_TRON_DELAY_MS seam so
# that the kills land in the middle.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
NC_SHARD_ROWS=400 nc_setup

# features renumbered 2j: the odd columns occur in no row, so TRON runs on
# the active columns only and the journal's full vectors are mapped back
gen_svm 2000 11 3 20 | awk '{ printf "%s", $1
    for (i = 2; i <= NF; i++) { split($i, a, ":"); printf " %d:%s", 2 * a[1], a[2] }
    print "" }' >d.svm
liblinear-train -q -s 0 -c 1 -e 0.01 -B 1 d.svm ref.txt >/dev/null || fail "liblinear-train"

export NC_TEST_TRON_DELAY_MS=60
nc_worker a
nc_worker b
nc_worker c

# 1. SIGKILL a worker after the first iterations.
nc_master_bg train --data d.svm --solver 0 --model kill.txt --out kill.sub.csv --min-workers 3 \
    --no-dashboard -v
WAIT_S=60 wait_for log_has master.log "iter 2 class" || { cat master.log; fail "training did not start"; }
kill -9 "${WORKER_PID[b]}"
note "killed worker b after: $(grep -c 'iter ' master.log) iteration line(s)"
wait "$MASTER_PID" || { tail -5 master.log; fail "master failed after a worker was killed"; }
grep -q "iter 5 class" master.log || fail "the kill did not land mid-training"
grep -Eq "[0-9]+ of [0-9]+ columns occur in the data" master.log || fail "no active columns"
check_model kill.txt ref.txt d.svm "worker SIGKILL mid-training"
[ "$(wc -l <kill.sub.csv)" -eq 2001 ] || fail "submission rows after the kill"
mv master.log master-kill.log

# 2. SIGKILL the master mid-training, then --resume.
nc_worker b2
nc_master_bg train --data d.svm --solver 0 --model resume.txt --out resume.sub.csv \
    --min-workers 3 --no-dashboard -v
WAIT_S=60 wait_for log_has master.log "iter 3 class" || { cat master.log; fail "training did not start"; }
kill -9 "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
before=$(grep -c 'iter ' master.log)
[ -f resume.txt ] && fail "a model was written by the killed master"
mv master.log master-killed.log
nc_master_bg train --data d.svm --solver 0 --model resume.txt --out resume.sub.csv \
    --min-workers 2 --no-dashboard --resume -v
wait "$MASTER_PID" || { tail -5 master.log; fail "resumed master failed"; }
grep -q "resume: continuing" master.log || { grep resume master.log; fail "did not resume from the journal"; }
grep -q "iter 1 class" master.log && fail "resumed run started again at iteration 1"
note "killed master after $before iteration line(s); resumed run printed $(grep -c 'iter ' master.log)"
check_model resume.txt ref.txt d.svm "master SIGKILL + --resume"
d=$(model_dist resume.txt kill.txt)
awk -v d="$d" 'BEGIN { exit !(d < 1e-9) }' || fail "resumed model differs from the other run ($d)"
exit 0
