#!/usr/bin/env bash
# Issue 12 (web half) and 13 (stuck states): the dashboard and REST API of a
# real `master serve` let no stranger and no web page read, write or run
# anything (curl and node's ws; tests/e2e/web_security_browser.sh has the
# Chromium half):
#   1. files root: absolute paths, "..", a symlink out, a FIFO, a folder, an
#      output outside -> 403 with a one-line reason, no file contents echoed,
#      the target untouched; a job failing on a file's contents shows no
#      contents either;
#   2. same origin: Origin evil on POST and on the websocket upgrade -> 403,
#      a foreign Host -> 403 on every route, text/plain and form POSTs -> 415;
#   3. token: with dashboard.token every endpoint but /health and the page
#      needs it (REST, /metrics, the Socket.IO CONNECT: 44 and close);
#   4. dashboard.host 0.0.0.0 with no token prints a URL with a generated
#      token, which works (only 127.0.0.1 is ever connected to);
#   5. a job that fails before it starts ends "failed" with a reason, and so
#      does one left running by a master killed with -9 (at the next start).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
need_node ws
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
nc_setup
F=$T/files
mkdir -p "$F/sub" "$T/outside"
dash_train_csv 300 "$F/train.csv"
echo "SECRET-HEADER-4242,more" >"$T/outside/secret.csv"
echo "SECRET-1,SECRET-2" >>"$T/outside/secret.csv"
echo "precious" >"$T/outside/victim.txt"
ln -s "$T/outside/secret.csv" "$F/leak.csv"
ln -s "$T/outside" "$F/up"
mkfifo "$F/fifo.csv"
: >"$F/empty.csv"
printf 'SECRETCOL_A,SECRETCOL_B\n1,2\n3,4\n' >"$F/nolabel.csv"

URL=http://127.0.0.1:$DASH_PORT
# req METHOD PATH [curl args...]: prints "STATUS BODY"
req() {
    local m=$1 p=$2; shift 2
    curl -s -m 10 -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$URL$p" >"$T/code" || true
    echo "$(cat "$T/code") $(cat "$T/body" 2>/dev/null)"
}
JSON=(-H 'Content-Type: application/json')
expect() { # expect WANT_STATUS "RESPONSE" what
    [ "${2%% *}" = "$1" ] || fail "$3: want $1, got: $2"
    case "$2" in *SECRET*|*precious*) fail "$3: file contents echoed: $2" ;; esac
    note "$3 -> $1"
}

# ---------------------------------------------------------------- 1, 2, 5: loopback, no token
nc_master_bg serve --set "dashboard.files=$F"
dash_wait_up
nc_worker w1

job() { req POST /api/jobs "${JSON[@]}" -d "$1"; }
expect 403 "$(job "{\"mode\":\"train\",\"data\":\"$T/outside/secret.csv\",\"model\":\"m.txt\",\"out\":\"o.csv\"}")" "absolute data path"
expect 403 "$(job '{"mode":"train","data":"../outside/secret.csv","model":"m.txt","out":"o.csv"}')" "data with .."
expect 403 "$(job '{"mode":"train","data":"sub/../../outside/secret.csv","model":"m.txt","out":"o.csv"}')" "data with sub/../.."
expect 403 "$(job '{"mode":"train","data":"leak.csv","model":"m.txt","out":"o.csv"}')" "symlink out of the root"
expect 403 "$(job '{"mode":"train","data":"up/secret.csv","model":"m.txt","out":"o.csv"}')" "folder symlink out of the root"
expect 403 "$(job '{"mode":"train","data":"fifo.csv","model":"m.txt","out":"o.csv"}')" "FIFO as data"
expect 403 "$(job '{"mode":"train","data":".","model":"m.txt","out":"o.csv"}')" "the root folder as data"
expect 403 "$(job "{\"mode\":\"train\",\"data\":\"train.csv\",\"model\":\"m.txt\",\"out\":\"$T/outside/victim.txt\"}")" "absolute output path"
expect 403 "$(job '{"mode":"train","data":"train.csv","model":"up/victim.txt","out":"o.csv"}')" "model through a symlink out"
expect 403 "$(job '{"mode":"train","data":"train.csv","model":"m.txt","out":"../outside/victim.txt"}')" "output with .."
expect 403 "$(job '{"mode":"train","data":"train.csv"}')" "defaults outside the files root (config's model.file)"
# inside the root, but an output that is the job's input: refused at once, input intact
sum=$(md5sum <"$F/train.csv")
r=$(job '{"mode":"train","data":"train.csv","model":"m.txt","out":"train.csv"}')
expect 400 "$r" "output that is the data file"
case "$r" in *"same file"*) ;; *) fail "the refusal does not say why: $r" ;; esac
[ "$(md5sum <"$F/train.csv")" = "$sum" ] || fail "the data file changed"
[ "$(cat "$T/outside/victim.txt")" = precious ] || fail "the victim file changed"
grep -q "SECRET" "$T/master.log" && fail "the master read the secret file"

# same origin, Host, content type
GOOD='{"mode":"train","data":"train.csv","model":"m.txt","out":"o.csv","scale":"none"}'
expect 403 "$(req POST /api/jobs "${JSON[@]}" -H 'Origin: http://evil.example' -d "$GOOD")" "POST with Origin evil"
expect 403 "$(req POST /api/jobs "${JSON[@]}" -H 'Origin: null' -d "$GOOD")" "POST with Origin null"
expect 415 "$(req POST /api/jobs -H 'Content-Type: text/plain' -d "$GOOD")" "text/plain POST"
expect 415 "$(req POST /api/jobs -H 'Content-Type: application/x-www-form-urlencoded' --data-urlencode "x=$GOOD")" "form POST"
for p in / /health /api/jobs /metrics; do
    expect 403 "$(req GET $p -H "Host: evil.example:$DASH_PORT")" "GET $p with a foreign Host"
done
expect 403 "$(req POST /api/jobs "${JSON[@]}" -H "Host: evil.example:$DASH_PORT" -d "$GOOD")" "POST with a foreign Host"
[ "$(req GET /api/jobs)" = "200 []" ] || fail "a refused request made a job: $(req GET /api/jobs)"
export DASH_PORT
out=$(node "$NC_ROOT/tests/js/ws_guard.mjs" origin http://evil.example)
[[ "$out" == "refused 403" ]] || fail "websocket with Origin evil: $out"
note "websocket upgrade with Origin evil -> 403"
out=$(node "$NC_ROOT/tests/js/ws_guard.mjs" origin "http://127.0.0.1:$DASH_PORT")
[ "$out" = open ] || fail "websocket from the dashboard's own origin: $out"
out=$(node "$NC_ROOT/tests/js/ws_guard.mjs" connect)
[[ "$out" == connected\ 40* ]] || fail "Socket.IO connect without a token in force: $out"

# the same-origin, JSON, in-root job runs; one failing before it starts and
# one failing on a file's contents end "failed" with a reason, no contents
r=$(job "$GOOD"); expect 200 "$r" "same-origin JSON job inside the root"
r=$(job '{"mode":"train","data":"empty.csv","model":"m2.txt","out":"o2.csv"}'); expect 200 "$r" "job on an empty file (fails before it starts)"
empty_id=$(sed 's/.*"id":\([0-9]*\).*/\1/' <<<"$r")
r=$(job '{"mode":"train","data":"nolabel.csv","model":"m3.txt","out":"o3.csv"}'); expect 200 "$r" "job on a file without the label column"
nolabel_id=$(sed 's/.*"id":\([0-9]*\).*/\1/' <<<"$r")
state_of() { req GET "/api/jobs/$1" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
ended() { local s; s=$(state_of "$1"); [ "$s" = failed ] || [ "$s" = done ]; }
WAIT_S=90 wait_for ended "$empty_id" || fail "job $empty_id on an empty file stays $(state_of "$empty_id")"
WAIT_S=90 wait_for ended "$nolabel_id" || fail "job $nolabel_id stays $(state_of "$nolabel_id")"
# a test job whose file lacks the model's columns (issue 13: stayed "queued")
good_id=$(req GET /api/jobs | grep -o '"id":[0-9]*' | tail -1 | cut -d: -f2)
done_() { [ "$(state_of "$good_id")" = done ]; }
WAIT_S=90 wait_for done_ || fail "job $good_id: $(state_of "$good_id"), want done"
r=$(job '{"mode":"test","data":"nolabel.csv","model":"m.txt","out":"p.csv"}'); expect 200 "$r" "test job on a file without the model's columns"
nocol_id=$(sed 's/.*"id":\([0-9]*\).*/\1/' <<<"$r")
WAIT_S=90 wait_for ended "$nocol_id" || fail "test job $nocol_id stays $(state_of "$nocol_id")"
for id in "$empty_id" "$nolabel_id" "$nocol_id"; do
    r=$(req GET /api/jobs)
    [ "$(state_of "$id")" = failed ] || fail "job $id: $(state_of "$id"), want failed"
    err=$(req GET "/api/jobs/$id" | sed -n 's/.*"error":"\([^"]*\)".*/\1/p')
    [ -n "$err" ] || fail "job $id failed with no reason"
    case "$r $(req GET "/api/jobs/$id")" in *SECRETCOL*) fail "job $id: file contents in the API" ;; esac
    note "job $id: failed: $err"
done
grep -q "SECRETCOL_A" "$T/master.log" || note "(the master's log has no column list: nothing to hide?)"
dash_stop_master

# ---------------------------------------------------------------- 3: a token in force
TOKEN=tok-$RANDOM$RANDOM-web
nc_master_bg serve --set "dashboard.files=$F" --set "dashboard.token=$TOKEN"
dash_wait_up
expect 200 "$(req GET /health)" "/health without the token"
expect 200 "$(req GET /)" "the page without the token"
for p in /api/jobs /api/workers /api/jobs/1 "/api/history?metric=cpu" /metrics /api/nope; do
    expect 401 "$(req GET "$p")" "GET $p without the token"
    expect 401 "$(req GET "$p" -H "Authorization: Bearer ${TOKEN}x")" "GET $p with a wrong token"
done
expect 401 "$(req POST /api/jobs "${JSON[@]}" -d "$GOOD")" "POST without the token"
for p in /api/jobs /api/workers "/api/history?metric=cpu" /metrics; do
    expect 200 "$(req GET "$p" -H "Authorization: Bearer $TOKEN")" "GET $p with the token"
done
out=$(node "$NC_ROOT/tests/js/ws_guard.mjs" connect)
[[ "$out" == 44* && "$out" == *closed ]] || fail "Socket.IO CONNECT without the token: $out"
note "Socket.IO CONNECT without the token -> $out"
out=$(node "$NC_ROOT/tests/js/ws_guard.mjs" connect wrong)
[[ "$out" == 44* && "$out" == *closed ]] || fail "Socket.IO CONNECT with a wrong token: $out"
out=$(node "$NC_ROOT/tests/js/ws_guard.mjs" connect "$TOKEN")
[[ "$out" == connected\ 40* ]] || fail "Socket.IO CONNECT with the token: $out"
note "Socket.IO CONNECT with the token -> connected"
out=$(node "$NC_ROOT/tests/js/ws_guard.mjs" connect-header "$TOKEN")
[[ "$out" == connected\ 40* ]] || fail "Socket.IO CONNECT after an upgrade with a bearer header: $out"
out=$(node "$NC_ROOT/tests/js/ws_guard.mjs" connect-header "${TOKEN}x")
[[ "$out" == 44* && "$out" == *closed ]] || fail "Socket.IO CONNECT after an upgrade with a wrong bearer header: $out"
note "bearer header on the upgrade: right token connects, wrong one is refused"
dash_stop_master

# ---------------------------------------------------------------- 4: 0.0.0.0 and no token
nc_master_bg serve --set "dashboard.files=$F" --set dashboard.host=0.0.0.0
dash_wait_up
WAIT_S=10 wait_for log_has "$T/master.out" "?token=" || fail "no URL with a token printed: $(cat "$T/master.out")"
line=$(grep -m1 "?token=" "$T/master.out")
GEN=$(sed -n 's/.*?token=\([0-9a-f]*\).*/\1/p' <<<"$line")
[ ${#GEN} -ge 32 ] || fail "generated token too short: $line"
grep -q "$GEN" "$T/master.log" && fail "the token went to the log file"
[[ "$line" == *":$DASH_PORT/?token=$GEN"* ]] || fail "URL printed: $line"
note "printed: ${line/$GEN/<token>}"
expect 401 "$(req GET /api/jobs)" "0.0.0.0: GET /api/jobs without the generated token"
expect 401 "$(req POST /api/jobs "${JSON[@]}" -d "$GOOD")" "0.0.0.0: POST without the generated token"
expect 200 "$(req GET /api/jobs -H "Authorization: Bearer $GEN")" "0.0.0.0: with the generated token"
r=$(req POST /api/jobs "${JSON[@]}" -H "Authorization: Bearer $GEN" -d "$GOOD")
expect 200 "$r" "0.0.0.0: POST with the generated token"
dash_stop_master
# ---------------------------------------------------------------- 5b: a master killed mid-job
# (its worker stopped so that the job cannot end first); the next master's
# dashboard ends the job "failed" instead of showing it running for ever
dash_train_csv 4000 "$F/big.csv"
nc_master_bg serve --set "dashboard.files=$F"
dash_wait_up
nc_worker w2
w2_joined() { [[ "$(req GET /api/workers)" == *'"w2"'* ]]; }
WAIT_S=30 wait_for w2_joined || fail "worker w2 did not join"
r=$(job '{"mode":"train","data":"big.csv","model":"mb.txt","out":"ob.csv"}'); expect 200 "$r" "a job to interrupt"
qid=$(sed 's/.*"id":\([0-9]*\).*/\1/' <<<"$r")
running() { [ "$(state_of "$qid")" = running ]; }
WAIT_S=30 wait_for running || fail "job $qid never ran ($(state_of "$qid"))"
kill -STOP "${WORKER_PID[w2]}"
sleep 1 # the history writer commits every 500 ms
kill -9 "$MASTER_PID"; wait "$MASTER_PID" 2>/dev/null
kill -CONT "${WORKER_PID[w2]}"
nc_master_bg serve --set "dashboard.files=$F"
dash_wait_up
[ "$(state_of "$qid")" = failed ] || fail "job $qid of a killed master stays $(state_of "$qid")"
note "job $qid of a killed master: failed: $(req GET "/api/jobs/$qid" | sed -n 's/.*"error":"\([^"]*\)".*/\1/p')"
dash_stop_master
echo "ok: files root, same origin, Host, content type, token, generated token, failed-before-start, interrupted"
