#!/usr/bin/env bash
# Every row exactly once, in order, whatever happens to the processes:
#  1. 100,000 CSV rows, 4 workers, undisturbed: the reference output (its
#     predictions also equal liblinear-predict's on the libsvm twin).
#  2. Same job; one worker SIGKILLed mid-job, one frozen and thawed in a
#     loop (SIGSTOP/SIGCONT): output byte for byte the reference.
#  3. Master SIGKILLed mid-job, then `test --resume`: only unfinished shards
#     are redone and the output is byte for byte the reference.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/predict_lib.inc"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
NC_SHARD_ROWS=1000 nc_setup
make_csv_model "$T" || fail "liblinear-train"
gen_csv 100000 21 >test.csv
csv_to_svm <test.csv >test.svm
liblinear-predict test.svm model.txt ref.txt >/dev/null || fail "liblinear-predict"

run_master() { # OUT [extra args]: foreground job on test.csv
    local out=$1; shift
    "$NC_BIN/master" test --config config.json --data test.csv --model model.txt --out "$out" \
        --no-dashboard "$@" >>master.out 2>>master.log
}
check_ids() { # ids column = the CSV's ids, in order
    awk -F, 'NR > 1 { print $1 }' test.csv >want-ids.txt
    awk -F, 'NR > 1 { print $1 }' "$1" | cmp -s - want-ids.txt || fail "$1: ids differ from the input's"
}

for w in a b c d; do nc_worker "$w" --slots 1; done

# throttle PID...: a cpulimit-like duty cycle (frozen 80% of the time) so that
# the job lasts long enough for faults to land mid-job. Stops are shorter
# than the liveness timeout: throttled workers stay alive.
throttle() {
    ( while :; do
          kill -STOP "$@" 2>/dev/null; sleep 0.12
          kill -CONT "$@" 2>/dev/null; sleep 0.03
      done ) &
    THROTTLE=$!
    NC_PIDS+=("$THROTTLE")
}
unthrottle() { kill "$THROTTLE" 2>/dev/null; wait "$THROTTLE" 2>/dev/null; kill -CONT "$@" 2>/dev/null; }
journalled() { [ -f "$1" ] && [ "$(grep -c '^[OS]' "$1")" -ge "$2" ]; }

# 1. Undisturbed.
run_master ref.csv --min-workers 4 || { tail -5 master.log; fail "undisturbed run"; }
[ "$(wc -l <ref.csv)" -eq 100001 ] || fail "ref.csv rows: $(wc -l <ref.csv)"
check_ids ref.csv
awk -F, 'NR > 1 { print $(NF-3) }' ref.csv | sed 's/^yes$/0/; s/^maybe$/1/; s/^no$/2/' |
    cmp -s - ref.txt || fail "predictions differ from liblinear-predict on the twin"
note "undisturbed run: $(grep Accuracy master.out)"

# 2. Worker killed and worker stalled mid-job.
throttle "${WORKER_PID[a]}" "${WORKER_PID[c]}" "${WORKER_PID[d]}"
nc_master_bg test --data test.csv --model model.txt --out faults.csv --no-dashboard --min-workers 4
# b: frozen 0.5 s at a time (a straggler, but within liveness).
( while :; do
      kill -STOP "${WORKER_PID[b]}" 2>/dev/null; sleep 0.5
      kill -CONT "${WORKER_PID[b]}" 2>/dev/null; sleep 0.1
  done ) &
STALLER=$!
NC_PIDS+=("$STALLER")
WAIT_S=60 wait_for journalled .faults.csv.journal 3 || fail "no shard journalled"
kill -0 "$MASTER_PID" 2>/dev/null || fail "the job ended before the faults could be injected"
kill -9 "${WORKER_PID[a]}"
note "killed worker a mid-job ($(grep -c '^[OS]' .faults.csv.journal) shards stored)"
wait "$MASTER_PID"; rc=$?
kill "$STALLER" 2>/dev/null; wait "$STALLER" 2>/dev/null; kill -CONT "${WORKER_PID[b]}" 2>/dev/null
unthrottle "${WORKER_PID[c]}" "${WORKER_PID[d]}"
[ "$rc" -eq 0 ] || { tail -5 "$T/master.log"; fail "faulty run exited $rc"; }
cmp faults.csv ref.csv || fail "output with a killed and a stalled worker differs"
# Worker a died holding leases: they were run again elsewhere, as straggler
# copies or after it was declared lost.
grep -q "worker a .*lost\|slow on a;" master.log || fail "worker a's leases were never rerun"
note "faults run identical; master log: $(grep -c 'worker a .*lost' master.log) loss, $(grep -c 'slow on' master.log) straggler copies"

# 3. Master killed mid-job, then resumed (workers b, c, d, throttled).
throttle "${WORKER_PID[b]}" "${WORKER_PID[c]}" "${WORKER_PID[d]}"
nc_master_bg test --data test.csv --model model.txt --out resumed.csv --no-dashboard --min-workers 3
WAIT_S=60 wait_for journalled .resumed.csv.journal 10 || fail "no shard journalled"
kill -9 "$MASTER_PID"
unthrottle "${WORKER_PID[b]}" "${WORKER_PID[c]}" "${WORKER_PID[d]}"
wait "$MASTER_PID" 2>/dev/null
[ -f resumed.csv ] && ! cmp -s resumed.csv ref.csv && fail "a partial file under the final name"
if [ -f resumed.csv ]; then
    note "the master finished before the kill; resume is not exercised"; exit 1
fi
done_before=$(grep -c '^[OS]' .resumed.csv.journal)
run_master resumed.csv --resume || { tail -5 master.log; fail "resumed run"; }
cmp resumed.csv ref.csv || fail "resumed output differs"
grep -q "resuming: [1-9][0-9]* of 100 shards" master.log || fail "the resumed run redid everything"
[ ! -e .resumed.csv.journal ] && [ ! -e .resumed.csv.part ] || fail "temporary files left"
note "master killed after $done_before journal records; resumed output identical"
