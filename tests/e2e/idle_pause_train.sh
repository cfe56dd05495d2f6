#!/usr/bin/env bash
# A training job does not wait for a worker whose owner came back. Worker
# "desk" (--when idle) holds half the shards; mid-training its owner starts
# typing and keeps on (the input file is touched every 0.3 s until the job
# ends), so desk pauses and never resumes. The other worker takes desk's
# shards (sent to it with their points) and the job finishes with every
# row's prediction. Before, a paused worker's shards could go only to it and
# every round waited for the owner to leave.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
NC_SHARD_ROWS=2000 nc_setup
INPUT=$T/input
touch -d '10 minutes ago' "$INPUT"
gen_svm 20000 11 8 100 >train.svm
export NETCOMPUTE_IDLE_SOURCE=$INPUT
nc_worker desk --slots 1 --when idle --set worker.idle_minutes=1 --set worker.max_load=1000
unset NETCOMPUTE_IDLE_SOURCE
nc_worker other --slots 1
nc_master_bg train --no-dashboard --data train.svm --min-workers 2 --eps 0.0001 \
    --model m.txt --out sub.csv
# the owner comes back once training is under way, and stays
WAIT_S=60 wait_for log_has "$T/master.log" "shards loaded on the workers" ||
    { tail -n 5 "$T/master.log"; fail "the shards never loaded"; }
while kill -0 "$MASTER_PID" 2>/dev/null; do touch "$INPUT"; sleep 0.3; done &
TOUCHER=$!
NC_PIDS+=($TOUCHER)
WAIT_S=120 wait_for bash -c "! kill -0 $MASTER_PID 2>/dev/null" ||
    { tail -n 8 "$T/master.log" "$T/worker-desk.log"; fail "the job waited for the paused worker (120 s)"; }
wait "$MASTER_PID"; rc=$?
[ $rc -eq 0 ] || { tail -n 5 "$T/master.log"; fail "master exited $rc"; }
log_has "$T/worker-desk.log" "pausing: owner active" || fail "desk never paused (was the job too short?)"
log_has "$T/worker-desk.log" "resuming" && fail "desk resumed: the owner never left, so the test proves nothing"
rows=$(wc -l <train.svm)
[ "$(wc -l <sub.csv)" -eq $((rows + 1)) ] || fail "submission: $(wc -l <sub.csv) lines for $rows rows"
note "$(grep -m1 'handed back\|split into' "$T/master.log" | cut -c1-160)"
echo "ok: trained while desk was paused for its owner"
