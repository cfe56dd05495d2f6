#!/usr/bin/env bash
# A public text corpus: the Debian package "fortunes" (fortune-mod's
# cookie files, BSD licence; scripts/deps.sh test installs it). Each file
# under /usr/share/games/fortunes is a category: its entries are the texts,
# the file name the label (43 classes, about 15,000 texts; one in five held
# out for testing). Trained on 2 workers with the defaults (the text column
# is detected, not named), the test accuracy is printed beside:
#   - liblinear-train -s 0 on the same tf-idf features computed by
#     tests/e2e/text_tfidf.py (must give the same predictions),
#   - liblinear-train -s 0 on a plain bag of word counts built in Python,
#   - the same data with the column one-hot encoded (data.text=[]), as
#     before free text existed;
# and `master export` of the training and test files: liblinear-train -s 0
# -B 1 on the exported training matrix reaches our model's primal objective
# (within 0.1 %), and its test accuracy on the exported test matrix is not
# above ours.
. "$(dirname "$0")/lib.sh"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
CORPUS=/usr/share/games/fortunes
[ -f "$CORPUS/computers" ] || { echo "package fortunes not installed"; exit 77; }
REF="$NC_ROOT/tests/e2e/text_tfidf.py"
NC_SHARD_ROWS=2000 nc_setup
python3 "$REF" fortunes "$CORPUS" train.csv test.csv || fail "building the corpus CSV"
nc_worker a
nc_worker b

acc() { sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p' "$1"; }

"$NC_BIN/master" train --config config.json --data train.csv --model m.txt --min-workers 2 \
    --no-dashboard >train.out 2>train.log || { cat train.log; fail "master train"; }
grep -q 'text: column "review" taken as free text' train.log || fail "the column was not detected"
"$NC_BIN/master" test --config config.json --data test.csv --model m.txt --out pred.csv \
    --no-dashboard >test.out 2>test.log || { cat test.log; fail "master test"; }
ours=$(acc test.out)

python3 "$REF" features train.csv test.csv ref 1 2 262144 1 || fail "reference features"
liblinear-train -s 0 -B 1 -q ref/train.svm ref.model >/dev/null || fail "liblinear-train"
liblinear-predict ref/test.svm ref.model ref.pred >ref.out || fail "liblinear-predict"
awk 'NR == FNR { lab[NR - 1] = $0; next } { print lab[$1] }' ref/labels.txt ref.pred >ref.labels
tail -n +2 pred.csv | cut -d, -f2 >ours.labels
cmp -s ours.labels ref.labels || fail "predictions differ from liblinear on the same features"

# The export: the same matrix, through our own tool.
for f in train test; do
    "$NC_BIN/master" export --config config.json --data $f.csv --model m.txt --out $f.export.svm \
        --min-workers 2 --no-dashboard >export-$f.out 2>export-$f.log ||
        { cat export-$f.log; fail "master export $f"; }
done
liblinear-train -s 0 -B 1 -q train.export.svm export.model >/dev/null || fail "liblinear-train (export)"
liblinear-predict test.export.svm export.model export.pred >export.out || fail "liblinear-predict (export)"
o_ours=$("$NC_BIN/primal" m.txt train.export.svm 1 0) || fail "primal of our model"
o_ll=$("$NC_BIN/primal" export.model train.export.svm 1 0) || fail "primal of liblinear's model"
awk -v a="$o_ours" -v b="$o_ll" 'BEGIN { d = (a - b) / b; exit !(d < 0.001 && d > -0.001) }' ||
    fail "objective $o_ours (master train) vs $o_ll (liblinear-train on the export)"
awk -v a="$ours" -v b="$(acc export.out)" 'BEGIN { exit !(a >= b) }' ||
    fail "accuracy $ours% below liblinear's $(acc export.out)% on the exported bag of words"
note "export: primal objective ours $o_ours, liblinear-train on the export $o_ll; test accuracy on the export $(acc export.out)%"

python3 "$REF" bow train.csv test.csv bow || fail "bag of words"
liblinear-train -s 0 -q bow/train.svm bow.model >/dev/null || fail "liblinear-train (bow)"
liblinear-predict bow/test.svm bow.model bow.pred >bow.out || fail "liblinear-predict (bow)"

"$NC_BIN/master" train --config config.json --data train.csv --model onehot.txt --min-workers 2 \
    --set 'data.text=[]' --no-dashboard >/dev/null 2>onehot.log || { cat onehot.log; fail "one-hot train"; }
"$NC_BIN/master" test --config config.json --data test.csv --model onehot.txt --out onehot.csv \
    --no-dashboard >onehot.out 2>>onehot.log || { cat onehot.log; fail "one-hot test"; }

classes=$(cut -d, -f1 ref/labels.txt | wc -l)
note "fortunes: $(($(wc -l <train.csv) - 1)) training texts, $(($(wc -l <test.csv) - 1)) test texts, $classes classes"
note "test accuracy: NetCompute tf-idf $ours%; liblinear on the same features $(acc ref.out)% (same predictions); liblinear on plain word counts $(acc bow.out)%; one-hot column (data.text=[]) $(acc onehot.out)%"
# Free text must be far better than one-hot, and within 2 points of plain counts.
awk -v a="$ours" -v b="$(acc onehot.out)" -v c="$(acc bow.out)" \
    'BEGIN { exit !(a > b + 10 && a > c - 2) }' || fail "accuracy $ours% is not good enough"
