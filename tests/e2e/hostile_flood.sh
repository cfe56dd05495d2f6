#!/usr/bin/env bash
# Issue 7: a hostile peer that joins as a member (tests/tools/hostile.c
# --member) during a job: it hands back what it is given and learns the job
# id, forges results for task ids 1..N with random lease nonces, floods
# 10,000 heartbeats/s under its id (1 MB hostnames among them, and 8 KB ones
# that pass the size check), heartbeats from an unknown id, a READY past
# cluster.max_workers, random bytes everywhere and results for another job.
# The master stays up, the job's task ids are exactly 1..N once each, its
# peak RSS (VmHWM) stays under 150 MB (50 MB without the hostile; 206 MB
# before the ROUTER and SUB sockets got a 64 KB inbound message bound), each drop kind appears in its final
# counters line, and the hostile member's hostname is clipped on the dashboard.
. "$(dirname "$0")/lib.sh"
nc_setup
HOSTILE=$NC_ROOT/build/san/tests/tools/hostile
[ -x "$HOSTILE" ] || fail "missing $HOSTILE (make SAN=1 unit)"
command -v curl >/dev/null || { echo "curl missing"; exit 77; }
N=1500
# two real workers + the hostile member = 3; the hostile's second READY is one too many
nc_master_bg bench-dispatch --tasks $N --task-ms 8 --min-workers 2 --out-ids "$T/ids" \
    --keep-running --set cluster.max_workers=3
nc_worker a --slots 1
nc_worker b --slots 1
WAIT_S=30 wait_for bash -c "[ \$(grep -c ' joined' '$T/master.log') -ge 2 ]" ||
    { cat "$T/master.log"; fail "workers did not join"; }
"$HOSTILE" 127.0.0.1 "$TASK_PORT" "$RESULT_PORT" "$HB_PORT" 6 --member $N >"$T/hostile.out" 2>&1 &
HPID=$!
NC_PIDS+=($HPID)
sleep 3
curl -s --max-time 2 "http://127.0.0.1:$DASH_PORT/api/workers" >"$T/workers.json"
wait $HPID; hrc=$?
cat "$T/hostile.out"
[ $hrc -eq 0 ] || fail "the hostile member never got a task, so it could not forge (rc $hrc)"
WAIT_S=120 wait_for bash -c "[ \$(cat '$T/ids' 2>/dev/null | wc -l) -ge $N ]" ||
    { tail -20 "$T/master.log"; fail "job did not finish"; }
kill -0 "$MASTER_PID" 2>/dev/null || fail "master died"
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$MASTER_PID/status")
kill "$MASTER_PID"; wait "$MASTER_PID"
cat "$T/master.out"
note "master peak RSS (VmHWM, sanitized build): $((hwm_kb / 1024)) MB"
[ "$hwm_kb" -lt $((150 * 1024)) ] || fail "master peak RSS $((hwm_kb / 1024)) MB >= 150 MB"
[ "$(wc -l <"$T/ids")" -eq $N ] && [ "$(sort -un "$T/ids" | wc -l)" -eq $N ] &&
    [ "$(sort -n "$T/ids" | head -1)" -eq 1 ] && [ "$(sort -n "$T/ids" | tail -1)" -eq $N ] ||
    fail "task ids are not 1..$N exactly once"
line=$(grep "dropped" "$T/master.out")
for kind in malformed unknown_task stale duplicate forged unknown_peer flood too_many_workers; do
    grep -Eq " $kind=[1-9]" <<<"$line" || fail "no '$kind' drops counted in: $line"
done
# what got through was clipped: no 1 MB or 8 KB hostname on the dashboard
size=$(wc -c <"$T/workers.json")
[ "$size" -gt 0 ] && [ "$size" -lt 20000 ] || fail "/api/workers is $size bytes during the flood"
grep -q "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" "$T/workers.json" &&
    fail "a hostname longer than 64 bytes reached the dashboard"
grep -q '"finished"\|job finished' "$T/master.log" || true
echo "ok: master up, ids exact, peak RSS $((hwm_kb / 1024)) MB, drops: ${line#*dropped}"
