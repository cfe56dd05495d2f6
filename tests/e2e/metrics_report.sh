#!/usr/bin/env bash
# A test job's metrics equal what an independent script computes from the
# test file's labels and the submission file (and a training job's, from
# its training submission): accuracy, per-class precision,
# recall, F1 and support, macro and weighted F1, the confusion matrix, the
# log loss and (two classes) the ROC AUC. Checked where they are kept (the
# history's jobs.metrics, which GET /api/jobs/ID serves) and in the printed
# table; a three-class CSV with text labels (one test label the model never
# saw), and a two-class one.
. "$(dirname "$0")/lib.sh"
NC_SHARD_ROWS=700 nc_setup
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

# gen ROWS SEED CLASSES [EXTRA]: id,label,x1..x4; label from a noisy linear
# rule; EXTRA rows of an unseen label "owl" at the end.
gen() {
    awk -v n="$1" -v seed="$2" -v k="$3" -v extra="${4:-0}" 'BEGIN {
        srand(seed); split("cat dog eel", name, " ");
        print "id,label,x1,x2,x3,x4";
        for (i = 1; i <= n + extra; i++) {
            a = rand() * 4 - 2; b = rand() * 4 - 2; c = rand(); d = rand() * 2;
            s = a + 0.5 * b - c + rand() * 1.5;
            y = (k == 2) ? (s > 0 ? "yes" : "no") : name[1 + (s < -0.6 ? 0 : s < 0.6 ? 1 : 2)];
            if (i > n) y = "owl";
            printf "r%d,%s,%.4f,%.4f,%.4f,%.4f\n", i, y, a, b, c, d;
        }
    }'
}

# check TEST SUBMISSION JOB_ID: the stored metrics against the reference.
check() {
    python3 - "$1" "$2" history.db "$3" <<'PY' || fail "metrics of $1 differ from the reference"
import csv, json, math, sqlite3, sys
test, sub, db, job = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
truth = {r["id"]: r["label"] for r in csv.DictReader(open(test))}
rows = list(csv.DictReader(open(sub)))
labels = [c[5:] for c in rows[0].keys() if c.startswith("prob_")]
pairs = [(truth[r["id"]], r["predicted"]) for r in rows]
n = len(pairs)
acc = sum(t == p for t, p in pairs) / n
got = json.loads(sqlite3.connect(db).execute("SELECT metrics FROM jobs WHERE id = ?", (job,)).fetchone()[0])
def near(a, b, tol, what):
    if a is None or b is None or abs(a - b) > tol * (1 + abs(b)):
        sys.exit(f"{what}: stored {a}, reference {b}")
near(got["accuracy"], acc, 1e-12, "accuracy")
assert got["rows"] == n, (got["rows"], n)
f1s, supports = [], []
for c in got["classes"]:
    L = c["label"]
    tp = sum(t == L and p == L for t, p in pairs)
    pred = sum(p == L for t, p in pairs)
    act = sum(t == L for t, p in pairs)
    pr = tp / pred if pred else None
    re = tp / act if act else None
    f1 = (2 * (pr or 0) * (re or 0) / ((pr or 0) + (re or 0)) if (pr or 0) + (re or 0) else 0.0) if pred or act else None
    if pr is not None: near(c["precision"], pr, 1e-12, L + " precision")
    if re is not None: near(c["recall"], re, 1e-12, L + " recall")
    if f1 is not None:
        near(c["f1"], f1, 1e-12, L + " f1"); f1s.append(f1); supports.append(act)
    assert c["support"] == act, (L, c["support"], act)
near(got["macro_f1"], sum(f1s) / len(f1s), 1e-12, "macro F1")
near(got["weighted_f1"], sum(f * s for f, s in zip(f1s, supports)) / sum(supports), 1e-12, "weighted F1")
names = got["confusion"]["labels"]
for i, t in enumerate(names):
    for j, p in enumerate(names):
        want = sum(a == t and b == p for a, b in pairs)
        assert got["confusion"]["matrix"][i][j] == want, ("confusion", t, p)
unknown = [sum(a not in names and b == p for a, b in pairs) for p in names]
assert got["confusion"]["unknown"] == unknown, ("unknown row", got["confusion"]["unknown"], unknown)
if not labels:  # a training submission: no probabilities
    assert got["log_loss"] is None and got["roc_auc"] is None, (got["log_loss"], got["roc_auc"])
    print(f"ok: {n} rows, accuracy {acc:.4f}, macro F1 {sum(f1s) / len(f1s):.4f}")
    sys.exit(0)
# probabilities as printed (%g): a looser tolerance
ll = 0
for r, (t, p) in zip(rows, pairs):
    q = float(r["prob_" + t]) if t in labels else 0.0
    q = min(max(q, 1e-15), 1 - 1e-15)
    ll -= math.log(q)
near(got["log_loss"], ll / n, 1e-4, "log loss")
if len(labels) == 2:
    pos = [float(r["prob_" + labels[0]]) for r, (t, p) in zip(rows, pairs) if t == labels[0]]
    neg = [float(r["prob_" + labels[0]]) for r, (t, p) in zip(rows, pairs) if t != labels[0]]
    wins = sum((x > y) + 0.5 * (x == y) for x in pos for y in neg)
    near(got["roc_auc"], wins / (len(pos) * len(neg)), 1e-3, "ROC AUC")
else:
    assert got["roc_auc"] is None
print(f"ok: {n} rows, accuracy {acc:.4f}, macro F1 {sum(f1s) / len(f1s):.4f}, log loss {ll / n:.4f}")
PY
}

# last_job MODE: the id of the history's latest job of that mode.
last_job() {
    python3 -c "import sqlite3,sys; print(sqlite3.connect('history.db').execute(\"SELECT max(id) FROM jobs WHERE mode = ?\", (sys.argv[1],)).fetchone()[0])" "$1"
}

gen 3000 1 3 >train3.csv
gen 2000 2 3 25 >test3.csv
gen 2500 3 2 >train2.csv
gen 1500 4 2 >test2.csv
for w in a b; do nc_worker "$w"; done

# run NAME MODE ARGS...: master MODE, output in NAME.out and NAME.log
run() {
    local name=$1
    shift
    "$NC_BIN/master" "$@" --config config.json --label label --id id --min-workers 2 \
        >"$name.out" 2>"$name.log" || { tail -5 "$name.log"; fail "master $*"; }
}
run train3 train --data train3.csv --model m3.txt --solver 0 --out sub3.csv
check train3.csv sub3.csv "$(last_job train)"
grep -q '^class  *precision  *recall  *f1  *support$' train3.out || fail "no training metrics table"
note "training: stored metrics equal the reference from the training submission"
run test3 test --data test3.csv --model m3.txt --out pred3.csv
check test3.csv pred3.csv "$(last_job test)"
# the table: a header, one line per class, the averages
grep -q '^class  *precision  *recall  *f1  *support$' test3.out ||
    fail "no metrics table: $(cat test3.out)"
for c in cat dog eel; do grep -q "^$c " test3.out || fail "no line for $c"; done
grep -q '^macro F1 [0-9.]*, weighted F1 [0-9.]*, log loss [0-9.]*$' test3.out ||
    fail "averages line: $(grep macro test3.out)"
note "three classes (and an unseen label): stored metrics equal the reference; table printed"

run train2 train --data train2.csv --model m2.txt --solver 0 --out sub2.csv
run test2 test --data test2.csv --model m2.txt --out pred2.csv
check test2.csv pred2.csv "$(last_job test)"
grep -q 'ROC AUC [0-9.]*$' test2.out || fail "no ROC AUC: $(grep macro test2.out)"
note "two classes: ROC AUC and log loss equal the reference"

# -q: no table; a test file without labels: no metrics
"$NC_BIN/master" test --config config.json --label label --id id --data test2.csv --model m2.txt \
    --out q.csv --min-workers 2 -q >q.out 2>q.log || fail "master test -q"
! grep -q '^class ' q.out || fail "-q printed the table"
cut -d, -f1,3- test2.csv | sed '1s/.*/id,x1,x2,x3,x4/' >nolabel.csv
"$NC_BIN/master" test --config config.json --label label --id id --data nolabel.csv \
    --model m2.txt --out nl.csv --min-workers 2 >nl.out 2>nl.log || fail "master test no labels"
id=$(last_job test)
python3 -c "import sqlite3,sys; r=sqlite3.connect('history.db').execute('SELECT metrics FROM jobs WHERE id=?',(int(sys.argv[1]),)).fetchone(); sys.exit(r[0] is not None)" "$id" ||
    fail "a job without labels has metrics"
echo "ok"
