#!/usr/bin/env bash
# The reduction tree (cluster.reduce tree): with 4 workers (8 tasks a round,
# two slots each) the workers add their partial sums pairwise and the master
# takes about one answer a round instead of eight; the model reaches the
# star's objective to 1e-9 relative (the sums are grouped differently, so
# the last bits may differ). Then the fallbacks: a worker whose tasks are
# late (its parent stops waiting after cluster.reduce_wait_ms and the master
# asks for the missing parts directly), and a worker killed mid-job; both
# jobs complete with the same objective and liblinear's model.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
NC_SHARD_ROWS=400 nc_setup

gen_svm 3200 11 3 30 >multi.svm
"$NC_BIN/gensparse" 3200 20000 12 3 1 5 >text.svm || fail "gensparse"
liblinear-train -q -s 0 -c 1 -e 0.01 -B 1 multi.svm ref-multi.txt >/dev/null || fail "liblinear"

# train NAME ARGS...: one training run with the workers already up.
train() {
    local name=$1; shift
    "$NC_BIN/master" train --config config.json --no-dashboard --model "$name.txt" \
        --out "$name.sub.csv" "$@" >"$name.out" 2>"$name.log" ||
        { tail -5 "$name.log"; fail "master train $name"; }
}
objective() { "$NC_BIN/primal" "$1" "$2" 1 0 || fail "primal $1"; }
# same_objective A B WHAT: relative difference <= 1e-9
same_objective() {
    awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * b) }' ||
        fail "$3: objective $1, star's $2"
    note "$3: objective $1, star's $2"
}
# msgs LOG: messages the master received a Newton round
msgs() { sed -n 's/.* \([0-9.]*\) messages received a round.*/\1/p' "$1" | tail -1; }

for n in a b c d; do nc_worker $n --slots 2 --set worker.tree_port=0; done
for f in multi text; do
    train star-$f --data $f.svm --solver 0 --min-workers 4 --parallel rows
    train tree-$f --data $f.svm --solver 0 --min-workers 4 --parallel rows --set cluster.reduce=tree
    same_objective "$(objective tree-$f.txt $f.svm)" "$(objective star-$f.txt $f.svm)" "tree, $f"
    grep -Eq 'reduction tree: [1-9][0-9]* of [0-9]+ rounds summed by the workers' tree-$f.log ||
        fail "tree, $f: no round was summed by the workers: $(grep 'reduction tree' tree-$f.log)"
    s=$(msgs star-$f.log) t=$(msgs tree-$f.log)
    awk -v s="$s" -v t="$t" 'BEGIN { exit !(s >= 7.5 && t <= 1.5) }' ||
        fail "tree, $f: $t messages a round at the master (star: $s)"
    note "tree, $f: $t messages a round at the master, star $s"
done
check_model tree-multi.txt ref-multi.txt multi.svm "tree, 4 workers"
grep -q 'reduction tree' star-multi.log && fail "star mode used the tree"

# A late worker: it joins last, so its tasks are leaves; their parents wait
# 30 ms for them, then send what they have, and the master asks the late
# parts directly.
kill -9 "${WORKER_PID[d]}"
wait "${WORKER_PID[d]}" 2>/dev/null
nc_master_bg train --data multi.svm --solver 0 --min-workers 4 --model late.txt --out late.sub.csv \
    --no-dashboard --set cluster.reduce=tree --set cluster.reduce_wait_ms=30
WAIT_S=30 wait_for log_has master.log "joined" || fail "no worker joined the late-worker run"
sleep 1
NC_TEST_TRON_DELAY_MS=300 nc_worker late --slots 2 --set worker.tree_port=0
wait "$MASTER_PID" || { tail -5 master.log; fail "late-worker run failed"; }
grep -Eq '[1-9][0-9]* part\(s\) asked for directly' master.log ||
    fail "no part was asked for directly: $(grep 'reduction tree' master.log)"
grep -q 'stops waiting' worker-*.log || fail "no parent stopped waiting for a late child"
same_objective "$(objective late.txt multi.svm)" "$(objective star-multi.txt multi.svm)" \
    "tree with a late worker"
check_model late.txt ref-multi.txt multi.svm "tree with a late worker"

# A worker killed mid-job: every task runs 150 ms, so the job lasts a few
# seconds; a worker dies after the third Newton iteration.
kill -9 "${WORKER_PID[late]}" "${WORKER_PID[a]}" "${WORKER_PID[b]}" "${WORKER_PID[c]}"
wait 2>/dev/null
export NC_TEST_TRON_DELAY_MS=150
for n in e f g h; do nc_worker $n --slots 2 --set worker.tree_port=0; done
nc_master_bg train --data multi.svm --solver 0 --min-workers 4 --model kill.txt --out kill.sub.csv \
    --no-dashboard -v --set cluster.reduce=tree
WAIT_S=60 wait_for log_has master.log "iter 3 class" || { tail -5 master.log; fail "no iteration 3"; }
kill -9 "${WORKER_PID[f]}"
wait "$MASTER_PID" || { tail -5 master.log; fail "the job failed after a worker was killed"; }
grep -q 'worker f .* lost' master.log || fail "the killed worker was not noticed"
same_objective "$(objective kill.txt multi.svm)" "$(objective star-multi.txt multi.svm)" \
    "tree with a worker killed"
check_model kill.txt ref-multi.txt multi.svm "tree with a worker killed"

# CURVE: the tree ports admit the keys in security.authorized_keys. Workers
# that list each other sum up the tree; a worker that does not list the
# others, and whose key they do not list (the master admits all three),
# can neither hand its parts up nor take its children's, wherever it sits in
# the tree: a parent stops waiting and the master asks for the parts directly.
unset NC_TEST_TRON_DELAY_MS
kill -9 "${WORKER_PID[e]}" "${WORKER_PID[g]}" "${WORKER_PID[h]}"
wait 2>/dev/null
for n in master k1 k2 k3; do "$NC_BIN/master" keygen $n >/dev/null || fail "keygen $n"; done
cat k1.pub k2.pub k3.pub >admitted
cat k1.pub k2.pub >peers
cat k3.pub >alone
curve() { echo --set security.curve=true --set "security.master_public_key=$T/master.pub" \
    --set "security.secret_key_file=$T/$1.key" --set "security.authorized_keys=$T/$2"; }
for n in k1 k2 k3; do nc_worker $n --slots 1 --set worker.tree_port=0 $(curve $n admitted); done
train curve --data multi.svm --solver 0 --min-workers 3 --parallel rows \
    --set cluster.reduce=tree $(curve master admitted)
grep -Eq 'reduction tree: ([0-9]+) of \1 rounds summed by the workers, 0 part' curve.log ||
    fail "CURVE: $(grep 'reduction tree' curve.log)"
same_objective "$(objective curve.txt multi.svm)" "$(objective star-multi.txt multi.svm)" \
    "tree with CURVE"
kill -9 "${WORKER_PID[k1]}" "${WORKER_PID[k2]}" "${WORKER_PID[k3]}"
wait 2>/dev/null
for n in k1 k2; do nc_worker $n --slots 1 --set worker.tree_port=0 $(curve $n peers); done
nc_worker k3 --slots 1 --set worker.tree_port=0 $(curve k3 alone)
train stranger --data multi.svm --solver 0 --min-workers 3 --parallel rows \
    --set cluster.reduce=tree --set cluster.reduce_wait_ms=50 $(curve master admitted)
grep -Eq '[1-9][0-9]* part\(s\) asked for directly' stranger.log ||
    fail "CURVE, a key the workers do not list: $(grep 'reduction tree' stranger.log)"
same_objective "$(objective stranger.txt multi.svm)" "$(objective star-multi.txt multi.svm)" \
    "tree with CURVE, a worker the others do not admit"
