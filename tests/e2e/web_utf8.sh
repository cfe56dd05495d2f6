#!/usr/bin/env bash
# Issue 12, item 5: text that leaves the process is valid UTF-8. A job whose
# data path is not UTF-8 (a Latin-1 file name, as old lab PCs write them)
# runs from the command line; its path then travels in events, the Socket.IO
# snapshot and the REST answers. Node's ws drops a websocket with a text
# frame that is not UTF-8 (as browsers do), and python3 decodes the REST
# bodies strictly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
need_node ws
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
nc_setup
BAD=$T/$(printf 'caf\xe9-\xff')
dash_train_csv 300 "$BAD.csv"
nc_master_bg train --data "$BAD.csv" --scale none --keep-running
dash_wait_up
nc_worker w1
WAIT_S=90 wait_for log_has "$T/master.out" "Training accuracy" || { tail "$T/master.log"; fail "the job did not finish"; }
export DASH_PORT
utf8_body() { # utf8_body PATH: the body, which must decode as UTF-8
    curl -s -m 10 "http://127.0.0.1:$DASH_PORT$1" >"$T/body"
    python3 -c 'import sys; sys.stdout.write(open(sys.argv[1], "rb").read().decode("utf-8"))' "$T/body" \
        || fail "GET $1: not valid UTF-8: $(od -c "$T/body" | head -3)"
}
jobs=$(utf8_body /api/jobs) || fail "GET /api/jobs is not valid UTF-8"
[[ "$jobs" == *caf* ]] || fail "the job is not listed: $jobs"
id=$(grep -o '"id":[0-9]*' <<<"$jobs" | head -1 | cut -d: -f2)
utf8_body "/api/jobs/$id" >/dev/null || fail "GET /api/jobs/$id is not valid UTF-8"
utf8_body /metrics >/dev/null || fail "GET /metrics is not valid UTF-8"
note "REST answers are valid UTF-8: $(grep -o '"data":"[^"]*"' <<<"$jobs" | head -1)"
snap=$(node "$NC_ROOT/tests/js/ws_guard.mjs" snapshot) || fail "Socket.IO snapshot: $snap"
[[ "$snap" == *caf* ]] || fail "the snapshot lacks the job: ${snap:0:200}"
note "the websocket carried the snapshot with the job"
dash_stop_master
echo "ok: a non-UTF-8 path reaches REST and the websocket as valid UTF-8"
