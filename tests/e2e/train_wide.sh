#!/usr/bin/env bash
# A wide file trains: 100,000 columns, 2 rows (reading a CSV once cost time
# in the square of its column count: 50 s at 100k columns). Then the model
# tests the same file, whose header lists the columns in reverse order.
# A functional check, not a timed one.
. "$(dirname "$0")/lib.sh"
nc_setup
nc_worker a
N=100000
awk -v n="$N" 'BEGIN {
    printf "label"; for (i = 0; i < n; i++) printf ",c%d", i; printf "\n";
    printf "a"; for (i = 0; i < n; i++) printf ",%d", i % 7; printf "\n";
    printf "b"; for (i = 0; i < n; i++) printf ",%d", (i * 3) % 5; printf "\n";
}' >wide.csv
timeout 600 "$NC_BIN/master" train --config config.json --no-dashboard --min-workers 1 \
    --data wide.csv --label label --model wide.txt >train.out 2>train.err ||
    { tail -5 train.err; fail "training on $N columns failed"; }
grep -q "^nr_feature $N\$" wide.txt || fail "model: $(grep nr_feature wide.txt)"
[ "$(wc -l <submission_train.csv)" -eq 3 ] || fail "training predictions: $(wc -l <submission_train.csv) lines"
# The test file: the same rows, columns in reverse order.
awk -F, -v OFS=, '{ s = $NF; for (i = NF - 1; i >= 1; i--) s = s OFS $i; print s }' wide.csv >rev.csv
timeout 600 "$NC_BIN/master" test --config config.json --no-dashboard --min-workers 1 \
    --data rev.csv --label label --model wide.txt --out rev_pred.csv >test.out 2>test.err ||
    { tail -5 test.err; fail "testing on $N reversed columns failed"; }
# id,label,predicted (training) and id,predicted,prob_a,prob_b (testing)
cut -d, -f3 submission_train.csv | tail -n +2 >a.txt
cut -d, -f2 rev_pred.csv | tail -n +2 >b.txt
[ "$(cat a.txt)" = "$(printf 'a\nb')" ] || fail "training predictions: $(cat a.txt)"
cmp -s a.txt b.txt || fail "predictions differ with the columns reordered: $(paste a.txt b.txt)"
note "$N columns: $(cat train.out train.err | grep -o 'time: .*' | head -1)"
exit 0
