#!/usr/bin/env bash
# --data on the command line may be a pipe, /dev/stdin or a FIFO: the master
# copies it into a temporary file in $TMPDIR (removed at exit) and trains or
# tests from that, to the same model and predictions as from the file. A FIFO
# with no writer says it waits for one instead of hanging silently; a
# directory or a device is bad usage (exit 2, one line).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
nc_setup
mkdir tmp
export TMPDIR=$T/tmp
gen_svm 600 7 3 8 | svm_to_csv 8 >d.csv
M=$NC_BIN/master

# 1. wrong kinds of path: exit 2, one line naming the path.
for p in "$T" /dev/null; do
    "$M" train --data "$p" --no-dashboard --config config.json >/dev/null 2>err.txt
    rc=$?
    [ $rc -eq 2 ] || { cat err.txt; fail "--data $p: exit $rc, expected 2"; }
    grep -q "^master: $p: is a .*; --data takes a regular file, a pipe or a FIFO$" err.txt ||
        { cat err.txt; fail "--data $p: message"; }
done

nc_worker a
run() { "$M" "$@" --no-dashboard --config config.json >run.out 2>run.log; }

# 2. the reference: the file itself.
run train --data d.csv --model ref.txt --out ref.sub.csv || { cat run.log; fail "train from the file"; }
run test --data d.csv --model ref.txt --out ref.pred.csv || { cat run.log; fail "test from the file"; }

# 3. a pipe on /dev/stdin: the same model and the same predictions.
cat d.csv | run train --data /dev/stdin --model pipe.txt --out pipe.sub.csv ||
    { cat run.log; fail "train from a pipe"; }
grep -q "/dev/stdin is a pipe: copied $(stat -c %s d.csv) bytes to $T/tmp/" run.log ||
    { cat run.log; fail "no log line for the copy"; }
cmp pipe.txt ref.txt || fail "the model from a pipe differs"
cmp pipe.sub.csv ref.sub.csv || fail "the submission from a pipe differs"
cat d.csv | run test --data /dev/stdin --model ref.txt --out pipe.pred.csv ||
    { cat run.log; fail "test from a pipe"; }
cmp pipe.pred.csv ref.pred.csv || fail "the predictions from a pipe differ"
[ -z "$(ls tmp)" ] || fail "temporary copies left behind: $(ls tmp)"

# 4. a FIFO whose writer is already there.
mkfifo f.csv
cat d.csv >f.csv &
run train --data f.csv --model fifo.txt --out fifo.sub.csv || { cat run.log; fail "train from a FIFO"; }
cmp fifo.txt ref.txt || fail "the model from a FIFO differs"

# 5. a FIFO with no writer yet: says so, then reads the writer that comes.
nc_master_bg train --data f.csv --model late.txt --out late.sub.csv --no-dashboard
wait_for log_has master.log "waiting for a writer on FIFO f.csv" || { cat master.log; fail "no waiting line"; }
cat d.csv >f.csv
wait "$MASTER_PID" || { cat master.log; fail "train from a late FIFO writer"; }
cmp late.txt ref.txt || fail "the model from a late FIFO writer differs"

# 6. ... or stops cleanly on Ctrl-C while it waits.
nc_master_bg train --data f.csv --no-dashboard
wait_for log_has master.log "waiting for a writer on FIFO f.csv" || { cat master.log; fail "no waiting line"; }
kill -INT "$MASTER_PID"
wait "$MASTER_PID"
rc=$?
[ $rc -eq 130 ] || { cat master.log; fail "Ctrl-C while waiting for a FIFO writer: exit $rc"; }
grep -q "master: f.csv: stopped while waiting for a writer on the FIFO" master.log || fail "stop message"
[ -z "$(ls tmp)" ] || fail "temporary copies left behind: $(ls tmp)"
echo ok
