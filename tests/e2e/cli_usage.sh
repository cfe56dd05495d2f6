#!/usr/bin/env bash
# Issue 14 (command line): bin/master and bin/worker parse their options with
# getopt_long from one table each.
#   1. --opt=value works as --opt value does (the value reaches the job);
#   2. bad usage is exit 2 and one line naming the option, "see --help", with
#      "did you mean" for a near miss;
#   3. a job's checks are the same on the command line and over REST:
#      min-workers 0 is refused by both with one message (it used to be read
#      as 1 and the job waited for one worker);
#   4. "is another master running?" follows a port in use only, not a port
#      the user may not bind (below 1024, not root).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
nc_setup

# usage PROG WANT_LINE ARGS...: exit 2 and stderr exactly WANT_LINE
usage() {
    local prog=$1 want=$2; shift 2
    local rc=0
    timeout 20 "$NC_BIN/$prog" "$@" >out.txt 2>err.txt || rc=$?
    [ $rc -eq 2 ] || { cat err.txt; fail "$prog $*: exit $rc, want 2"; }
    [ "$(cat err.txt)" = "$want" ] || fail "$prog $*: stderr is '$(cat err.txt)', want '$want'"
    note "$prog $*: $want"
}

# 1. --opt=value
printf 'id,label,a\n1,0,1\n2,1,2\n' >d.csv
rc=0
timeout 20 "$NC_BIN/master" train --config=config.json --no-dashboard --data=gone.csv \
    >out.txt 2>err.txt || rc=$?
[ $rc -eq 3 ] && grep -q "gone.csv" err.txt || { cat err.txt; fail "--data=gone.csv: exit $rc"; }
usage master "master: --shard-rows: cluster.shard_rows: 'zero' is not a whole number" \
    train --config=config.json --shard-rows=zero
usage worker "worker: worker.max_cpu: 101 is out of range (0-100)" --config=config.json --max-cpu=101

# 2. one line naming the option
usage master "master: unknown option '--modle' (did you mean --model? see --help)" \
    train --config config.json --data d.csv --modle m.txt
usage master "master: option '--data' needs a value (see --help)" train --config config.json --data
usage master "master: option '--no-dashboard' takes no value (see --help)" train --no-dashboard=1
usage master "master: unexpected argument 'd.csv' (see --help)" train d.csv
usage worker "worker: unknown option '--slot' (did you mean --slots? see --help)" --slot 2
usage worker "worker: option '--slots' needs a value (see --help)" --config config.json --slots

# 3. min-workers 0: the command line and a REST job refuse it alike
want="--min-workers: '0' is not a whole number from 1 to 100000"
usage master "master: $want" train --config config.json --no-dashboard --data d.csv --min-workers 0
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
F=$T/files
mkdir -p "$F"
cp d.csv "$F/train.csv"
nc_master_bg serve --set "dashboard.files=$F"
need_node
dash_wait_up
post() {
    curl -s -m 10 -o body.txt -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "$1" "http://127.0.0.1:$DASH_PORT/api/jobs"
}
code=$(post '{"mode":"train","data":"train.csv","model":"m.txt","out":"o.csv","min-workers":0}')
[ "$code" = 400 ] || fail "REST min-workers 0: HTTP $code $(cat body.txt)"
grep -qF -- "$want" body.txt || fail "REST min-workers 0: $(cat body.txt), want $want"
grep -q "waiting for" master.log && fail "REST min-workers 0 started a job: $(grep waiting master.log)"
note "REST min-workers 0 -> 400 $(cat body.txt)"
code=$(post '{"mode":"train","data":"train.csv","model":"m.txt","out":"o.csv","min-workers":"3"}')
[ "$code" = 200 ] || fail "REST min-workers 3: HTTP $code $(cat body.txt)"
wait_for log_has master.log "waiting for 3 worker" || { cat master.log; fail "REST job did not wait for 3"; }
kill -TERM "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null

# 4. the bind hint: a port in use yes, a privileged port no
hint="is another master running?"
printf '{"master": {"task_port": %d, "result_port": %d, "heartbeat_port": %d}}\n' \
    "$TASK_PORT" "$RESULT_PORT" "$HB_PORT" >ports.json
nc_master_bg bench-dispatch --no-dashboard --tasks 1
wait_for log_has master.log "waiting for 1 worker" || { cat master.log; fail "first master did not start"; }
rc=0
timeout 20 "$NC_BIN/master" bench-dispatch --config ports.json --no-dashboard --tasks 1 \
    2>err.txt || rc=$?
[ $rc -eq 1 ] && grep -qF "$hint" err.txt || { cat err.txt; fail "port in use: exit $rc, no hint"; }
kill -TERM "$MASTER_PID"
command -v setpriv >/dev/null && [ "$(id -u)" = 0 ] || { note "not root: no privileged port check"; echo ok; exit 0; }
D=$(mktemp -d /tmp/nc-e2e-nobody.XXXXXX)
chmod 755 "$D"
printf '{"master": {"task_port": 80, "result_port": %d, "heartbeat_port": %d}}\n' \
    "$RESULT_PORT" "$HB_PORT" >"$D/c.json"
chmod 644 "$D/c.json"
rc=0
(cd "$D" && timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups "$NC_BIN/master" \
    bench-dispatch --config c.json --no-dashboard --tasks 1) 2>err.txt || rc=$?
rm -rf "$D"
if grep -q "cannot listen on tcp://127.0.0.1:80: Permission denied" err.txt; then
    [ $rc -eq 1 ] || fail "privileged port: exit $rc"
    grep -qF "$hint" err.txt && fail "privileged port: misleading hint: $(grep listen err.txt)"
    note "$(grep listen err.txt)"
else
    note "user 65534 could bind port 80 or not run the master: $(tail -1 err.txt)"
fi
echo ok
