#!/usr/bin/env bash
# make demo: one real cluster on this machine, one master.
#   1. prepares the default data set (Fashion-MNIST subset, Data/train.csv, Data/test.csv)
#   2. starts one master (`master serve`: the dashboard on http://127.0.0.1:5051,
#      jobs over its REST API) and 2 local workers
#   3. submits training, then testing, to that master (`master submit`: the
#      same progress bar, accuracy and exit status as a direct run), so the
#      page stays up and shows both jobs
#   4. prints accuracy, time and where every output is, then stays up serving
#      the page (and taking jobs from it) until Ctrl-C
# On a terminal it prints at most 15 lines, the dashboard's URL first: the
# submissions run with -q (results, warnings and errors; the progress bar,
# which is cleared at the end), the master's log is Data/demo-master.log, each
# job's full log is in its run folder (Data/runs/ID/job.log), the workers' in
# Data/demo-worker-*.log.
# KEEP=0 stops the master after the test job instead (the test suite does).
# The master and the workers are stopped on exit, whatever happens.
# DEMO_DIR=DIR runs the same demo in another directory (its config.json, its
# Data/), with TRAIN_ROWS/TEST_ROWS passed to prepare-data.sh: the test suite
# runs the demo path this way on a small subset.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "${DEMO_DIR:-$ROOT}"
BIN=${NC_REL_BIN:-$ROOT/bin}
CONFIG=${CONFIG:-config.json}
WORKERS=${WORKERS:-2}

# The dashboard's port from the config (5051 unless it says otherwise).
port=$(sed -n 's/.*"port": *"\{0,1\}\([0-9][0-9]*\).*/\1/p' "$CONFIG" 2>/dev/null | head -1)
URL=http://127.0.0.1:${port:-5051}
# The URL first: the page can be opened while the data is made.
echo "demo: dashboard at $URL (one master: it stays up and shows every job)"
OUT_DIR=$PWD/Data NC_REL_BIN=$BIN "$ROOT/scripts/prepare-data.sh"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p Data
# One master for the whole demo: serve mode, the dashboard on, jobs by REST.
"$BIN/master" serve --config "$CONFIG" >"Data/demo-master.log" 2>&1 &
master=$!
pids+=($master)
for i in $(seq 1 "$WORKERS"); do
    "$BIN/worker" --config "$CONFIG" --name "demo-$i" --slots 1 -q >"Data/demo-worker-$i.log" 2>&1 &
    pids+=($!)
done
# Jobs go to the master that answers on the dashboard's port: make sure it is
# this one (another master on that port would take them, and ours exits 2).
for _ in $(seq 1 150); do
    grep -q 'serving: submit jobs' Data/demo-master.log 2>/dev/null && break
    if ! kill -0 "$master" 2>/dev/null; then
        echo "demo: the master did not start: $(grep 'master: ' Data/demo-master.log | tail -1)" >&2
        exit 1
    fi
    sleep 0.1
done
echo "demo: started a master and $WORKERS workers (logs in Data/demo-*.log)"

# The pixels are already scaled to [0,1] by prepare-data.sh: no further scaling,
# so the data stays sparse and the model is the one liblinear-train would make.
set -- --scale none -q "$@"
start=$(date +%s.%N)
echo "demo: training on Data/train.csv"
"$BIN/master" submit train --config "$CONFIG" --min-workers "$WORKERS" "$@"
t_train=$(date +%s.%N)
echo "demo: testing on Data/test.csv"
"$BIN/master" submit test --config "$CONFIG" --min-workers "$WORKERS" "$@"
end=$(date +%s.%N)

awk -v s="$start" -v t="$t_train" -v e="$end" \
    'BEGIN { printf "demo: done in %.1f s (training %.1f s, testing %.1f s)\n", e - s, t - s, e - t }'
echo "  model:       Data/model.txt (+ Data/model.txt.schema.json)"
rows() { if [ -f "$1" ]; then echo "$(($(wc -l <"$1") - 1)) rows"; else echo "not there: see $CONFIG"; fi; }
echo "  submissions: Data/submission_train.csv ($(rows Data/submission_train.csv))," \
     "Data/submission_test.csv ($(rows Data/submission_test.csv))"
echo "  history:     Data/netcompute.db (SQLite); runs with their logs: Data/runs (bin/master runs)"
if [ "${KEEP:-1}" = 0 ]; then
    echo "  dashboard:   $URL (stopped: KEEP=0)"
    exit 0
fi
echo "demo: the dashboard stays up at $URL (new jobs from the page); Ctrl-C stops it"
wait "$master" || true
