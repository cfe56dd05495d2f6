#!/usr/bin/env bash
# Issue 7: a worker with --when idle gives the PC back to its owner.
# The input-activity seam NETCOMPUTE_IDLE_SOURCE=FILE stands for the keyboard
# and mouse: FILE's mtime is the last input. Old mtime = owner away, `touch` =
# owner active. During a job the owner comes back: the worker hands its task
# back within one second (master log "handed back" vs the touch time), its
# heartbeats say paused / "owner active" (GET /api/workers), a second worker
# finishes part of the job meanwhile, the first one resumes when the owner
# leaves again, and every task is done exactly once (--out-ids).
# worker.max_load is lifted: this test is about the owner, and the machine
# may be busy with other tests (load from other processes also pauses).
# "on battery" needs a fake /sys/class/power_supply, which only the sysstat
# root seam of worker_run() reaches (no command-line or env seam): it is
# covered by tests/unit/test_idle.c (test_battery_via_sysstat).
. "$(dirname "$0")/lib.sh"
nc_setup
command -v curl >/dev/null || { echo "curl missing"; exit 77; }
INPUT=$T/input
touch -d '10 minutes ago' "$INPUT"
N=30
nc_master_bg bench-dispatch --tasks $N --task-ms 600 --prefetch 0 --min-workers 1 \
    --out-ids "$T/ids" --keep-running
export NETCOMPUTE_IDLE_SOURCE=$INPUT
nc_worker desk --slots 1 --when idle --set worker.idle_minutes=1 --set worker.max_load=1000
unset NETCOMPUTE_IDLE_SOURCE
api() { curl -s --max-time 2 "http://127.0.0.1:$DASH_PORT/api/workers"; }

# the desk worker is computing
WAIT_S=30 wait_for grep -q "worker desk .*joined" "$T/master.log" || fail "desk never joined"
sleep 2
log_has "$T/master.log" "handed back" && fail "handed back before the owner came back"

# the owner comes back
touch "$INPUT"
t_touch=$(date +%s%3N)
WAIT_S=5 wait_for grep -q "worker desk handed back task" "$T/master.log" ||
    { tail -20 "$T/master.log" "$T/worker-desk.log"; fail "no handback after the owner came back"; }
hb_line=$(grep -m1 "worker desk handed back task" "$T/master.log")
hb_ts=${hb_line%% *}
t_hb=$(date -d "$hb_ts" +%s%3N) || fail "cannot read the time of: $hb_line"
delay=$((t_hb - t_touch))
note "handed back $delay ms after the owner's input: $hb_line"
[ "$delay" -le 1000 ] || fail "handback took $delay ms (> 1000)"
log_has "$T/worker-desk.log" "pausing: owner active" || fail "worker log shows no 'owner active'"
WAIT_S=5 wait_for bash -c "curl -s --max-time 2 http://127.0.0.1:$DASH_PORT/api/workers |
    grep -q '\"state\": *\"paused\"'" || { api; fail "dashboard does not show the worker paused"; }
api | grep -q '"reason": *"owner active"' || { api; fail "dashboard shows no reason 'owner active'"; }

# paused: it takes nothing for a while; a second, always-on worker carries on
sleep 1.5
done_before=$(grep -c "handed back" "$T/master.log")
nc_worker helper --slots 1
WAIT_S=20 wait_for grep -q "worker helper .*joined" "$T/master.log" || fail "helper never joined"
sleep 3
kill "${WORKER_PID[helper]}" # a clean stop hands its task back too
# the owner leaves (input long ago): the desk worker resumes and finishes the job
touch -d '10 minutes ago' "$INPUT"
WAIT_S=5 wait_for log_has "$T/worker-desk.log" "resuming" || fail "desk did not resume"
# --out-ids is complete once the job is over (the file is closed then)
WAIT_S=120 wait_for bash -c "[ \$(cat '$T/ids' 2>/dev/null | wc -l) -ge $N ]" ||
    { tail -20 "$T/master.log"; fail "job did not finish"; }
[ "$(wc -l <"$T/ids")" -eq $N ] && [ "$(sort -u "$T/ids" | wc -l)" -eq $N ] ||
    fail "not every task exactly once: $(wc -l <"$T/ids") lines, $(sort -u "$T/ids" | wc -l) distinct"
kill -0 "$MASTER_PID" || fail "master died"
kill "$MASTER_PID"; wait "$MASTER_PID"
note "handbacks logged: $done_before before the helper, $(grep -c 'handed back' "$T/master.log") in all"
echo "ok: paused within ${delay} ms, reason shown, resumed, $N tasks exactly once"
