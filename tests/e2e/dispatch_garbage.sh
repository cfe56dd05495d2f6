#!/usr/bin/env bash
# Issues 2 and 7: garbage on all three ports during a job (random bytes,
# wrong versions, truncated headers, too many frames, forged results, unknown
# heartbeats, a 1 MB-hostname heartbeat flood). The job still completes
# exactly once, the master stays up and its drop counters show the garbage.
. "$(dirname "$0")/lib.sh"
nc_setup
HOSTILE=$NC_ROOT/build/san/tests/tools/hostile
[ -x "$HOSTILE" ] || fail "missing $HOSTILE (make SAN=1 unit)"
nc_master_bg bench-dispatch --tasks 4000 --task-ms 2 --min-workers 2 --out-ids "$T/ids" --no-dashboard
nc_worker a --slots 1
nc_worker b --slots 1
"$HOSTILE" 127.0.0.1 "$TASK_PORT" "$RESULT_PORT" "$HB_PORT" 6 >"$T/hostile.out" 2>&1 &
NC_PIDS+=($!)
WAIT_S=120 wait_for bash -c "! kill -0 $MASTER_PID 2>/dev/null" || fail "job did not finish"
wait "$MASTER_PID"; rc=$?
cat "$T/master.out" "$T/hostile.out"
[ $rc -eq 0 ] || { tail -30 "$T/master.log"; fail "master exited $rc"; }
[ "$(sort -u "$T/ids" | wc -l)" -eq 4000 ] && [ "$(wc -l < "$T/ids")" -eq 4000 ] ||
    fail "not every task exactly once"
grep -Eq "dropped [1-9]" "$T/master.out" || fail "drop counter shows nothing"
for kind in malformed unknown_peer; do
    grep -q "$kind=" "$T/master.out" || fail "no '$kind' drops counted"
done
grep -q "unknown_task=\|stale=\|forged=" "$T/master.out" || fail "forged results were not counted"
echo "ok: garbage dropped and counted, job exact"
