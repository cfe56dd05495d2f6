#!/usr/bin/env bash
# Bad training input is refused with one line and the contract's exit status,
# before any work is sent, and leaves no output behind: unknown solver, C or
# eps not positive, missing file (no worker needed: nothing waits for one);
# a bad row and a single-class label column (found by the workers' schema
# pass: exit 3 with the file and line).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
nc_setup
gen_svm 300 3 3 10 >d.svm

# expect STATUS PATTERN ARGS...: runs master train, checks the exit status,
# that stderr is one line matching PATTERN, and that no model was written.
expect() {
    local want=$1 pat=$2; shift 2
    local rc=0
    timeout 60 "$NC_BIN/master" train --config config.json --no-dashboard "$@" >out.txt 2>err.txt || rc=$?
    grep -v ' warn: \| info: ' err.txt >err1.txt
    [ "$rc" -eq "$want" ] || { cat err.txt; fail "$*: exit $rc, want $want"; }
    [ "$(wc -l <err1.txt)" -eq 1 ] || { cat err.txt; fail "$*: want one error line"; }
    grep -q -- "$pat" err1.txt || { cat err1.txt; fail "$*: message lacks '$pat'"; }
    [ -e model.txt ] && fail "$*: a model was written"
    note "$*: exit $rc: $(cat err1.txt)"
}

expect 2 "solver" --data d.svm --solver 99
expect 2 "C" --data d.svm -C 0
expect 2 "eps" --data d.svm --eps -1
expect 3 "nothere.svm" --data nothere.svm

nc_worker a
printf 'id,label,x,y\n1,a,1,2\n2,b,3,4\n3,a,5\n4,b,7,8\n' >bad.csv
expect 3 "bad.csv:4" --data bad.csv --min-workers 1
printf 'id,label,x\n1,a,1\n2,a,3\n3,a,5\n' >one.csv
expect 3 "class" --data one.csv --min-workers 1
printf '1 1:0.5\n-1 3:1 2:2\n' >order.svm
expect 3 "order.svm:2" --data order.svm --min-workers 1
exit 0
