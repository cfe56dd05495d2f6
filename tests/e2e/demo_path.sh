#!/usr/bin/env bash
# Issue 8: the demo path (scripts/demo.sh, as `make demo` runs it) on a small
# Fashion-MNIST subset: data prepared, 2 workers, training then testing; the
# model, the schema and both submissions exist with one line per row.
. "$(dirname "$0")/lib.sh"
[ -d /usr/share/datasets/fashion-mnist ] || { echo "dataset-fashion-mnist not installed"; exit 77; }
nc_setup
mkdir -p "$T/Data"
TRAIN_ROWS=1500 TEST_ROWS=400 DEMO_DIR=$T CONFIG=$T/config.json NC_REL_BIN=$NC_BIN \
    timeout 600 "$NC_ROOT/scripts/demo.sh" --no-dashboard >"$T/demo.out" 2>&1 ||
    { tail -30 "$T/demo.out"; fail "demo.sh failed"; }
cat "$T/demo.out" | grep -v " info: " | tail -12
for f in Data/train.csv Data/test.csv model.txt model.txt.schema.json; do
    [ -s "$T/$f" ] || fail "missing $f"
done
[ "$(wc -l < "$T/submission_train.csv")" -eq 1501 ] || fail "submission_train.csv: expected 1501 lines"
[ "$(wc -l < "$T/submission_test.csv")" -eq 401 ] || fail "submission_test.csv: expected 401 lines"
head -1 "$T/submission_train.csv" | grep -q '^id,label,predicted' || fail "submission_train.csv header"
head -1 "$T/submission_test.csv" | grep -q '^id,predicted' || fail "submission_test.csv header"
# ids in input order
cut -d, -f1 "$T/submission_test.csv" | tail -n +2 | diff -q - <(seq 1 400) >/dev/null || fail "test ids not 1..400 in order"
grep -Eq "Accuracy = [0-9.]+%" "$T/demo.out" || fail "no test accuracy printed"
grep -q "demo: done in" "$T/demo.out" || fail "no summary"
echo "ok: demo path"
