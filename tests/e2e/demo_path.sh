#!/usr/bin/env bash
# Issue 8: the demo path (scripts/demo.sh, as `make demo` runs it) on a small
# Fashion-MNIST subset: data prepared, 2 workers, training then testing; the
# model, the schema and both submissions exist with one line per row.
# Issue 18: one master (serve) ran both jobs, submitted with `master submit`.
. "$(dirname "$0")/lib.sh"
[ -d /usr/share/datasets/fashion-mnist ] || { echo "dataset-fashion-mnist not installed"; exit 77; }
nc_setup
mkdir -p "$T/Data"
# make demo's own paths: model and outputs under Data/ (of $T), the files
# root of the jobs it submits
python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); del c["model"], c["output"]
json.dump(c, open(sys.argv[1], "w"))' "$T/config.json" || fail "config"
KEEP=0 TRAIN_ROWS=1500 TEST_ROWS=400 DEMO_DIR=$T CONFIG=$T/config.json NC_REL_BIN=$NC_BIN \
    timeout 600 "$NC_ROOT/scripts/demo.sh" >"$T/demo.out" 2>&1 ||
    { tail -30 "$T/demo.out"; tail -30 "$T/Data/demo-master.log"; fail "demo.sh failed"; }
cat "$T/demo.out" | grep -v " info: " | tail -12
for f in Data/train.csv Data/test.csv Data/model.txt Data/model.txt.schema.json; do
    [ -s "$T/$f" ] || fail "missing $f"
done
[ "$(wc -l < "$T/Data/submission_train.csv")" -eq 1501 ] || fail "submission_train.csv: expected 1501 lines"
[ "$(wc -l < "$T/Data/submission_test.csv")" -eq 401 ] || fail "submission_test.csv: expected 401 lines"
head -1 "$T/Data/submission_train.csv" | grep -q '^id,label,predicted' || fail "submission_train.csv header"
head -1 "$T/Data/submission_test.csv" | grep -q '^id,predicted' || fail "submission_test.csv header"
# ids in input order
cut -d, -f1 "$T/Data/submission_test.csv" | tail -n +2 | diff -q - <(seq 1 400) >/dev/null || fail "test ids not 1..400 in order"
# one master ran both jobs: its history holds runs 1 (train) and 2 (test), both done
"$NC_BIN/master" runs --config "$T/config.json" >"$T/runs.out" || fail "master runs"
grep -Eq '^1 +train +done' "$T/runs.out" || { cat "$T/runs.out"; fail "run 1 is not a done training"; }
grep -Eq '^2 +test +done' "$T/runs.out" || { cat "$T/runs.out"; fail "run 2 is not a done test"; }
[ "$(grep -c 'serving: submit jobs' "$T/Data/demo-master.log")" -eq 1 ] || fail "not one serving master"
grep -Eq "Accuracy = [0-9.]+%" "$T/demo.out" || fail "no test accuracy printed"
grep -q "demo: done in" "$T/demo.out" || fail "no summary"
echo "ok: demo path"
