#!/usr/bin/env bash
# A value means the same thing in training and testing: a number that is not
# finite (inf, 1e999), one past 1e100 (-1e308) and text that is not UTF-8
# (a field or a header name) are data errors in both modes: exit 3 and one
# line "FILE:LINE:COL: what", never a silent one-hot column or a nan
# prediction. And the first bad line of a file is the one reported, whichever
# shard's error reaches the master first: checked over repeated runs with
# 2-row shards on two workers, CSV and libsvm, training and testing.
. "$(dirname "$0")/lib.sh"
nc_setup
nc_worker a
nc_worker b

# run MODE ARGS...: master MODE; sets RC and MSG (the one "master:" line).
run() {
    local mode=$1; shift
    rm -f out.csv
    RC=0
    timeout 120 "$NC_BIN/master" "$mode" --config config.json --no-dashboard --min-workers 2 \
        "$@" >run.out 2>run.err || RC=$?
    MSG=$(grep '^master: ' run.err | sed 's/^master: //')
    [ "$(grep -c '^master: ' run.err)" -le 1 ] || { cat run.err; fail "$mode $*: several error lines"; }
}

# expect MODE WANT ARGS...: exit 3 and exactly the message WANT.
expect() {
    local mode=$1 want=$2; shift 2
    run "$mode" "$@"
    [ "$RC" -eq 3 ] || { cat run.err; fail "$mode $*: exit $RC, want 3"; }
    [ "$MSG" = "$want" ] || { cat run.err; fail "$mode $*: got [$MSG], want [$want]"; }
    note "$mode: $MSG"
}

# A model trained on good data, for the test-mode checks.
printf 'label,x,city\n' >good.csv
for i in $(seq 1 40); do
    printf '%s,%s,%s\n' "$([ $((i % 2)) = 0 ] && echo yes || echo no)" "$((i % 9))" \
        "$([ $((i % 3)) = 0 ] && echo Nice || echo Paris)" >>good.csv
done
run train --data good.csv --label label --model m.txt
[ "$RC" -eq 0 ] || { cat run.err; fail "training on good data: exit $RC"; }

# bad FILE LINE FIELDS...: good.csv with line LINE replaced by FIELDS.
bad() {
    local f=$1 n=$2; shift 2
    awk -v n="$n" -v row="$*" 'NR == n { print row; next } { print }' good.csv >"$f"
}
NF_MSG='(write an empty field or NA for a missing value)'
UTF_MSG='convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8'
bad inf.csv 5 'no,inf,Paris'
bad big.csv 7 'no,1e999,Paris'
bad m308.csv 9 'yes,-1e308,Nice'
bad textinf.csv 6 'yes,3,-Infinity'
bad latin.csv 11 "$(printf 'no,2,B\xe9ziers')"
{ printf 'label,x,cit\xe9\n'; tail -n +2 good.csv; } >lathead.csv
for mode in train test; do
    extra=(--label label --model m.txt)
    [ "$mode" = train ] && extra=(--label label --model m2.txt)
    expect "$mode" "inf.csv:5:2: not a finite number: inf $NF_MSG" --data inf.csv "${extra[@]}"
    expect "$mode" "big.csv:7:2: not a finite number: 1e999 $NF_MSG" --data big.csv "${extra[@]}"
    expect "$mode" "m308.csv:9:2: number out of range (more than 1e100): -1e308" \
        --data m308.csv "${extra[@]}"
    expect "$mode" "textinf.csv:6:3: not a finite number: -Infinity $NF_MSG" \
        --data textinf.csv "${extra[@]}"
    expect "$mode" "latin.csv:11:3: not valid UTF-8 (byte 0xE9 at offset 1 of the field); $UTF_MSG" \
        --data latin.csv "${extra[@]}"
    expect "$mode" "lathead.csv:1:3: not valid UTF-8 (byte 0xE9 at offset 3 of the column name); $UTF_MSG" \
        --data lathead.csv "${extra[@]}"
done
[ -e m2.txt ] && fail "a model was written from bad data"

# First bad line, many runs: lines 3 and 30 bad, 2-row shards, two workers.
bad two.csv 3 'no,inf,Paris'
awk 'NR == 30 { print "yes,1e999,Nice"; next } { print }' two.csv >two2.csv
mv two2.csv two.csv
awk -F, 'NR > 1 { printf "%d 1:%s 2:%d\n", ($1 == "yes") ? 1 : -1, $2, ($3 == "Nice") }' good.csv >good.svm
run train --data good.svm --model s.txt
[ "$RC" -eq 0 ] || { cat run.err; fail "training on good libsvm: exit $RC"; }
awk 'NR == 1 { print "1 x:1"; next } NR == 12 { print "-1 1:1 y:2"; next } { print }' good.svm >two.svm
for i in 1 2 3 4 5 6; do
    expect train "two.csv:3:2: not a finite number: inf $NF_MSG" --data two.csv --shard-rows 2 \
        --label label --model m2.txt
    expect test "two.csv:3:2: not a finite number: inf $NF_MSG" --data two.csv --shard-rows 2 \
        --label label --model m.txt
    expect train "two.svm:1: Wrong input format at line 1: bad feature index" --data two.svm \
        --shard-rows 2 --model s2.txt
    expect test "two.svm:1: Wrong input format at line 1: bad feature index" --data two.svm \
        --shard-rows 2 --model s.txt
done
exit 0
