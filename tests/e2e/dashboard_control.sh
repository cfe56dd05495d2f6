#!/usr/bin/env bash
# Issue 18: the dashboard as the control room, against a real master and
# workers (the token in force throughout):
#   1. GET /api/files lists the CSV and libsvm files under dashboard.files
#      with their header, label and id suggestions; not a symlink out, not a
#      hidden file, not the runs folder;
#   2. `master serve`: three jobs queued; the third cancelled while queued,
#      the first while it trains (workers slowed); both end "cancelled" (REST,
#      run.json, the history, `master runs`, job_done to browsers), keep no
#      outputs, and the second runs to done with train_accuracy, duration_ms
#      and a progress that never goes back; cancel answers 200, 409, 404, and
#      the POST rules (token, Content-Type, same origin);
#   3. `master submit` against it: the same accuracy line as a direct run,
#      exit 0; Ctrl-C on a submit cancels its job and exits 130;
#   4. `master train --keep-running`: its own job cancelled over REST, then a
#      submitted job; it exits 1 (its job did not succeed); `submit search`
#      prints the search's table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
need_node socket.io-client
nc_setup
TOKEN=tok-$RANDOM$RANDOM
F=$T/files
mkdir -p "$F/sub" "$F/runs/9" "$F/.hidden"
python3 - "$T/config.json" "$TOKEN" "$F" <<'PY' || fail "config"
import json, sys
c = json.load(open(sys.argv[1]))
c["dashboard"]["token"] = sys.argv[2]
c["dashboard"]["files"] = sys.argv[3]
c["runs"] = {"dir": sys.argv[3] + "/runs"}
c["model"] = {"file": sys.argv[3] + "/model.txt"}
c["output"] = {"train": sys.argv[3] + "/sub_train.csv", "test": sys.argv[3] + "/sub_test.csv"}
json.dump(c, open(sys.argv[1], "w"))
PY
dash_train_csv 4000 "$F/train.csv"
printf 'row_id,y,a\n1,0,2\n' >"$F/sub/small.csv"
printf '1 1:0.5\n' >"$F/tiny.svm"
printf 'x\n' >"$F/notes.txt"
printf 'id,label\n1,1\n' >"$F/runs/9/inside-runs.csv"
printf 'id,label\n1,1\n' >"$F/.hidden/h.csv"
printf 'a,b\n1,2\n' >"$T/outside.csv"
ln -s "$T/outside.csv" "$F/leak.csv"
B=http://127.0.0.1:$DASH_PORT
AUTH=(-H "Authorization: Bearer $TOKEN")
JSON=(-H "Content-Type: application/json")
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

nc_master_bg serve
dash_wait_up

# 1. the files
[ "$(code "$B/api/files")" = 401 ] || fail "GET /api/files without the token is not 401"
curl -s "${AUTH[@]}" "$B/api/files" >"$T/files.json" || fail "GET /api/files"
paths=$(jget '" ".join(f["path"] for f in d)' <"$T/files.json")
[ "$paths" = "sub/small.csv tiny.svm train.csv" ] || fail "/api/files lists '$paths'"
[ "$(jget '[f for f in d if f["path"]=="train.csv"][0]["columns"][:3]' <"$T/files.json")" = "['id', 'label', 'f1']" ] ||
    fail "train.csv columns: $(cat "$T/files.json")"
[ "$(jget '[(f["label_suggest"], f["id_suggest"], f["format"]) for f in d]' <"$T/files.json")" = \
  "[('y', 'row_id', 'csv'), (None, None, 'libsvm'), ('label', 'id', 'csv')]" ] ||
    fail "suggestions: $(cat "$T/files.json")"

# 2. a queue, two cancels
NC_TEST_TRON_DELAY_MS=300 nc_worker w1
NC_TEST_TRON_DELAY_MS=300 nc_worker w2
for i in 1 2 3; do
    id=$(curl -s "${AUTH[@]}" "${JSON[@]}" -d "{\"mode\":\"train\",\"data\":\"train.csv\",\"scale\":\"none\",\"model\":\"m$i.txt\",\"out\":\"s$i.csv\"}" "$B/api/jobs" | jget 'd["id"]')
    [ "$id" = "$i" ] || fail "job $i got id '$id'"
done
DASH_PORT=$DASH_PORT TOKEN=$TOKEN node "$NC_ROOT/tests/js/control_sio.mjs" 1:cancelled,2:done,3:cancelled >"$T/sio.out" 2>&1 &
SIO=$!
NC_PIDS+=($SIO)
wait_for log_has "$T/sio.out" connected || fail "the Socket.IO client did not connect"
iterating() { curl -s "${AUTH[@]}" "$B/api/jobs/1" | jget '(d.get("progress") or {}).get("unit")' | grep -q iterations; }
WAIT_S=60 wait_for iterating || fail "job 1 never reported Newton iterations"
both_busy() { [ "$(curl -s "${AUTH[@]}" "$B/api/workers" | jget 'sorted(w["state"] for w in d)')" = "['busy', 'busy']" ]; }
WAIT_S=10 wait_for both_busy || fail "workers computing job 1 are not both busy: $(curl -s "${AUTH[@]}" "$B/api/workers")"
[ "$(code -X POST "${JSON[@]}" "$B/api/jobs/3/cancel")" = 401 ] || fail "cancel without the token"
[ "$(code -X POST "${AUTH[@]}" "$B/api/jobs/3/cancel")" = 415 ] || fail "cancel without Content-Type"
[ "$(code -X POST "${AUTH[@]}" "${JSON[@]}" -H "Origin: http://evil.example" "$B/api/jobs/3/cancel")" = 403 ] ||
    fail "a cross-origin cancel"
[ "$(code "${AUTH[@]}" "$B/api/jobs/3/cancel")" = 405 ] || fail "GET cancel"
out=$(curl -s "${AUTH[@]}" "${JSON[@]}" -X POST "$B/api/jobs/3/cancel")
[ "$out" = '{"id":3,"state":"cancelled"}' ] || fail "cancel of queued job 3: $out"
out=$(curl -s "${AUTH[@]}" "${JSON[@]}" -X POST -d '{}' "$B/api/jobs/1/cancel")
[ "$out" = '{"id":1,"state":"cancelled"}' ] || fail "cancel of running job 1: $out"
ended() { curl -s "${AUTH[@]}" "$B/api/jobs/$1" | jget 'd.get("state")' | grep -qx "$2"; }
wait_for ended 1 cancelled || fail "job 1 did not end cancelled"
[ "$(code -X POST "${AUTH[@]}" "${JSON[@]}" "$B/api/jobs/1/cancel")" = 409 ] || fail "a second cancel is not 409"
[ "$(code -X POST "${AUTH[@]}" "${JSON[@]}" "$B/api/jobs/99/cancel")" = 404 ] || fail "cancel of an unknown job is not 404"
WAIT_S=120 wait_for ended 2 done || fail "job 2 did not run to done after the cancel"
wait "$SIO" || { cat "$T/sio.out"; fail "what browsers heard"; }
cat "$T/sio.out" >&2
curl -s "${AUTH[@]}" "$B/api/jobs" >"$T/jobs.json"
[ "$(jget '[(j["id"], j["state"]) for j in d]' <"$T/jobs.json")" = "[(3, 'cancelled'), (2, 'done'), (1, 'cancelled')]" ] ||
    fail "/api/jobs: $(cat "$T/jobs.json")"
[ "$(jget '[(j["train_accuracy"] is not None, j["test_accuracy"], type(j["duration_ms"]).__name__, j["eta_s"]) for j in d if j["id"]==2]' <"$T/jobs.json")" = \
  "[(True, None, 'int', None)]" ] || fail "job 2's summary: $(cat "$T/jobs.json")"
for i in 1 3; do
    [ "$(jget 'd["state"], d["status"]' <"$F/runs/$i/run.json")" = "('cancelled', 125)" ] || fail "run $i's run.json: $(cat "$F/runs/$i/run.json")"
    [ -e "$F/m$i.txt" ] && fail "cancelled job $i committed its model"
    [ -e "$F/runs/$i/model.txt" ] && fail "cancelled run $i kept a model"
done
[ -s "$F/m2.txt" ] && [ -s "$F/runs/2/model.txt" ] || fail "job 2 wrote no model"
"$NC_BIN/master" runs --config "$T/config.json" >"$T/runs.out" || fail "master runs"
grep -Eq '^1 +train +cancelled' "$T/runs.out" && grep -Eq '^3 +train +cancelled' "$T/runs.out" ||
    { cat "$T/runs.out"; fail "master runs does not show the cancelled runs"; }

# 3. master submit: a run of its own, then one stopped by Ctrl-C
"$NC_BIN/master" submit train --config "$T/config.json" --data "$F/train.csv" --scale none -q >"$T/submit.out" 2>"$T/submit.err" ||
    { cat "$T/submit.err"; fail "master submit train failed"; }
grep -Eq '^Training accuracy = [0-9.]+% \(4000 rows\)$' "$T/submit.out" || fail "submit's report: $(cat "$T/submit.out")"
"$NC_BIN/master" submit test --config "$T/config.json" --data "$F/train.csv" -q >"$T/submit.out" 2>"$T/submit.err" ||
    { cat "$T/submit.err"; fail "master submit test failed"; }
grep -Eq '^Accuracy = [0-9.]+% \([0-9]+/4000\)$' "$T/submit.out" || fail "submit test's report: $(cat "$T/submit.out")"
# a job that fails: the exit status and the error line of a direct run
rc=0; "$NC_BIN/master" submit train --config "$T/config.json" --data "$F/train.csv" --label nosuch -q \
    2>"$T/submit.err" || rc=$?
[ "$rc" = 3 ] || fail "submit of a job with a wrong label exited $rc, want 3"
grep -q 'train.csv:1: no label column "nosuch"' "$T/submit.err" || fail "submit's error: $(cat "$T/submit.err")"
"$NC_BIN/master" submit train --config "$T/config.json" --data "$T/outside.csv" 2>"$T/submit.err" && fail "submit of a file outside dashboard.files"
grep -q 'not inside dashboard.files' "$T/submit.err" || fail "submit outside: $(cat "$T/submit.err")"
"$NC_BIN/master" submit train --config "$T/config.json" --data "$F/train.csv" --scale none --model "$F/m7.txt" >"$T/submit.out" 2>"$T/submit.err" &
SUB=$!
iter_submit() { curl -s "${AUTH[@]}" "$B/api/jobs/7" | jget '(d.get("progress") or {}).get("unit")' | grep -q iterations; }
WAIT_S=60 wait_for iter_submit || fail "submitted job 7 never trained"
kill -INT "$SUB"
rc=0; wait "$SUB" || rc=$?
[ "$rc" = 130 ] || fail "submit after Ctrl-C exited $rc, want 130"
wait_for ended 7 cancelled || fail "Ctrl-C on submit did not cancel run 7"
[ -e "$F/m7.txt" ] && fail "the cancelled submit committed its model"
dash_stop_master

# 4. --keep-running: its own job can be cancelled from the page, and it takes
# jobs after it; it exits with its own job's status (1: cancelled)
nc_master_bg train --data "$F/train.csv" --scale none --model "$F/m8.txt" --keep-running
dash_wait_up
iter8() { curl -s "${AUTH[@]}" "$B/api/jobs/8" | jget '(d.get("progress") or {}).get("unit")' | grep -q iterations; }
WAIT_S=60 wait_for iter8 || fail "the keep-running job (run 8) never trained"
out=$(curl -s "${AUTH[@]}" "${JSON[@]}" -X POST "$B/api/jobs/8/cancel")
[ "$out" = '{"id":8,"state":"cancelled"}' ] || fail "cancel of the keep-running job: $out"
wait_for ended 8 cancelled || fail "the keep-running job did not end cancelled"
[ -e "$F/m8.txt" ] && fail "the cancelled keep-running job committed its model"
"$NC_BIN/master" submit test --config "$T/config.json" --data "$F/train.csv" -q >"$T/submit.out" 2>"$T/submit.err" ||
    { cat "$T/submit.err"; fail "submit to a --keep-running master"; }
grep -q '^Accuracy = ' "$T/submit.out" || fail "no accuracy from the keep-running master's job"
# a search submitted: the table of the direct command, the best marked, no model
"$NC_BIN/master" submit search --config "$T/config.json" --data "$F/train.csv" --scale none \
    --cv 3 --C-list 0.5,2 --no-final >"$T/submit.out" 2>"$T/submit.err" ||
    { cat "$T/submit.err"; fail "submit search to a --keep-running master"; }
[ "$(grep -cE '^[ *] L2R_LR +(0\.5|2) +[0-9.]+% ' "$T/submit.out")" = 2 ] || fail "submit search's table: $(cat "$T/submit.out")"
[ "$(grep -c '^\* ' "$T/submit.out")" = 1 ] || fail "submit search marks one best: $(cat "$T/submit.out")"
grep -qE '^Best C = (0\.5|2)  solver L2R_LR  Cross Validation Accuracy = [0-9.]+% \(3 folds\)$' "$T/submit.out" ||
    fail "submit search's best line: $(cat "$T/submit.out")"
kill -TERM "$MASTER_PID"
rc=0; wait "$MASTER_PID" || rc=$?
[ "$rc" = 1 ] || { tail -20 "$T/master.log"; fail "the keep-running master whose job was cancelled exited $rc, want 1"; }
grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$T/master.log" && fail "sanitizer report"
echo "ok: files, queue, cancel (queued and running), submit, keep-running"
