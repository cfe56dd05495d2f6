#!/usr/bin/env bash
# Bad training input is refused with one line and the contract's exit status,
# before any work is sent, and leaves no output behind: unknown solver, C or
# eps not positive, missing file, a label or text column not in the header
# (no worker needed: nothing waits for one);
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

# A wrong label or text column in a wide file: found before waiting for any
# worker (none is up), with a suggestion and the header's first columns, not
# the whole header.
{ printf 'id,label'; for i in $(seq 0 783); do printf ',p%d' "$i"; done; echo
  printf '1,a'; for i in $(seq 0 783); do printf ',0'; done; echo; } >wide.csv
expect 3 'wide.csv:1: no label column "lable" (did you mean "label"? the header has 786 columns: id, label, p0, p1, p2, p3, ...) (data.label or --label)$' \
    --data wide.csv --label lable --min-workers 1
grep -q "waiting for" err.txt && fail "the label was checked after waiting for workers"
expect 3 'no label column "target" (the header has 786 columns: id, label, p0' --data wide.csv --label target
expect 2 'no text column "p0x" (did you mean "p0"? the header' --data wide.csv --text p0x
expect 3 'no label column "Label" (did you mean "label"?' --data wide.csv --label Label

nc_worker a
printf 'id,label,x,y\n1,a,1,2\n2,b,3,4\n3,a,5\n4,b,7,8\n' >bad.csv
expect 3 "bad.csv:4" --data bad.csv --min-workers 1
printf 'id,label,x\n1,a,1\n2,a,3\n3,a,5\n' >one.csv
expect 3 "class" --data one.csv --min-workers 1
# an id column close to one of the file's: a typo, warned about before the wait
expect 3 "class" --data one.csv --id ID --min-workers 1
grep -q 'warn: one.csv:1: no id column "ID" (did you mean "id"?): the rows are numbered instead' err.txt ||
    { cat err.txt; fail "--id ID: no warning"; }
grep -q 'no id column' <(sed -n '/waiting for/,$p' err.txt) && fail "--id ID: warned after the wait"
printf '1 1:0.5\n-1 3:1 2:2\n' >order.svm
expect 3 "order.svm:2" --data order.svm --min-workers 1
exit 0
