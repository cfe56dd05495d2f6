#!/usr/bin/env bash
# A training job's outputs are committed together, and never over an input:
# - --out = --data, --model = --data, --out = --model: exit 2 before waiting
#   for workers, one line naming both files, the data file intact;
# - a train whose submission cannot be written (its folder is a full 256 KB
#   tmpfs) fails with exit 1 and one line, and leaves the previous model and
#   schema byte-identical and no temporary file behind;
# - `test` predictions onto the full tmpfs: exit 1, one line, no output, no
#   temporary file;
# - `train --out -` puts on stdout the bytes of the submission file;
# - `train --model DEVICE` leaves the device and writes no schema beside it.
# The tmpfs cases need mount (root); without it they are skipped (exit 77
# after the rest has passed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
NC_SHARD_ROWS=2000 nc_setup
gen_svm 2000 21 3 20 >small.svm
gen_svm 40000 22 3 20 >big.svm
nc_worker a
nc_worker b

train() { # train ARGS...: exit status in $rc
    timeout 300 "$NC_BIN/master" train --config config.json --no-dashboard --min-workers 2 "$@" \
        >run.out 2>run.err
    rc=$?
}

expect_clash() { # expect_clash WHAT ARGS...
    local what=$1; shift
    local before
    before=$(sha256sum <small.svm)
    timeout 20 "$NC_BIN/master" train --config config.json --no-dashboard --min-workers 5 "$@" \
        >clash.out 2>clash.err
    local rc=$?
    [ "$rc" -eq 2 ] || { cat clash.err; fail "$what: exit $rc, want 2"; }
    [ "$(grep -c '^master: ' clash.err)" -eq 1 ] || { cat clash.err; fail "$what: not one error line"; }
    grep '^master: ' clash.err | grep -q 'same file' || { cat clash.err; fail "$what: message"; }
    ! grep -q 'waiting for' clash.err || fail "$what: waited for workers before refusing"
    [ "$(sha256sum <small.svm)" = "$before" ] || fail "$what: the data file changed"
    note "$what: $(grep '^master: ' clash.err)"
}
expect_clash "--out = --data" --data small.svm --model m.txt --out small.svm
expect_clash "--model = --data" --data small.svm --model small.svm --out s.csv
expect_clash "--out = --model" --data small.svm --model m.txt --out m.txt
[ ! -e m.txt ] && [ ! -e s.csv ] || fail "a refused job wrote an output"
# An output folder that does not exist: exit 1 before waiting for workers.
timeout 20 "$NC_BIN/master" train --config config.json --no-dashboard --min-workers 5 \
    --data small.svm --model m.txt --out nodir/s.csv >run.out 2>run.err
rc=$?
[ "$rc" -eq 1 ] || { cat run.err; fail "--out in a missing folder: exit $rc, want 1"; }
[ "$(grep -c '^master: ' run.err)" -eq 1 ] || { cat run.err; fail "missing folder: not one error line"; }
grep '^master: ' run.err | grep -q 'nodir/.s.csv.new: cannot create' || { cat run.err; fail "missing folder: message"; }
! grep -q 'runtime error' run.err || { cat run.err; fail "missing folder: crash"; }
[ ! -e m.txt ] && [ ! -e .m.txt.new ] || fail "missing folder: files left: $(ls -A)"

# The submission on stdout is the submission file's bytes.
train --data small.svm --model m.txt --out s.csv
[ "$rc" -eq 0 ] || { cat run.err; fail "train: exit $rc"; }
train --data small.svm --model m2.txt --out -
[ "$rc" -eq 0 ] || { cat run.err; fail "train --out -: exit $rc"; }
cmp -s run.out s.csv || { head -3 run.out; fail "train --out - wrote other bytes than the file"; }
grep -q '^Training accuracy' run.err || fail "train --out -: the report is not on stderr"

# The model into a device (a private /dev/null twin): written in place, and
# no schema is made beside the device.
if mknod "$T/nul" c 1 3 2>/dev/null; then
    train --data small.svm --model "$T/nul" --out s3.csv
    [ "$rc" -eq 0 ] || { cat run.err; fail "train --model DEVICE: exit $rc"; }
    [ -c "$T/nul" ] || fail "train --model replaced the device"
    ! ls -A "$T" | grep -q 'nul\.' || fail "files beside the device: $(ls -A "$T" | grep nul)"
    cmp -s s3.csv s.csv || fail "train --model DEVICE: another submission"
fi

mkdir small
mount -t tmpfs -o size=256k tmpfs small 2>/dev/null ||
    { echo "mount -t tmpfs not permitted: the full-disk cases are skipped"; exit 77; }
trap 'umount "$T/small" 2>/dev/null; nc_cleanup' EXIT

# A first model on the small disk, then a training on other data whose
# submission (about 400 KB) does not fit.
train --data small.svm --model small/model.txt --out small/sub.csv
[ "$rc" -eq 0 ] || { cat run.err; fail "first train: exit $rc"; }
before=$(cd small && sha256sum model.txt model.txt.schema.json sub.csv)
train --data big.svm --model small/model.txt --out small/sub.csv
[ "$rc" -eq 1 ] || { cat run.err; fail "train onto a full disk: exit $rc, want 1"; }
[ "$(grep -c '^master: ' run.err)" -eq 1 ] || { cat run.err; fail "full disk: not one error line"; }
grep '^master: ' run.err | grep -q 'No space left on device' || { cat run.err; fail "full disk: message"; }
[ "$(cd small && sha256sum model.txt model.txt.schema.json sub.csv)" = "$before" ] ||
    fail "the failed train changed the previous model, schema or submission"
[ "$(ls -A small | tr '\n' ' ')" = "model.txt model.txt.schema.json sub.csv " ] ||
    fail "files left on the full disk: $(ls -A small | tr '\n' ' ')"
note "train onto a full disk: $(grep '^master: ' run.err)"

# Predictions onto the full disk.
timeout 120 "$NC_BIN/master" test --config config.json --no-dashboard --data big.svm \
    --model small/model.txt --out small/pred.csv >run.out 2>run.err
rc=$?
[ "$rc" -eq 1 ] || { cat run.err; fail "test onto a full disk: exit $rc, want 1"; }
[ "$(grep -c '^master: ' run.err)" -eq 1 ] || { cat run.err; fail "test, full disk: not one error line"; }
grep '^master: ' run.err | grep -q 'No space left on device' || { cat run.err; fail "test, full disk: message"; }
[ "$(ls -A small | tr '\n' ' ')" = "model.txt model.txt.schema.json sub.csv " ] ||
    fail "files left by the test job on the full disk: $(ls -A small | tr '\n' ' ')"
note "test onto a full disk: $(grep '^master: ' run.err)"
exit 0
