#!/usr/bin/env bash
# make demo: one real cluster on this machine.
#   1. prepares the default data set (Fashion-MNIST subset, Data/train.csv, Data/test.csv)
#   2. starts 2 local workers
#   3. trains (master train, dashboard on http://127.0.0.1:5051), then tests
#   4. prints accuracy, time and where every output is
# On a terminal it prints at most 15 lines, the dashboard's URL first: the
# masters run with -q (results, warnings and errors; the progress bar, which
# is cleared at the end), their full logs are in the run folders
# (Data/runs/ID/job.log), the workers' in Data/demo-worker-*.log.
# KEEP=1 leaves the master and dashboard running after the test job (Ctrl-C ends).
# The workers are stopped on exit, whatever happens.
# DEMO_DIR=DIR runs the same demo in another directory (its config.json, its
# Data/), with TRAIN_ROWS/TEST_ROWS passed to prepare-data.sh: the test suite
# runs the demo path this way on a small subset.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "${DEMO_DIR:-$ROOT}"
BIN=${NC_REL_BIN:-$ROOT/bin}
CONFIG=${CONFIG:-config.json}
WORKERS=${WORKERS:-2}

# The URL first: the page can be opened while the data is made.
echo "demo: dashboard at http://127.0.0.1:5051 while the master runs"
OUT_DIR=$PWD/Data NC_REL_BIN=$BIN "$ROOT/scripts/prepare-data.sh"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

mkdir -p Data
for i in $(seq 1 "$WORKERS"); do
    "$BIN/worker" --config "$CONFIG" --name "demo-$i" --slots 1 -q >"Data/demo-worker-$i.log" 2>&1 &
    pids+=($!)
done
echo "demo: started $WORKERS workers (logs in Data/demo-worker-*.log)"

# The pixels are already scaled to [0,1] by prepare-data.sh: no further scaling,
# so the data stays sparse and the model is the one liblinear-train would make.
set -- --scale none -q "$@"
start=$(date +%s.%N)
echo "demo: training on Data/train.csv"
"$BIN/master" train --config "$CONFIG" --min-workers "$WORKERS" "$@"
t_train=$(date +%s.%N)
echo "demo: testing on Data/test.csv"
keep=()
[ "${KEEP:-0}" = 1 ] && keep=(--keep-running)
"$BIN/master" test --config "$CONFIG" --min-workers "$WORKERS" "${keep[@]}" "$@"
end=$(date +%s.%N)

awk -v s="$start" -v t="$t_train" -v e="$end" \
    'BEGIN { printf "demo: done in %.1f s (training %.1f s, testing %.1f s)\n", e - s, t - s, e - t }'
echo "  model:       Data/model.txt (+ Data/model.txt.schema.json)"
rows() { if [ -f "$1" ]; then echo "$(($(wc -l <"$1") - 1)) rows"; else echo "not there: see $CONFIG"; fi; }
echo "  submissions: Data/submission_train.csv ($(rows Data/submission_train.csv))," \
     "Data/submission_test.csv ($(rows Data/submission_test.csv))"
echo "  history:     Data/netcompute.db (SQLite); runs with their logs: Data/runs (bin/master runs)"
echo "  dashboard:   http://127.0.0.1:5051 (up while a master runs; KEEP=1 keeps it)"
