#!/usr/bin/env bash
# Issue 2: a worker that starts before the master, one that starts after it,
# one that joins mid-job; then the master is restarted while workers run, and
# the same workers serve the new master's job.
. "$(dirname "$0")/lib.sh"
nc_setup
nc_worker early --slots 1            # before the master exists
sleep 0.5
nc_master_bg bench-dispatch --tasks 3000 --task-ms 2 --min-workers 2 --out-ids "$T/ids1" --no-dashboard
nc_worker late --slots 1             # after the master
WAIT_S=60 wait_for bash -c "[ \$(wc -l < '$T/ids1' 2>/dev/null || echo 0) -ge 500 ]" ||
    { cat "$T/master.log"; fail "first job made no progress"; }
nc_worker midjob --slots 1           # joins during the job
wait "$MASTER_PID" || { cat "$T/master.log"; fail "first master failed"; }
[ "$(sort -u "$T/ids1" | wc -l)" -eq 3000 ] || fail "first job: not every task exactly once"
grep -q "midjob" "$T/master.log" || fail "mid-job worker never joined"

# Master restart: the workers keep running and reconnect to the new master.
nc_master_bg bench-dispatch --tasks 2000 --task-ms 1 --min-workers 3 --out-ids "$T/ids2" --no-dashboard
WAIT_S=90 wait_for bash -c "! kill -0 $MASTER_PID 2>/dev/null" || fail "second job did not finish"
wait "$MASTER_PID" || { cat "$T/master.log"; fail "second master failed"; }
[ "$(sort -u "$T/ids2" | wc -l)" -eq 2000 ] || fail "second job: not every task exactly once"
for w in early late midjob; do kill -0 "${WORKER_PID[$w]}" || fail "worker $w died"; done
echo "ok: workers before/after/mid-job and across a master restart"
