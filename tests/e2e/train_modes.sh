#!/usr/bin/env bash
# The other training modes: --cv K on the cluster (accuracy close to
# liblinear-train -v K, whose folds are random), the average strategy with a
# dual solver, and --strategy average --rounds 3 (parameter mixing with
# init_sol) for solver 0; their models are read by liblinear-predict and
# predict as well as the exact model within a few points; a job_done without
# a journal left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
NC_SHARD_ROWS=500 nc_setup
gen_svm 2000 21 3 20 >d.svm
nc_worker a
nc_worker b

train() {
    local name=$1; shift
    "$NC_BIN/master" train --config config.json --no-dashboard --data d.svm --model "$name.txt" \
        --out "$name.sub.csv" --min-workers 2 "$@" >"$name.out" 2>"$name.log" ||
        { tail -5 "$name.log"; fail "master train $name"; }
}
acc_of() { liblinear-predict d.svm "$1" /dev/null | sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p'; }

train cv --solver 0 --cv 5
ours=$(sed -n 's/^Cross Validation Accuracy = \([0-9.]*\)%.*/\1/p' cv.out)
ref=$(liblinear-train -q -v 5 -s 0 -B 1 d.svm | sed -n 's/^Cross Validation Accuracy = \([0-9.]*\)%.*/\1/p')
[ -n "$ours" ] || fail "no cross-validation line"
awk -v a="$ours" -v b="$ref" 'BEGIN { exit !(a - b < 3 && b - a < 3) }' || fail "cv $ours vs liblinear $ref"
note "cv accuracy $ours % (liblinear -v 5: $ref %)"
exact=$(acc_of cv.txt)

train dual --solver 1
train mix --solver 0 --strategy average --rounds 3
grep -q "average round 3/3" mix.log || fail "--rounds 3 did not run 3 rounds"
for m in dual mix; do
    a=$(acc_of $m.txt)
    awk -v a="$a" -v b="$exact" 'BEGIN { exit !(b - a < 3) }' || fail "$m accuracy $a vs exact $exact"
    t=$(sed -n 's/^Training accuracy = \([0-9.]*\)%.*/\1/p' $m.out)
    awk -v a="$a" -v t="$t" 'BEGIN { exit !(a - t < 0.01 && t - a < 0.01) }' ||
        fail "$m: printed accuracy $t, liblinear-predict $a"
    note "$m: accuracy $a % (exact $exact %)"
done
exit 0
