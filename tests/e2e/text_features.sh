#!/usr/bin/env bash
# Free-text columns end to end against an independent reference: a CSV with
# a numeric column and a free-text column (punctuation, upper case, Latin-1,
# apostrophes, a 70-letter word, other scripts, missing values), trained and
# predicted on 2 workers; tests/e2e/text_tfidf.py computes the same features
# from docs/DESIGN.md alone, liblinear-train and liblinear-predict run on
# them. Same vocabulary, same model (weights within 1e-6), same predictions,
# for the defaults, for bigrams with min_df 3 and max_features 40, and for raw
# counts. Then detection without data.text, and the errors: a --text column
# that does not exist (exit 2), an empty vocabulary (exit 3), a test file
# without the column (exit 3).
. "$(dirname "$0")/lib.sh"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
REF="$NC_ROOT/tests/e2e/text_tfidf.py"
NC_SHARD_ROWS=200 nc_setup
python3 "$REF" gen train.csv test.csv 3 || fail "generating the data"
nc_worker a
nc_worker b

# compare_models OURS THEIRS: same header lines, weights within 1e-6
compare_models() {
    python3 - "$1" "$2" <<'PY' || fail "models differ: $1 vs $2"
import sys
def load(p):
    lines = open(p).read().split("\n")
    k = lines.index("w")
    head = [l for l in lines[:k] if not l.startswith("solver_type")]
    w = [[float(v) for v in l.split()] for l in lines[k + 1:] if l.strip()]
    return head, w
ha, wa = load(sys.argv[1]); hb, wb = load(sys.argv[2])
assert ha == hb, (ha, hb)
assert len(wa) == len(wb)
d = max(abs(x - y) for ra, rb in zip(wa, wb) for x, y in zip(ra, rb))
print("max weight difference %.3g over %d features" % (d, len(wa)))
assert d < 1e-6
PY
}

# run_case NAME NGRAM MIN_DF MAX_FEATURES TFIDF
run_case() {
    local name=$1 ngram=$2 mindf=$3 maxf=$4 tfidf=$5
    local sets=(--set "data.ngram=$ngram" --set "data.min_df=$mindf"
        --set "data.max_features=$maxf" --set "data.tfidf=$tfidf")
    "$NC_BIN/master" train --config config.json --data train.csv --text review "${sets[@]}" \
        --model "m-$name.txt" --min-workers 2 --no-dashboard >"train-$name.out" 2>"train-$name.log" ||
        { cat "train-$name.log"; fail "$name: master train"; }
    "$NC_BIN/master" test --config config.json --data test.csv --model "m-$name.txt" \
        --out "pred-$name.csv" --no-dashboard >"test-$name.out" 2>"test-$name.log" ||
        { cat "test-$name.log"; fail "$name: master test"; }
    python3 "$REF" features train.csv test.csv "ref-$name" "$ngram" "$mindf" "$maxf" \
        "$([ "$tfidf" = true ] && echo 1 || echo 0)" || fail "$name: reference features"
    python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
c = [c for c in s["columns"] if c["name"] == "review"][0]
assert c["kind"] == "words", c["kind"]
sys.stdout.write("".join(t + "\n" for t in c["terms"]))' "m-$name.txt.schema.json" >"vocab-$name.txt" ||
        fail "$name: no words column in the schema"
    cmp -s "vocab-$name.txt" "ref-$name/vocab.txt" ||
        { diff "vocab-$name.txt" "ref-$name/vocab.txt" | head; fail "$name: vocabulary differs"; }
    liblinear-train -s 0 -B 1 -q "ref-$name/train.svm" "ref-$name.model" >/dev/null ||
        fail "$name: liblinear-train"
    compare_models "m-$name.txt" "ref-$name.model"
    liblinear-predict "ref-$name/test.svm" "ref-$name.model" "ref-$name.pred" >/dev/null ||
        fail "$name: liblinear-predict"
    awk 'NR == FNR { lab[NR - 1] = $0; next } { print lab[$1] }' "ref-$name/labels.txt" \
        "ref-$name.pred" >"ref-$name.labels"
    tail -n +2 "pred-$name.csv" | cut -d, -f2 >"ours-$name.labels"
    [ "$(wc -l <"ours-$name.labels")" -eq 500 ] || fail "$name: $(wc -l <"ours-$name.labels") predictions"
    cmp -s "ours-$name.labels" "ref-$name.labels" || fail "$name: predictions differ from liblinear"
    note "$name: $(wc -l <"vocab-$name.txt") terms, $(grep -o 'Accuracy = [0-9.]*%' "test-$name.out"), same vocabulary, model and predictions as the reference"
}

run_case default 1 2 262144 true
run_case bigrams 2 3 40 true
run_case counts 1 2 262144 false
grep -q 'text: column "review" is free text (data.text)' train-default.log || fail "no data.text log line"

# Detection: no data.text; the column of distinct sentences becomes free
# text (the same schema as --text), the log says so and why.
"$NC_BIN/master" train --config config.json --data train.csv --model m-detect.txt --no-dashboard \
    >train-detect.out 2>train-detect.log || { cat train-detect.log; fail "detection: master train"; }
grep -q 'text: column "review" taken as free text: 1[0-9]* of 1000 sampled values distinct' \
    train-detect.log || { cat train-detect.log; fail "detection: no log line"; }
cmp -s m-detect.txt.schema.json m-default.txt.schema.json || fail "detection: another schema"
# data.text set to [] turns detection off: the column is one-hot again.
"$NC_BIN/master" train --config config.json --data train.csv --model m-off.txt --no-dashboard \
    --set 'data.text=[]' >/dev/null 2>train-off.log || { cat train-off.log; fail "text=[]: train"; }
grep -q '"kind": "text"' m-off.txt.schema.json || fail "text=[]: the column is not one-hot"
grep -q 'taken as free text' train-off.log && fail "text=[]: detection ran"

# Errors
"$NC_BIN/master" train --config config.json --data train.csv --text nope --no-dashboard \
    >/dev/null 2>err2.log
rc=$?
[ $rc -eq 2 ] || fail "--text nope: exit $rc, want 2"
grep -q 'train.csv:1: no text column "nope" (the header has 4 columns: id, x, review, label) (data.text or --text)' err2.log || { cat err2.log; fail "--text nope: message"; }
grep -q 'waiting for' err2.log && fail "--text nope: checked after waiting for workers"
"$NC_BIN/master" train --config config.json --data train.csv --text review --set data.min_df=5000 \
    --model m-empty.txt --no-dashboard >/dev/null 2>err3.log
rc=$?
[ $rc -eq 3 ] || { cat err3.log; fail "min_df 5000: exit $rc, want 3"; }
grep -q 'text column "review": empty vocabulary: none of its [0-9]* distinct terms is in at least data.min_df=5000 rows' err3.log ||
    { cat err3.log; fail "min_df 5000: message"; }
# A test file without the free-text column: the error names it (exit 3).
python3 -c 'import csv, sys
w = csv.writer(sys.stdout, lineterminator="\n")
for r in csv.reader(open("test.csv")): w.writerow([r[0], r[1], r[3]])' >notext.csv
"$NC_BIN/master" test --config config.json --data notext.csv --model m-default.txt --out p.csv \
    --no-dashboard >/dev/null 2>err4.log
rc=$?
[ $rc -eq 3 ] || { cat err4.log; fail "test without the column: exit $rc, want 3"; }
grep -q 'notext.csv:1: no column "review", which the model was trained with' err4.log ||
    { cat err4.log; fail "test without the column: message"; }
note "ok"
