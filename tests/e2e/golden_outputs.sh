#!/usr/bin/env bash
# Outputs are byte-identical to the recorded ones: models, schemas and
# submissions of a fixed set of jobs (exact TRON on libsvm, a mixed CSV with
# text, missing values and standard scaling, the average strategy, cross-
# validation, probability predictions) against tests/e2e/golden/outputs.sha256.
# This is the guard for restructuring the master and the protocol: a change that is meant to
# change no behaviour must leave these bytes alone. A change that means to
# change them regenerates the file with GOLDEN_UPDATE=1 and says why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
golden=$NC_ROOT/tests/e2e/golden/outputs.sha256
NC_SHARD_ROWS=500 nc_setup

gen_svm 1800 11 3 30 >multi.svm
gen_svm 1200 12 2 25 >binary.svm
# mixed CSV: id, a text column, a numeric column with missing values, label last
awk -v seed=13 'BEGIN {
    srand(seed); print "id,colour,size,weight,label";
    split("red green blue ochre", c, " ");
    for (i = 1; i <= 1500; i++) {
        col = c[1 + int(rand() * 4)]; size = sprintf("%.3f", rand() * 10);
        w = rand() < 0.1 ? "NA" : sprintf("%.2f", rand() * 100 - 50);
        s = (col == "red" ? 2 : col == "blue" ? -1 : 0) + size / 3 + (w == "NA" ? 0 : w / 40);
        print "row" i "," col "," size "," w "," (s + rand() * 2 > 2.5 ? "yes" : "no");
    }
}' >mixed.csv
head -1 mixed.csv >mixed_test.csv
tail -n +2 mixed.csv | awk 'NR % 3 == 0' >>mixed_test.csv

# One worker with one slot: exact training adds the answers of several
# workers in the order they arrive (a parallel reduction, whose last bits
# can differ from run to run); one worker sums its shards in shard order,
# which is the order the recorded outputs were made in.
nc_worker a --slots 1

run() {
    local name=$1 mode=$2; shift 2
    "$NC_BIN/master" "$mode" --config config.json --no-dashboard --min-workers 1 "$@" \
        >"$name.out" 2>"$name.log" || { tail -5 "$name.log"; fail "master $mode $name"; }
}
run svm0 train --data multi.svm --model svm0.txt --out svm0.sub.csv --solver 0 -C 0.5 --eps 0.001
run svm0t test --data multi.svm --model svm0.txt --out svm0.pred.csv
run bin2 train --data binary.svm --model bin2.txt --out bin2.sub.csv --solver 2 --eps 0.01
run mix train --data mixed.csv --model mix.txt --out mix.sub.csv --label label --id id \
    --scale standard --solver 0
run mixt test --data mixed_test.csv --model mix.txt --out mix.pred.csv --id id
run avg train --data multi.svm --model avg.txt --out avg.sub.csv --strategy average --solver 0
run cv train --data binary.svm --model cv.txt --out cv.sub.csv --solver 0 --cv 3
grep -o 'Cross Validation Accuracy = [0-9.]*%' cv.out >cv.acc || fail "no cross-validation line"

files="svm0.txt svm0.txt.schema.json svm0.sub.csv svm0.pred.csv bin2.txt bin2.sub.csv
       mix.txt mix.txt.schema.json mix.sub.csv mix.pred.csv avg.txt avg.sub.csv cv.txt cv.acc"
sha256sum $files >now.sha256
if [ -n "${GOLDEN_UPDATE:-}" ]; then
    cp now.sha256 "$golden"
    echo "golden outputs recorded in $golden"
    exit 0
fi
[ -f "$golden" ] || fail "no $golden: record it with GOLDEN_UPDATE=1"
diff "$golden" now.sha256 >diff.txt || { cat diff.txt; fail "outputs differ from the recorded ones"; }
echo "outputs byte-identical to the recorded ones ($(wc -l <now.sha256) files)"
