#!/usr/bin/env bash
# bin/master with no command asks the mode, then the data file with the
# config's value as the default, and runs the job with make demo's settings
# (--scale none, as scripts/demo.sh passes); command-line options still win.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
nc_setup
gen_svm 400 3 3 8 | svm_to_csv 8 >mine.csv
gen_svm 100 4 3 8 | svm_to_csv 8 >t.csv
nc_worker a

# 1. training: the data file typed at the prompt
printf '1\nmine.csv\n' | "$NC_BIN/master" --config config.json --no-dashboard >p1.out 2>p1.log ||
    { tail -5 p1.log; fail "interactive training"; }
grep -q 'Select mode: \[1\] Training (Enter) \[2\] Testing: Data file \[Data/train.csv\]: ' p1.out ||
    { cat p1.out; fail "no data file question with the config's default"; }
grep -q "train: mine.csv, 400 rows" p1.log || { cat p1.log; fail "did not train on the file typed"; }
grep -q '"scale": "none"' model.txt.schema.json || fail "the prompt's job did not use --scale none"
grep -q 'Training accuracy = ' p1.out || fail "no accuracy"

# 2. testing: Enter takes the config's file; an option given still wins over the demo's default
printf '2\n\n' | "$NC_BIN/master" --config config.json --no-dashboard --set data.test=t.csv \
    >p2.out 2>p2.log || { tail -5 p2.log; fail "interactive testing"; }
grep -q 'Data file \[t.csv\]: ' p2.out || { cat p2.out; fail "test: no default t.csv"; }
[ "$(wc -l <submission_test.csv)" -eq 101 ] || fail "test: submission of t.csv"
printf '1\nmine.csv\n' | "$NC_BIN/master" --config config.json --no-dashboard --scale minmax \
    >p3.out 2>p3.log || { tail -5 p3.log; fail "interactive training --scale minmax"; }
grep -q '"scale": "minmax"' model.txt.schema.json || fail "--scale minmax lost to the prompt's default"

# 3. end of input at the data question: the default
printf '1\n' | "$NC_BIN/master" --config config.json --no-dashboard --set data.train=mine.csv \
    >p4.out 2>p4.log || { tail -5 p4.log; fail "interactive training, end of input"; }
grep -q "train: mine.csv" p4.log || fail "end of input: not the default file"
echo "ok: prompt asks mode and data file, runs as the demo"
