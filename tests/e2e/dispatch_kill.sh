#!/usr/bin/env bash
# Issue 2: 20,000 tasks, 3 workers, one killed with SIGKILL half way:
# every task completes exactly once.
. "$(dirname "$0")/lib.sh"
nc_setup
N=20000
nc_master_bg bench-dispatch --tasks $N --task-ms 1 --prefetch 8 --min-workers 3 --out-ids "$T/ids" --no-dashboard
for w in a b c; do nc_worker $w --slots 1; done
# Half way: the master logs progress; wait until at least N/2 ids are written.
WAIT_S=120 wait_for bash -c "[ \$(wc -l < '$T/ids' 2>/dev/null || echo 0) -ge $((N / 2)) ]" ||
    { cat "$T/master.log"; fail "the job never got half way"; }
kill -9 "${WORKER_PID[b]}"
note "killed worker b at $(wc -l < "$T/ids") results"
wait "$MASTER_PID"; rc=$?
cat "$T/master.out"
[ $rc -eq 0 ] || { tail -20 "$T/master.log"; fail "master exited $rc"; }
lines=$(wc -l < "$T/ids")
uniq=$(sort -n "$T/ids" | uniq | wc -l)
[ "$lines" -eq $N ] || fail "expected $N accepted results, got $lines"
[ "$uniq" -eq $N ] || fail "expected $N distinct task ids, got $uniq"
grep -Eq "workers lost [1-9]" "$T/master.out" || fail "the master did not notice the lost worker"
grep -q "lost" "$T/master.log" || fail "no log line about the lost worker"
echo "ok: $N tasks exactly once after a SIGKILL"
