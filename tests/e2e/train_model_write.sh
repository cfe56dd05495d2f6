#!/usr/bin/env bash
# A model that takes seconds to write (20 classes x 150,000 columns: 49 MB
# of %.17g) does not make the workers take the master for gone: the model is
# written by its own thread while the scheduler keeps its PINGs going. With
# liveness 2 x 250 ms, the master that wrote it on its scheduler's thread
# was called silent by its worker, which reconnected, and the master logged
# the worker lost.
. "$(dirname "$0")/lib.sh"
NC_HB_MS=250 nc_setup
sed -i 's/"liveness": 3/"liveness": 2/' config.json
python3 - <<'PY'
import random
random.seed(3)
with open('big.svm', 'w') as f:
    for i in range(3000):
        c = i % 20
        fs = sorted(set(random.randrange(1, 150001) for _ in range(60)))
        f.write(str(c) + ''.join(' %d:%.3f' % (j, (1 if j % 20 == c else 0.1) + random.random() * 0.1)
                                 for j in fs) + '\n')
PY
nc_worker w1 --slots 1
timeout 300 "$NC_BIN/master" train --config config.json --no-dashboard --data big.svm \
    --min-workers 1 --model m.txt --out sub.csv >train.out 2>train.err ||
    { tail -5 train.err; fail "training failed"; }
grep -q "^nr_feature 150000\$" m.txt || fail "model: $(grep nr_feature m.txt)"
[ "$(wc -l <sub.csv)" -eq 3001 ] || fail "submission: $(wc -l <sub.csv) lines"
grep -q "has been silent" "worker-w1.log" && fail "the worker took the master for gone: $(grep silent worker-w1.log)"
grep -q " lost" train.err && fail "the master lost its worker: $(grep ' lost' train.err)"
grep -q "s to the model on disk" train.out || fail "no time to the model on disk: $(grep time: train.out)"
note "$(grep time: train.out)"
exit 0
