#!/usr/bin/env bash
# Reproduction found by the chaos soak (scripts/soak.sh, master_restart): a
# job that a `master serve` was running when it was SIGKILLed stays "running"
# in /api/jobs of every later master. Expected: the new master marks it
# failed (interrupted), or runs it again.
# Exit 0 when the behaviour is right, 1 when the bug shows. NC_BIN picks the
# binaries (default bin/).
. "$(dirname "$0")/../../tests/e2e/lib.sh"
NC_BIN=${NC_BIN:-$NC_ROOT/bin}
nc_setup
awk 'BEGIN { srand(1); print "id,a,b,label"
    for (i = 1; i <= 3000; i++) { c = int(rand() * 2)
        printf "r%d,%.6f,%.6f,%s\n", i, c + rand() * 2, rand(), c ? "x" : "y" } }' >d.csv
NC_TEST_TRON_DELAY_MS=300 nc_worker a # a slow worker: the job is still running 2 s in
up() { curl -sf -o /dev/null "http://127.0.0.1:$DASH_PORT/health"; }
nc_master_bg serve
wait_for up || fail "serve did not start"
id=$(curl -s -X POST -d "{\"mode\":\"train\",\"data\":\"$T/d.csv\"}" \
    "http://127.0.0.1:$DASH_PORT/api/jobs" | jq .id)
sleep 2
kill -9 "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
nc_master_bg serve
wait_for up || fail "the second serve did not start"
sleep 3
st=$(curl -s "http://127.0.0.1:$DASH_PORT/api/jobs/$id" | jq -r '.state // .job.state')
echo "job $id after the master restart: $st"
[ "$st" = running ] && fail "job $id is still running in /api/jobs with no master running it"
exit 0
