#!/usr/bin/env bash
# Issue 6: 100 stock socket.io-client connections (tests/js/sio_many.mjs)
# stay connected to the dashboard while `master bench-dispatch --tasks 20000`
# runs on 2 workers: the job completes with every task exactly once, and the
# master exits cleanly with the 100 clients still connected (no
# --keep-running: after bench-dispatch it leaves a dangling progress tick,
# see the report on master/dispatch.c). The dispatch rate
# with and without the 100 clients is reported as a figure, not asserted:
# runs alternate (without, with) ROUNDS times and the medians are compared.
# A second pair with 1 ms sleep tasks also streams one task_done event per
# task to every client (20000 x 100 frames), which the noop tasks do not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
need_node socket.io-client
TASKS=${TASKS:-20000}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-100}
nc_setup
export DASH_PORT READY_FILE=$T/ready WAIT_MS=300000 # the helper ends with the job (job_done or the master exiting)

# run_bench LABEL NCLIENTS [bench-dispatch args...]: prints the tasks/s
run_bench() {
    local label=$1 nclients=$2 node_pid= w
    shift 2
    rm -f "$READY_FILE"
    nc_master_bg bench-dispatch --tasks "$TASKS" --min-workers 2 --out-ids "$T/ids-$label" "$@"
    dash_wait_up
    if [ "$nclients" -gt 0 ]; then
        node "$NC_ROOT/tests/js/sio_many.mjs" "$nclients" >"$T/clients-$label.txt" 2>&1 &
        node_pid=$!
        NC_PIDS+=("$node_pid")
        WAIT_S=40 wait_for test -e "$READY_FILE" || { cat "$T/clients-$label.txt" >&2; fail "$label: $nclients clients did not connect"; }
    fi
    nc_worker "w1" --slots 2
    nc_worker "w2" --slots 2
    WAIT_S=300 wait_for bash -c "! kill -0 $MASTER_PID 2>/dev/null" || { tail -30 "$T/master.log" >&2; fail "$label: the job did not finish"; }
    local rc=0
    wait "$MASTER_PID" || rc=$?
    if [ "$rc" -ne 0 ] || grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$T/master.log"; then
        tail -40 "$T/master.log" >&2
        fail "$label: master exited with $rc (or a sanitizer report above)"
    fi
    if [ -n "$node_pid" ]; then
        wait "$node_pid" || { cat "$T/clients-$label.txt" >&2; fail "$label: client helper failed"; }
    fi
    for w in w1 w2; do kill -TERM "${WORKER_PID[$w]}" 2>/dev/null; wait "${WORKER_PID[$w]}" 2>/dev/null; done
    cp "$T/master.out" "$T/out-$label.txt"
    local lines uniq
    lines=$(wc -l <"$T/ids-$label")
    uniq=$(sort -u "$T/ids-$label" | wc -l)
    [ "$lines" -eq "$TASKS" ] && [ "$uniq" -eq "$TASKS" ] ||
        fail "$label: $lines result lines, $uniq unique task ids, want $TASKS each"
    echo "$label: $(head -1 "$T/master.out")" >&2
    [ -n "$node_pid" ] && echo "$label: $(tail -1 "$T/clients-$label.txt")" >&2
    sed -n 's/.*tasks\/s \([0-9]*\).*/\1/p' "$T/master.out"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }

without=() with=()
for r in $(seq 1 "$ROUNDS"); do
    without+=("$(run_bench "noop-0-$r" 0)")
    with+=("$(run_bench "noop-$CLIENTS-$r" "$CLIENTS")")
done
m0=$(printf '%s\n' "${without[@]}" | median)
m1=$(printf '%s\n' "${with[@]}" | median)
echo "FIGURE dispatch noop tasks, $TASKS tasks, 2 workers: without clients ${without[*]} tasks/s (median $m0); with $CLIENTS clients ${with[*]} tasks/s (median $m1); ratio $(ratio "$m1" "$m0")"

# 1 ms tasks: each result is a task_done event for every client
s0=$(run_bench "sleep-0" 0 --task-ms 1)
s1=$(run_bench "sleep-$CLIENTS" "$CLIENTS" --task-ms 1)
echo "FIGURE dispatch 1 ms tasks (task_done streamed), $TASKS tasks: without clients $s0 tasks/s; with $CLIENTS clients $s1 tasks/s; ratio $(ratio "$s1" "$s0")"
echo "FIGURE clients during the 1 ms run: $(tail -1 "$T/clients-sleep-$CLIENTS.txt")"

echo "ok: $TASKS tasks exactly once with and without $CLIENTS websocket clients"
