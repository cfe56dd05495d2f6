#!/usr/bin/env bash
# master search: bad input is exit 2 with one line each, before any work
# (no worker is up, nothing waits for one) and without writing a model:
# --cv missing or 1, an empty C list or item, a C that is not positive or
# not a number, a solver that the exact path does not train (--solvers and
# --solver), --strategy average, the search options on train.
# Then a search over REST (`"mode": "search"` to POST /api/jobs on master
# serve): it runs, its run has mode search with its C list in params and
# per-C results in metrics (what the page's run view draws), and a bad
# search over REST is a 400 with the same message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/train_lib.inc"
nc_setup
gen_svm 600 5 3 10 >d.svm

expect() {
    local pat=$1; shift
    local rc=0
    timeout 60 "$NC_BIN/master" "$@" --config config.json --no-dashboard >out.txt 2>err.txt || rc=$?
    [ "$rc" -eq 2 ] || { cat err.txt; fail "$*: exit $rc, want 2"; }
    [ "$(wc -l <err.txt)" -eq 1 ] || { cat err.txt; fail "$*: want one error line"; }
    grep -q -- "$pat" err.txt || { cat err.txt; fail "$*: message lacks '$pat'"; }
    [ -e model.txt ] && fail "$*: a model was written"
    note "$*: $(cat err.txt)"
}

expect "search needs --cv K" search --data d.svm
expect "search needs --cv K" search --data d.svm --C-list 1,2
expect "^master: --cv: '1' is not a whole number from 2 to 100$" search --data d.svm --cv 1
expect "^master: --cv: '101' is not a whole number from 2 to 100$" search --data d.svm --cv 101
expect "^master: --C-list: empty list" search --data d.svm --cv 5 --C-list ''
expect "^master: --C-list: empty item in '1,,4'$" search --data d.svm --cv 5 --C-list 1,,4
expect "^master: --C-list: C must be positive, not '0'$" search --data d.svm --cv 5 --C-list 0
expect "^master: --C-list: C must be positive, not '-3'$" search --data d.svm --cv 5 --C-list 1,-3
expect "^master: --C-list: 'x' is not a number$" search --data d.svm --cv 5 --C-list 1,x
expect "^master: --C-list: 'nan' is not a number$" search --data d.svm --cv 5 --C-list nan
expect "^master: --solvers: solver L2R_L1LOSS_SVC_DUAL (3) has no exact form" \
    search --data d.svm --cv 5 --solvers 0,3
expect "^master: --solvers: unknown solver 'L2R_XX'$" search --data d.svm --cv 5 --solvers L2R_XX
expect "^master: search: solver '6' has no exact form" search --data d.svm --cv 5 --solver 6
expect "search runs on the exact strategy" search --data d.svm --cv 5 --strategy average
expect "^master: --C-list is an option of master search$" train --data d.svm --C-list 1
expect "^master: --no-final is an option of master search$" train --data d.svm --no-final

# ---------------------------------------------------------------- REST
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
F=$T/files
mkdir -p "$F"
cp d.svm "$F/d.svm"
URL=http://127.0.0.1:$DASH_PORT
nc_master_bg serve --set "dashboard.files=$F" --set "runs.dir=$T/runs"
WAIT_S=30 wait_for curl -sf -m 2 -o /dev/null "$URL/health" || fail "dashboard not up"
nc_worker w1
post() { # prints "STATUS BODY"
    curl -s -m 10 -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "$1" "$URL/api/jobs" >"$T/code" || true
    echo "$(cat "$T/code") $(cat "$T/body")"
}
r=$(post '{"mode":"search","data":"d.svm","model":"m.txt","out":"s.csv","cv":3,"C-list":"0.1,1,10","no-final":true}')
[ "$r" = '200 {"id":1}' ] || fail "search over REST: $r"
bad=$(post '{"mode":"search","data":"d.svm","model":"m.txt","out":"s.csv","C-list":"0.1,1"}')
case "$bad" in '400 '*'search needs --cv K'*) ;; *) fail "search without cv over REST: $bad" ;; esac
bad=$(post '{"mode":"search","data":"d.svm","model":"m.txt","out":"s.csv","cv":3,"C-list":"0"}')
case "$bad" in '400 '*'C must be positive'*) ;; *) fail "C-list 0 over REST: $bad" ;; esac
job_state() { curl -s -m 5 "$URL/api/jobs/1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
is_done() { [ "$(job_state 2>/dev/null)" = done ]; }
WAIT_S=120 wait_for is_done || fail "REST search did not finish: $(curl -s "$URL/api/jobs/1" | head -c 400)"
curl -s -m 5 "$URL/api/jobs/1" >job1.json
python3 - job1.json <<'PY' || fail "REST search run: $(head -c 600 job1.json)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["mode"] == "search", d["mode"]
p, m = d["params"], d["metrics"]
assert p["mode"] == "search" and p["cv"] == 3 and p["C_list"] == [0.1, 1, 10] and p["final"] is False and "C" not in p, p
rs = m["search"]["results"]
assert [r["C"] for r in rs] == [0.1, 1, 10], rs
assert all(0 < r["cv_accuracy"] <= 1 and len(r["fold_accuracy"]) == 3 for r in rs), rs
assert m["best_C"] in (0.1, 1, 10) and m["cv_accuracy"] == max(r["cv_accuracy"] for r in rs), m
assert d["outputs"] in (None, {}) or not d["outputs"].get("model"), d["outputs"]
PY
[ -e "$F/m.txt" ] && fail "no-final search over REST wrote a model"
[ -f "$T/runs/1/metrics.json" ] || fail "no metrics.json in the REST search's run folder"
note "search over REST: run 1, mode search, 3 C values in metrics"
# a search with its final model: its summary carries the model's training accuracy
r=$(post '{"mode":"search","data":"d.svm","model":"m2.txt","out":"s2.csv","cv":3,"C-list":"1"}')
[ "$r" = '200 {"id":2}' ] || fail "search with a final model over REST: $r"
job2() { curl -s -m 5 "$URL/api/jobs/2" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["train_accuracy"] is not None)'; }
is_done2() { [ "$(job2 2>/dev/null)" = "done True" ]; }
WAIT_S=120 wait_for is_done2 || fail "search 2: $(curl -s "$URL/api/jobs/2" | head -c 400)"
[ -f "$F/m2.txt" ] || fail "the search over REST wrote no final model"
kill "$MASTER_PID"; wait "$MASTER_PID" 2>/dev/null || true

# A --keep-running search's own options (--C-list, --no-final) are not the
# REST jobs' options: a train job is accepted and runs.
nc_master_bg search --data d.svm --cv 3 --C-list 0.5,1 --no-final --keep-running \
    --set "dashboard.files=$F" --set "runs.dir=$T/runs"
WAIT_S=30 wait_for curl -sf -m 2 -o /dev/null "$URL/health" || fail "keep-running dashboard not up"
st() { curl -s -m 5 "$URL/api/jobs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
own_done() { [ "$(st 3 2>/dev/null)" = done ]; }
WAIT_S=120 wait_for own_done || fail "the keep-running search (run 3) did not finish"
r=$(post '{"mode":"train","data":"d.svm","model":"m4.txt","out":"s4.csv"}')
[ "$r" = '200 {"id":4}' ] || fail "a train job to a --keep-running search master: $r"
rest_done() { [ "$(st 4 2>/dev/null)" = done ]; }
WAIT_S=120 wait_for rest_done || fail "REST train 4: $(curl -s "$URL/api/jobs/4" | head -c 400)"
[ -f "$F/m4.txt" ] || fail "REST train 4 wrote no model"
note "a --keep-running search master takes a plain train job over REST"
exit 0
