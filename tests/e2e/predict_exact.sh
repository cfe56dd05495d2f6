#!/usr/bin/env bash
# Prediction equals liblinear-predict's: a model from /usr/bin/liblinear-train
# -s 0 (so this does not depend on our training), a 20,000-row libsvm file
# predicted by 3 workers; same labels, same row count and order. Also the
# probability columns against liblinear-predict -b 1, and a 2-class model.
. "$(dirname "$0")/lib.sh"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
NC_SHARD_ROWS=1500 nc_setup

# gen ROWS SEED CLASSES: sparse rows, label from a hidden linear rule + noise,
# some indices past 40 (beyond what the small training set has).
gen() {
    awk -v n="$1" -v seed="$2" -v k="$3" 'BEGIN {
        srand(seed);
        for (i = 0; i < n; i++) {
            line = ""; s = 0;
            for (j = 1; j <= 45; j++) {
                if (rand() < 0.3 && (j <= 40 || rand() < 0.2)) {
                    v = sprintf("%.4g", rand() * 4 - 2);
                    line = line " " j ":" v;
                    s += v * ((j % 7) - 3);
                }
            }
            c = int((s + 20 + rand() * 6) / 8); if (c < 0) c = 0; if (c >= k) c = k - 1;
            print (c * 2 - 1) line;   # labels -1, 1, 3, ...
        }
    }'
}
gen 3000 1 3 | cut -d' ' -f1-12 >train.svm
gen 20000 2 3 >test.svm
liblinear-train -s 0 -B 1 -q train.svm model.txt >/dev/null || fail "liblinear-train"
liblinear-predict test.svm model.txt ref.txt >ref.out || fail "liblinear-predict"
liblinear-predict -b 1 test.svm model.txt refb.txt >/dev/null || fail "liblinear-predict -b 1"

for w in a b c; do nc_worker "$w"; done
"$NC_BIN/master" test --config config.json --data test.svm --model model.txt --out pred.csv \
    --min-workers 3 --no-dashboard >master.out 2>master.log || { cat master.log; fail "master test"; }

[ -f pred.csv ] || fail "no output"
[ "$(head -1 pred.csv)" = "id,predicted,prob_1,prob_-1,prob_3" ] ||
    [ "$(head -1 pred.csv | cut -d, -f1,2)" = "id,predicted" ] || fail "header: $(head -1 pred.csv)"
[ "$(wc -l <pred.csv)" -eq 20001 ] || fail "rows: $(wc -l <pred.csv)"
tail -n +2 pred.csv | cut -d, -f1 >ids.txt
seq 1 20000 | cmp -s - ids.txt || fail "ids not 1..20000 in order"
tail -n +2 pred.csv | cut -d, -f2 >ours.txt
cmp ours.txt ref.txt || fail "labels differ from liblinear-predict"
note "labels identical to liblinear-predict on 20000 rows"
# Accuracy line as liblinear-predict computes it.
ref_acc=$(sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p' ref.out)
our_acc=$(sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p' master.out)
awk -v a="$ref_acc" -v b="$our_acc" 'BEGIN { exit !(a - b < 0.001 && b - a < 0.001) }' ||
    fail "accuracy $our_acc vs liblinear $ref_acc"

# Probabilities: liblinear-predict -b 1 prints "labels 1 -1 3" then "label p p p" (%g).
hdr=$(head -1 refb.txt | sed 's/^labels //; s/ /,prob_/g')
[ "$(head -1 pred.csv)" = "id,predicted,prob_$hdr" ] || fail "prob header $(head -1 pred.csv) vs $hdr"
tail -n +2 refb.txt | tr ' ' ',' >refb.csv
tail -n +2 pred.csv | cut -d, -f2- >oursb.csv
cmp oursb.csv refb.csv || fail "probabilities differ from liblinear-predict -b 1"

# Two classes (dec > 0 picks the first label), no bias, solver 2 (no probabilities).
sed 's/^3 /1 /' train.svm >train2.svm
sed 's/^3 /1 /' test.svm >test2.svm
liblinear-train -s 2 -q train2.svm model2.txt >/dev/null || fail "liblinear-train -s 2"
liblinear-predict test2.svm model2.txt ref2.txt >/dev/null
"$NC_BIN/master" test --config config.json --data test2.svm --model model2.txt --out pred2.csv \
    --no-dashboard >master2.out 2>master2.log || { cat master2.log; fail "master test 2"; }
[ "$(head -1 pred2.csv)" = "id,predicted" ] || fail "header 2: $(head -1 pred2.csv)"
tail -n +2 pred2.csv | cut -d, -f2 | cmp - ref2.txt || fail "2-class labels differ"
note "ok: $(cat master.out | tr '\n' ' ')"
