#!/usr/bin/env bash
# `master export` writes the matrix training fits: liblinear-train -s 0 -B 1
# on the export of a CSV (numeric columns with missing values, categorical
# columns, text labels) reaches the primal objective of `master train` on the
# CSV within 0.1 %, with the same label line. Also: one line per row in
# input order with ascending indices; integer labels written as themselves;
# a file without a label column gets label 0; bad usage and bad input give
# one line and the contract's exit status.
. "$(dirname "$0")/lib.sh"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
NC_SHARD_ROWS=700 nc_setup

# gen ROWS SEED LABELS: id, two numeric columns (x2 missing now and then),
# two categorical ones, a label from a hidden rule; LABELS text|int.
gen() {
    awk -v n="$1" -v seed="$2" -v kind="$3" 'BEGIN {
        srand(seed); print "id,x1,color,x2,size,label";
        split("red green blue", c, " "); split("S M L XL", z, " ");
        for (i = 1; i <= n; i++) {
            x1 = rand() * 10 - 3; x2 = rand() * 100;
            col = c[1 + int(rand() * 3)]; sz = z[1 + int(rand() * 4)];
            s = x1 * 0.4 - x2 * 0.02 + (col == "red") * 1.5 - (sz == "XL") + rand() * 3 - 1.5;
            k = s > 0.5 ? 0 : (s > -1 ? 1 : 2);
            lab = kind == "int" ? (k * 3 + 4) : (k == 0 ? "yes" : (k == 1 ? "maybe" : "no"));
            x2s = rand() < 0.05 ? "" : sprintf("%.2f", x2);
            printf "r%d,%.3f,%s,%s,%s,%s\n", i, x1, col, x2s, sz, lab;
        }
    }'
}
gen 6000 3 text >train.csv
for w in a b; do nc_worker "$w"; done
m() { "$NC_BIN/master" "$@" --config config.json --no-dashboard; }

# Before training there is no schema: "train first", exit 3, one line.
m export --data train.csv --out train.svm --min-workers 2 >out.txt 2>err.txt
rc=$?
[ "$rc" -eq 3 ] || fail "export before training exited $rc"
grep '^master: ' err.txt >err1.txt
[ "$(wc -l <err1.txt)" -eq 1 ] && grep -q 'schema.json: missing: .*train first' err1.txt ||
    fail "export before training said: $(cat err.txt)"
[ ! -e train.svm ] || fail "a failed export left train.svm"

m train --data train.csv --min-workers 2 >train.out 2>train.log || { tail -3 train.log; fail "train"; }
m export --data train.csv --out train.svm --min-workers 2 >export.out 2>export.log ||
    { tail -3 export.log; fail "export"; }
grep -q '^wrote 6000 rows (9 features) to ' export.out || fail "report: $(cat export.out)"
[ "$(wc -l <train.svm)" -eq 6000 ] || fail "train.svm has $(wc -l <train.svm) lines"
ls -a | grep -q '\.train\.svm\.' && fail "the writer's temporary files are left: $(ls -a)"

# With the dashboard on, the export is a job of mode "export" in the history
# (as every run is, the dashboard on or off: the latest one is this).
"$NC_BIN/master" export --config config.json --data train.csv --out hist.svm --min-workers 2 \
    >/dev/null 2>hist.log || { tail -3 hist.log; fail "export with the dashboard"; }
cmp -s hist.svm train.svm || fail "a second export differs from the first"
if command -v sqlite3 >/dev/null; then
    row=$(sqlite3 history.db "SELECT mode, state, submission, rows_done, accuracy IS NULL
                              FROM jobs WHERE mode = 'export' ORDER BY id DESC LIMIT 1")
    [ "$row" = "export|done|hist.svm|6000|1" ] || fail "history row of the export: '$row'"
fi

# Labels: text labels are written as their index (first appearance), in row order.
awk -F, 'NR > 1 { if (!($NF in k)) k[$NF] = n++; print k[$NF] }' train.csv >want-labels.txt
cut -d' ' -f1 train.svm | cmp -s - want-labels.txt || fail "labels differ from the CSV's, in order"
# Indices ascending, in 1..9, no zero values.
awk '{ p = 0; for (i = 2; i <= NF; i++) { split($i, f, ":");
        if (f[1] <= p || f[1] > 9 || f[2] + 0 == 0) { print NR ": " $0; exit 1 } p = f[1] } }' \
    train.svm || fail "a line with indices not ascending in 1..9, or a zero value"
# Row 1's categorical features are one-hot ones.
[ "$(head -1 train.svm | grep -o ' [0-9]*:1\( \|$\)' | wc -l)" -eq 2 ] ||
    fail "row 1 has not two one-hot features: $(head -1 train.svm)"

# liblinear on the export trains the model we trained on the CSV.
liblinear-train -s 0 -B 1 -q train.svm ref.txt >/dev/null || fail "liblinear-train on the export"
[ "$(grep '^label ' model.txt)" = "$(grep '^label ' ref.txt)" ] ||
    fail "label lines: $(grep '^label ' model.txt) vs $(grep '^label ' ref.txt)"
[ "$(grep '^nr_feature ' model.txt)" = "$(grep '^nr_feature ' ref.txt)" ] || fail "nr_feature"
ours=$("$NC_BIN/primal" model.txt train.svm 1 0) || fail "primal of our model"
theirs=$("$NC_BIN/primal" ref.txt train.svm 1 0) || fail "primal of liblinear's model"
awk -v a="$ours" -v b="$theirs" 'BEGIN { d = (a - b) / b; exit !(d < 0.001 && d > -0.001) }' ||
    fail "objective $ours (master train) vs $theirs (liblinear-train on the export)"
note "objective: master train $ours, liblinear-train on the export $theirs"

# A libsvm file with liblinear-train's model (no schema) exports as itself;
# standard output is a stream that gets the same bytes.
m export --data train.svm --model ref.txt --out again.svm --min-workers 2 >/dev/null 2>again.log ||
    { tail -3 again.log; fail "export of the libsvm file"; }
cmp -s again.svm train.svm || fail "the libsvm file does not export as itself"
m export --data train.csv --out - --min-workers 2 2>stdout.log | cmp -s - train.svm ||
    fail "export to standard output differs"
grep -q '^wrote 6000 rows (9 features) to -$' stdout.log || fail "the report did not go to stderr"

# Integer labels are written as the model file records them: themselves.
gen 3000 5 int >int.csv
m train --data int.csv --model int.txt --out int_sub.csv --min-workers 2 >/dev/null 2>int.log ||
    { tail -3 int.log; fail "train on int labels"; }
m export --data int.csv --model int.txt --out int.svm --min-workers 2 >/dev/null 2>>int.log ||
    { tail -3 int.log; fail "export of int labels"; }
awk -F, 'NR > 1 { print $NF }' int.csv | cmp -s - <(cut -d' ' -f1 int.svm) ||
    fail "integer labels not written as themselves"

# A file without the label column: label 0, said in the report; rows in order.
cut -d, -f1-5 train.csv >nolabel.csv
m export --data nolabel.csv --out nolabel.svm --min-workers 2 >nl.out 2>nl.log ||
    { tail -3 nl.log; fail "export without labels"; }
grep -q 'no label column: label 0' nl.out || fail "report: $(cat nl.out)"
[ "$(cut -d' ' -f1 nolabel.svm | sort -u)" = 0 ] || fail "labels other than 0 without a label column"
cut -d' ' -f2- train.svm | cmp -s - <(cut -d' ' -f2- nolabel.svm) ||
    fail "features without the label column differ"

# A label training never saw: written 0, counted in a warning.
sed '2s/,[a-z]*$/,unheard/' train.csv >unseen.csv
m export --data unseen.csv --out unseen.svm --min-workers 2 >/dev/null 2>unseen.log ||
    fail "export with an unseen label"
grep -q 'warn: 1 rows had no label the model knows' unseen.log || fail "no warning: $(cat unseen.log)"
[ "$(head -1 unseen.svm | cut -d' ' -f1)" = 0 ] || fail "unseen label not written as 0"

# Bad usage (exit 2) and bad input (exit 3): one line each, no output left.
expect() { # STATUS PATTERN ARGS...
    local want=$1 pat=$2; shift 2
    m "$@" >bad.out 2>bad.err
    local rc=$?
    grep '^master: ' bad.err >bad1.err # log lines have a timestamp first
    [ "$rc" -eq "$want" ] || fail "$* exited $rc, want $want: $(cat bad.err)"
    [ "$(wc -l <bad1.err)" -eq 1 ] && grep -q -- "$pat" bad1.err || fail "$*: $(cat bad.err)"
}
expect 2 'export needs --out FILE' export --data train.csv
expect 2 'export needs --data FILE' export --out x.svm
expect 2 'are the same file' export --data train.csv --out train.csv
expect 3 'nothere.csv: cannot open' export --data nothere.csv --out x.svm
expect 3 'nomodel.txt.schema.json: missing: .*train first' export --data train.csv --model nomodel.txt --out x.svm
cut -d, -f1,2,4- train.csv >nocolor.csv
expect 3 'color' export --data nocolor.csv --out x.svm
printf 'id,x1,color,x2,size,label\nr1,1e999,red,3,S,yes\n' >bad.csv
expect 3 'bad.csv:2:' export --data bad.csv --out x.svm
[ ! -e x.svm ] || fail "a failed export left x.svm"
note "bad usage and bad input: one line each"
echo "export_model: ok"
