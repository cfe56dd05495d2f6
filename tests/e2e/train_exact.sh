#!/usr/bin/env bash
# Exact training reaches liblinear-train's model: 3 classes and 2 classes
# (labels -1/+1), sparse libsvm and its dense CSV twin, solvers 0 and 2, with
# 1, 2 and 4 workers. Weights within 1e-3 relative L2 distance of
# `liblinear-train -s S -c 1 -e 0.01 -B 1`, predictions (liblinear-predict
# with either model file) identical on >= 99.9 % of rows; the submission has
# every row in input order. Also sparse text-shaped data with columns that
# no row touches.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
NC_SHARD_ROWS=600 nc_setup

gen_svm 2000 7 3 20 >multi.svm
gen_svm 1500 8 2 20 >binary.svm
svm_to_csv 20 <multi.svm >multi.csv
for s in 0 2; do
    for f in multi binary; do
        liblinear-train -q -s $s -c 1 -e 0.01 -B 1 $f.svm ref-$f-$s.txt >/dev/null ||
            fail "liblinear-train -s $s $f"
    done
done

nc_worker a
nc_worker b

# train NAME ARGS...: one training run with the 2 workers already up.
train() {
    local name=$1; shift
    "$NC_BIN/master" train --config config.json --no-dashboard --model "$name.txt" \
        --out "$name.sub.csv" "$@" >"$name.out" 2>"$name.log" ||
        { tail -5 "$name.log"; fail "master train $name"; }
}

for s in 0 2; do
    for f in multi binary; do
        v=(); [ $f = binary ] && v=(-v) # per-class iteration lines: -v only
        train "our-$f-$s" --data $f.svm --solver $s -C 1 --eps 0.01 --bias 1 --min-workers 2 "${v[@]}"
        check_model "our-$f-$s.txt" "ref-$f-$s.txt" $f.svm "libsvm $f -s $s, 2 workers"
    done
done

# Outputs of one run: schema beside the model, submission in input order,
# the accuracy line, per-iteration lines with -v only.
[ -s our-multi-0.txt.schema.json ] || fail "no schema beside the model"
[ "$(head -1 our-multi-0.sub.csv)" = "id,label,predicted" ] || fail "submission header"
[ "$(wc -l <our-multi-0.sub.csv)" -eq 2001 ] || fail "submission rows $(wc -l <our-multi-0.sub.csv)"
tail -n +2 our-multi-0.sub.csv | cut -d, -f1 | cmp -s - <(seq 1 2000) || fail "submission ids not in order"
tail -n +2 our-multi-0.sub.csv | cut -d, -f2 | cmp -s - <(cut -d' ' -f1 multi.svm) ||
    fail "submission labels are not the file's"
# our predictions are liblinear-predict's with our model file
liblinear-predict multi.svm our-multi-0.txt p_self.txt >/dev/null
tail -n +2 our-multi-0.sub.csv | cut -d, -f3 | cmp -s - p_self.txt ||
    fail "submission predictions differ from liblinear-predict with our model"
grep -q '^Training accuracy = ' our-multi-0.out || fail "no accuracy line"
grep -q 'iter [0-9]* class' our-multi-0.log && fail "iteration lines without -v"
grep -q 'iter 1 class 0 f=' our-binary-0.log || fail "no iteration lines with -v"

# The CSV twin (scale none) is the same problem; ids pass through.
train our-csv --data multi.csv --label label --id id --scale none --solver 0 --min-workers 2
check_model our-csv.txt ref-multi-0.txt multi.svm "csv twin -s 0"
[ "$(sed -n 2p our-csv.sub.csv | cut -d, -f1)" = "r1" ] || fail "csv ids not passed through"

# Text-shaped data: 5 shards of sparse rows over 20,000 features of which
# only some occur. Each worker sums its shards, vectors travel restricted to
# the columns they touch, TRON runs on the columns that occur; the model is
# still liblinear's, with zeros where no row reaches.
"$NC_BIN/gensparse" 3000 20000 12 3 1 5 >text.svm || fail "gensparse"
liblinear-train -q -s 0 -c 1 -e 0.01 -B 1 text.svm ref-text.txt >/dev/null || fail "liblinear text"
train our-text --data text.svm --solver 0 -C 1 --eps 0.01 --bias 1 --min-workers 2
check_model our-text.txt ref-text.txt text.svm "sparse text-shaped, 3 classes, 2 workers"
grep -Eq '[0-9]+ of 20001 columns occur in the data' our-text.log ||
    fail "TRON did not run on the active columns: $(grep -m1 columns our-text.log)"
grep -Eq 'traffic: .* MB a round' our-text.log || fail "no traffic line"

# 4 workers, then 1 (the two extra are stopped before).
nc_worker c
nc_worker d
train our-4w --data multi.svm --solver 0 --min-workers 4
check_model our-4w.txt ref-multi-0.txt multi.svm "4 workers -s 0"
for w in b c d; do kill "${WORKER_PID[$w]}"; done
sleep 1.5
train our-1w --data multi.svm --solver 2 --min-workers 1
check_model our-1w.txt ref-multi-2.txt multi.svm "1 worker -s 2"
exit 0
