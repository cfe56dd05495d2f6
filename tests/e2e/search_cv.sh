#!/usr/bin/env bash
# master search against liblinear's own numbers, on a 4-class set of 5,000
# rows with 2 workers:
# - --C-list: every (C, fold) held-out accuracy of the search (metrics.json
#   of its run) is within 0.2 points of liblinear-train -c C trained on that
#   fold's training rows and liblinear-predict on its held-out rows, the
#   fold files cut here with our rule (row r is held out by fold r % K);
#   the chosen C is the one liblinear's numbers choose (or, when liblinear's
#   two best are within 0.2 points, one that liblinear scores within 0.2
#   of its best); the final model is liblinear's at that C (same test
#   accuracy within 0.2 points); each C's CV log loss is within 0.5 % of the
#   one liblinear-predict -b 1's probabilities give on the same folds;
# - the C path: the C values the search visits are those `liblinear-train -C
#   -v 5 -s 0 -B 1` visits (its log2c lines), and with --no-final the run
#   keeps no model;
# - solver 2 with --solvers 0,2: both solvers appear in the table, log loss
#   only for solver 0; --solvers 2 runs solver 2 exactly whatever
#   model.solver says.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
NC_SHARD_ROWS=700 nc_setup
K=5
CS="0.001,0.01,0.1,1,10"
gen_svm 5000 23 4 20 >d.svm
nc_worker a
nc_worker b

search() {
    local name=$1; shift
    "$NC_BIN/master" search --config config.json --no-dashboard --data d.svm --model "$name.txt" \
        --out "$name.sub.csv" --min-workers 2 --cv $K "$@" >"$name.out" 2>"$name.log" ||
        { tail -5 "$name.log"; fail "master search $name"; }
}
run_dir() { sed -n 's/.*run \([0-9]*\): \(.*\)$/\2/p' "$1.log" | head -1; }

search list --C-list "$CS"
grep -q '^\*' list.out || fail "no best line marked in the table"
grep -q '^Best C = ' list.out || fail "no Best C line"
dir=$(run_dir list)
[ -f "$dir/metrics.json" ] || fail "no metrics.json in the run folder ($dir)"
grep -q '"mode": *"search"' "$dir/params.json" || fail "params.json: mode is not search"
grep -q '"C_list"' "$dir/params.json" || fail "params.json has no C_list"

# liblinear on our folds, every (C, fold)
awk -v K=$K -v dir="$T" '{ r = NR - 1; f = r % K;
    for (g = 0; g < K; g++) if (g != f) print > (dir "/fold" g ".train");
    print > (dir "/fold" f ".test") }' d.svm
: >ref.txt
for c in ${CS//,/ }; do
    for f in $(seq 0 $((K - 1))); do
        liblinear-train -q -s 0 -B 1 -c "$c" "fold$f.train" "fold$f.model" >/dev/null ||
            fail "liblinear-train fold $f C $c"
        acc=$(liblinear-predict -b 1 "fold$f.test" "fold$f.model" "prob.$c.$f" |
              sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p')
        echo "$c $f $acc" >>ref.txt
    done
done
python3 - "$dir/metrics.json" ref.txt "$CS" <<'PY' || fail "per-fold accuracies differ from liblinear's"
import json, sys
m = json.load(open(sys.argv[1]))
ref = {}
for line in open(sys.argv[2]):
    c, f, a = line.split()
    ref[(float(c), int(f))] = float(a)
cs = [float(c) for c in sys.argv[3].split(",")]
res = m["search"]["results"]
assert [r["C"] for r in res] == cs, "C values %s, asked %s" % ([r["C"] for r in res], cs)
worst = 0
for r in res:
    for f, a in enumerate(r["fold_accuracy"]):
        d = abs(100 * a - ref[(r["C"], f)])
        worst = max(worst, d)
        if d > 0.2:
            sys.exit("C %g fold %d: ours %.4f %%, liblinear %.4f %%" % (r["C"], f, 100 * a, ref[(r["C"], f)]))
# liblinear's CV accuracy per C: the folds are of equal size (1000 rows)
llcv = {c: sum(ref[(c, f)] for f in range(len(res[0]["fold_accuracy"]))) / len(res[0]["fold_accuracy"]) for c in cs}
order = sorted(cs, key=lambda c: (-llcv[c], cs.index(c)))
ours = m["best_C"]
if llcv[order[0]] - llcv[order[1]] > 0.2:
    assert ours == order[0], "chose C %g, liblinear's numbers choose %g" % (ours, order[0])
else:
    assert llcv[order[0]] - llcv[ours] <= 0.2, "chose C %g (liblinear %.3f %%), best %g (%.3f %%)" % (ours, llcv[ours], order[0], llcv[order[0]])
# the held-out log loss against liblinear's probabilities (-b 1) on the same folds
import math
K = len(res[0]["fold_accuracy"])
for r in res:
    tot, n = 0.0, 0
    for f in range(K):
        truth = [l.split()[0] for l in open("fold%d.test" % f)]
        lines = open("prob.%s.%d" % (next(c for c in sys.argv[3].split(",") if float(c) == r["C"]), f)).read().split("\n")
        labels = lines[0].split()[1:]
        for y, l in zip(truth, lines[1:]):
            p = dict(zip(labels, map(float, l.split()[1:])))[y]
            tot += -math.log(min(max(p, 1e-15), 1 - 1e-15))
            n += 1
    ll = tot / n
    if abs(r["cv_log_loss"] - ll) > 0.005 * ll:
        sys.exit("C %g: log loss %.5f, liblinear's probabilities give %.5f" % (r["C"], r["cv_log_loss"], ll))
print("worst (C, fold) difference %.3f points; best C %g; liblinear's %g; log loss as liblinear's" % (worst, ours, order[0]))
PY
note "$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("best C", m["best_C"], "cv", m["cv_accuracy"])' "$dir/metrics.json")"

# the final model is liblinear's at the best C
best=$(sed -n 's/^Best C = \([^ ]*\) .*/\1/p' list.out)
liblinear-train -q -s 0 -B 1 -c "$best" d.svm ll.model >/dev/null
ours=$(liblinear-predict d.svm list.txt /dev/null | sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p')
ref=$(liblinear-predict d.svm ll.model /dev/null | sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p')
awk -v a="$ours" -v b="$ref" 'BEGIN { exit !(a - b <= 0.2 && b - a <= 0.2) }' ||
    fail "final model: accuracy $ours, liblinear at C=$best $ref"
for f in model.txt model.txt.schema.json submission.csv; do
    [ -f "$dir/$f" ] || fail "run folder lacks $f"
done

# the C path is liblinear -C's
search path --no-final
pdir=$(run_dir path)
[ ! -e "$pdir/model.txt" ] || fail "--no-final kept a model in the run folder"
liblinear-train -C -v $K -s 0 -B 1 d.svm >llC.out || fail "liblinear-train -C"
want=$(sed -n 's/^log2c= *\([-0-9.]*\).*/\1/p' llC.out | awk '{ printf "%.2f\n", $1 }')
got=$(python3 -c 'import json,sys,math
for r in json.load(open(sys.argv[1]))["search"]["results"]: print("%.2f" % math.log2(r["C"]))' \
      "$pdir/metrics.json")
[ -n "$want" ] || fail "no log2c lines from liblinear-train -C"
[ "$want" = "$got" ] || fail "C path: ours $(echo $got) , liblinear's $(echo $want)"
note "C path: $(echo "$got" | head -1) .. $(echo "$got" | tail -1) ($(echo "$got" | wc -l) values, as liblinear -C)"

# two solvers
search two --C-list 0.1,1 --solvers 0,L2R_L2LOSS_SVC --no-final
sed 's/^\*//' two.out | awk '$1 == "L2R_L2LOSS_SVC" { n2++; if ($4 != "-") bad = "solver 2 has a log loss" }
    $1 == "L2R_LR" { n0++; if ($4 == "-") bad = "solver 0 has no log loss" }
    END { if (n0 != 2 || n2 != 2) bad = "rows: " n0 " of solver 0, " n2 " of solver 2"
          if (bad) { print bad; exit 1 } }' || fail "two solvers: $(cat two.out)"
# --solvers wins over a model.solver that has no exact form
search other --C-list 1 --solver L1R_LR --solvers 2 --no-final
grep -q 'average strategy' other.log && fail "--solvers 2 with --solver L1R_LR fell back to averaging"
sed 's/^\*//' other.out | awk '$1 == "L2R_L2LOSS_SVC" { n++ } END { exit n != 1 }' ||
    fail "--solvers 2 with --solver L1R_LR: $(cat other.out)"
exit 0
