#!/usr/bin/env bash
# The class split of exact training (master/train_classes.h): every worker
# gets all the rows once and trains whole one-vs-rest classes. Many classes
# over wide sparse rows: auto picks it (and says so), the model is liblinear-
# train's (weights within 1e-3, predictions the same), as the row split's is;
# a worker killed while it holds classes costs nothing but time; --parallel
# classes is refused politely where it cannot run (--cv, two classes), and
# auto keeps the row split on narrow dense data.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
NC_SHARD_ROWS=400 nc_setup

# wide ROWS SEED CLASSES COLUMNS: ~12 non-zeros a row over many columns; the
# label is the class whose own columns the row hits most (plus noise).
wide() {
    awk -v n="$1" -v seed="$2" -v k="$3" -v d="$4" 'BEGIN {
        srand(seed);
        for (i = 0; i < n; i++) {
            delete hit; delete score; line = "";
            c = int(rand() * k);
            for (t = 0; t < 12; t++) {
                j = (rand() < 0.5) ? 1 + int(rand() * d) : 1 + (c + k * int(rand() * (d / k - 1)));
                if (j in hit) continue;
                hit[j] = sprintf("%.3g", 0.2 + rand());
            }
            if (rand() < 0.1) c = int(rand() * k);
            m = 0; for (j in hit) idx[++m] = j + 0;
            for (a = 2; a <= m; a++) { v = idx[a]; b = a - 1; while (b >= 1 && idx[b] > v) { idx[b + 1] = idx[b]; b-- } idx[b + 1] = v }
            for (a = 1; a <= m; a++) line = line " " idx[a] ":" hit[idx[a]];
            print (c + 1) line;
        }
    }'
}
wide 3000 5 12 6000 >wide.svm
liblinear-train -q -s 0 -c 1 -e 0.01 -B 1 wide.svm ref-wide.txt >/dev/null || fail "liblinear-train"
gen_svm 1500 8 3 20 >narrow.svm
gen_svm 1500 9 2 20 >binary.svm

nc_worker a
nc_worker b

# train NAME ARGS...: one training run with the 2 workers already up.
train() {
    local name=$1; shift
    "$NC_BIN/master" train --config config.json --no-dashboard --model "$name.txt" \
        --out "$name.sub.csv" --solver 0 -C 1 --eps 0.01 --bias 1 --min-workers 2 "$@" \
        >"$name.out" 2>"$name.log" || { tail -5 "$name.log"; fail "master train $name"; }
}

train auto --data wide.svm -v # -v: one line per class
grep -q "classes split: every worker gets" auto.log || fail "auto did not split classes: $(grep -i split auto.log)"
[ "$(grep -c 'class [0-9]*: [0-9]* iterations' auto.log)" = 12 ] || fail "not 12 classes reported"
check_model auto.txt ref-wide.txt wide.svm "class split, 12 classes, 2 workers"
[ "$(wc -l <auto.sub.csv)" = 3001 ] || fail "submission rows: $(wc -l <auto.sub.csv)"

train rows --data wide.svm --parallel rows
! grep -q "classes split" rows.log || fail "--parallel rows split classes"
check_model rows.txt ref-wide.txt wide.svm "row split of the same data"

# A worker that dies holding classes: they run again on the other.
NC_TEST_TRON_DELAY_MS=800 nc_worker slow
NC_TEST_TRON_DELAY_MS=800 nc_worker slow2
kill "${WORKER_PID[a]}" "${WORKER_PID[b]}"
"$NC_BIN/master" train --config config.json --no-dashboard --model kill.txt --out kill.sub.csv \
    --data wide.svm --solver 0 -C 1 --eps 0.01 --bias 1 --min-workers 2 --parallel classes \
    >kill.out 2>kill.log &
mpid=$!
WAIT_S=20 wait_for log_has kill.log "classes split" || fail "no class split started"
sleep 1
kill -9 "${WORKER_PID[slow]}"
wait "$mpid" || { tail -5 kill.log; fail "training failed after a worker was killed"; }
grep -q "worker slow .*lost.*requeued" kill.log || fail "the worker was not lost mid-job: $(grep -i lost kill.log)"
check_model kill.txt ref-wide.txt wide.svm "class split with a worker killed mid-job"
nc_worker c

# Where it cannot run, or is not worth it.
train cv --data wide.svm --parallel classes --cv 3
grep -q "model.parallel classes: not possible here (--cv)" cv.log || fail "no --cv warning"
grep -q "Cross Validation Accuracy" cv.out || fail "cv did not run"
train bin --data binary.svm --parallel classes
grep -q "not possible here (one binary problem)" bin.log || fail "no binary warning"
train narrow --data narrow.svm
! grep -q "classes split" narrow.log || fail "auto split classes of narrow dense data"
echo "ok"
