#!/usr/bin/env bash
# Bad input to `master test`: exit 3, one error line naming the problem, no
# output file (and no temporary files). No worker is needed: these are found
# before any work is sent. A good run at the end shows the setup itself works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/predict_lib.inc"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
nc_setup
make_csv_model "$T" || fail "liblinear-train"
gen_csv 500 5 >test.csv

# expect_bad WHAT PATTERN ARGS...: exit 3, exactly one "master:" error line
# matching PATTERN, nothing written.
expect_bad() {
    local what=$1 pat=$2; shift 2
    rm -f out.csv .out.csv.*
    timeout 60 "$NC_BIN/master" test --config config.json --out out.csv --no-dashboard "$@" \
        >bad.out 2>bad.err
    local rc=$?
    [ "$rc" -eq 3 ] || { cat bad.err; fail "$what: exit $rc, want 3"; }
    local lines
    lines=$(grep -c '^master: ' bad.err)
    [ "$lines" -eq 1 ] || { cat bad.err; fail "$what: $lines error lines, want 1"; }
    grep '^master: ' bad.err | grep -q -- "$pat" || { cat bad.err; fail "$what: message lacks '$pat'"; }
    # Only our error line and log lines (timestamped) on stderr.
    ! grep -v '^master: \|^[0-9-]*T[0-9:.]*Z master ' bad.err | grep -q . ||
        { cat bad.err; fail "$what: stray output on stderr"; }
    [ ! -e out.csv ] || fail "$what: an output file was written"
    ! ls -a | grep -q '^\.out\.csv\.' || fail "$what: temporary files left"
    note "$what: $(grep '^master: ' bad.err)"
}

expect_bad "missing model" "no model nosuch.txt: train first" --data test.csv --model nosuch.txt
printf 'hello world\n1 2 3\n' >notmodel.txt
expect_bad "not a model" "notmodel.txt" --data test.csv --model notmodel.txt
head -c 3000 /dev/urandom >binary.txt
expect_bad "binary junk as model" "binary.txt" --data test.csv --model binary.txt
# A model file that starts right but breaks off.
head -3 model.txt >trunc.txt
cp model.txt.schema.json trunc.txt.schema.json
expect_bad "truncated model" "trunc.txt" --data test.csv --model trunc.txt

# Test file missing the column "b" that the model was trained with.
cut -d, -f1,2,4,5 test.csv >nob.csv
expect_bad "missing column" '"b"' --data nob.csv --model model.txt
# A feature column given twice.
paste -d, test.csv <(cut -d, -f3 test.csv) >twice.csv
expect_bad "repeated column" 'twice.csv:1:6: column "b" appears twice' --data twice.csv --model model.txt
# Missing test file.
expect_bad "missing test file" "nosuch.csv" --data nosuch.csv --model model.txt
# CSV test file and a model without a schema.
cp model.txt bare.txt
expect_bad "no schema" "schema" --data test.csv --model bare.txt
# A schema that does not match the model (2 classes, the model has 3).
cp model.txt mism.txt
tr -d '\n' <model.txt.schema.json | sed 's/, *{"name": "no", "value": 2, "count": 1}//' >mism.txt.schema.json
grep -q '"no"' mism.txt.schema.json && fail "test setup: could not drop a label"
expect_bad "schema/model mismatch" "mism.txt" --data test.csv --model mism.txt
# Bad data in a row: the worker reports it, the master exits 3 naming the line.
nc_worker w1
{ head -100 test.csv; echo "r100x,1,2"; tail -n +101 test.csv; } >short.csv
expect_bad "short row" "short.csv:101" --data short.csv --model model.txt

# The same setup with good input works.
"$NC_BIN/master" test --config config.json --out out.csv --no-dashboard --data test.csv \
    --model model.txt >good.out 2>good.err || { cat good.err; fail "good run"; }
[ "$(wc -l <out.csv)" -eq 501 ] || fail "good run: $(wc -l <out.csv) lines"
