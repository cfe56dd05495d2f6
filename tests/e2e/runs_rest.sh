#!/usr/bin/env bash
# Issue 17, runs over REST, on a real `master serve` with a token in force:
#   - jobs submitted over REST are runs 1, 2 (the id POST answers), queued
#     then done; GET /api/jobs/ID has their params;
#   - GET /api/jobs/ID/files/NAME serves the run's files (the model equals
#     the folder's), and only them: without or with a wrong token 401, from
#     another origin or Host 403, any other name, "..", an absolute path 404,
#     a file or run folder that is a symbolic link (out of the folder) 403,
#     a missing file or run 404 — never the contents of anything else;
#   - GET /api/jobs?compare=1,2 gives both runs' params and metrics side by
#     side; bad lists are 400, an unknown run 404.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
need_node
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
nc_setup
F=$T/files
mkdir -p "$F" "$T/outside"
dash_train_csv 400 "$F/train.csv"
dash_train_csv 200 "$F/test.csv"
echo "SECRET-OUTSIDE-777" >"$T/outside/secret.txt"
TOKEN=tok-$RANDOM$RANDOM-runs
URL=http://127.0.0.1:$DASH_PORT
AUTH=(-H "Authorization: Bearer $TOKEN")
req() { # req PATH [curl args...]: prints "STATUS BODY"
    local p=$1; shift
    curl -s -m 10 --path-as-is -o "$T/body" -w '%{http_code}' "$@" "$URL$p" >"$T/code" || true
    echo "$(cat "$T/code") $(cat "$T/body" 2>/dev/null)"
}
expect() { # expect WANT "RESPONSE" what
    [ "${2%% *}" = "$1" ] || fail "$3: want $1, got: ${2:0:300}"
    case "$2" in *SECRET*) fail "$3: another file's contents served" ;; esac
    note "$3 -> $1"
}

nc_master_bg serve --set "dashboard.files=$F" --set "dashboard.token=$TOKEN" \
    --set "runs.dir=$T/runs"
dash_wait_up
nc_worker w1
post() {
    curl -s -m 10 "${AUTH[@]}" -H 'Content-Type: application/json' -d "$1" "$URL/api/jobs"
}
state_of() { # the run's own state (the first "state" of its summary)
    req "/api/jobs/$1" "${AUTH[@]}" | python3 -c "import json,sys; print(json.loads(sys.stdin.read().split(' ', 1)[1]).get('state'))" 2>/dev/null
}
is_done() { [ "$(state_of "$1")" = done ]; }
done_or_fail() { WAIT_S=120 wait_for is_done "$1" || fail "run $1 did not finish: $(req "/api/jobs/$1" "${AUTH[@]}" | head -c 300)"; }
r1=$(post '{"mode":"train","data":"train.csv","model":"m.txt","out":"s.csv","C":4}')
[ "$r1" = '{"id":1}' ] || fail "run id from POST: $r1"
done_or_fail 1
r2=$(post '{"mode":"test","data":"test.csv","model":"m.txt","out":"p.csv"}')
[ "$r2" = '{"id":2}' ] || fail "run id from POST: $r2"
done_or_fail 2
j=$(req /api/jobs/1 "${AUTH[@]}")
python3 -c "import json,sys; d=json.loads(sys.argv[1].split(' ',1)[1]); p=d['params']; \
assert (p['mode'], p['C']) == ('train', 4.0), p" "$j" || fail "run 1 params: $j"
note "runs 1, 2 over REST with their params"

# ---------------------------------------------------------------- files
curl -s -m 10 "${AUTH[@]}" -o got-model.txt "$URL/api/jobs/1/files/model.txt"
cmp -s got-model.txt "$T/runs/1/model.txt" || fail "the served model is not run 1's"
cmp -s got-model.txt "$F/m.txt" || fail "run 1's model is not the model written"
expect 200 "$(req /api/jobs/2/files/submission.csv "${AUTH[@]}")" "run 2's submission"
cmp -s "$T/body" "$F/p.csv" || fail "the served submission is not run 2's"
expect 200 "$(req /api/jobs/2/files/metrics.json "${AUTH[@]}")" "run 2's metrics.json"
expect 401 "$(req /api/jobs/1/files/model.txt)" "no token"
expect 401 "$(req /api/jobs/1/files/model.txt -H "Authorization: Bearer ${TOKEN}x")" "wrong token"
expect 403 "$(req /api/jobs/1/files/model.txt "${AUTH[@]}" -H 'Origin: http://evil.example')" "other origin"
expect 403 "$(req /api/jobs/1/files/model.txt "${AUTH[@]}" -H 'Host: evil.example')" "foreign Host"
expect 200 "$(req /api/jobs/1/files/model.txt "${AUTH[@]}" -H "Origin: http://127.0.0.1:$DASH_PORT")" "same origin"
for p in ../../outside/secret.txt ..%2F..%2Foutside%2Fsecret.txt "$T/outside/secret.txt" \
    secret.txt m.txt .model.txt.tmp "model.txt/.." ""; do
    expect 404 "$(req "/api/jobs/1/files/$p" "${AUTH[@]}")" "name '$p'"
done
expect 404 "$(req /api/jobs/1/../../etc/passwd "${AUTH[@]}")" "/api/jobs/1/../../etc/passwd"
expect 404 "$(req /api/jobs/2/files/model.txt "${AUTH[@]}")" "a file the run does not have"
expect 404 "$(req /api/jobs/99/files/model.txt "${AUTH[@]}")" "a run that does not exist"
# symbolic links out of the folder: a run file, and a whole run folder
ln -s "$T/outside/secret.txt" "$T/runs/2/export.svm"
expect 403 "$(req /api/jobs/2/files/export.svm "${AUTH[@]}")" "a run file that is a symlink out"
mkdir "$T/outside/7" && cp "$T/outside/secret.txt" "$T/outside/7/model.txt"
ln -s "$T/outside/7" "$T/runs/7"
expect 403 "$(req /api/jobs/7/files/model.txt "${AUTH[@]}")" "a run folder that is a symlink out"

# ---------------------------------------------------------------- compare
c=$(req "/api/jobs?compare=1,2" "${AUTH[@]}")
expect 200 "$c" "compare=1,2"
python3 -c "
import json, sys
d = json.loads(sys.argv[1].split(' ', 1)[1])
assert d['ids'] == [1, 2], d['ids']
assert [r['id'] for r in d['runs']] == [1, 2]
assert d['params']['mode'] == ['train', 'test'], d['params']['mode']
assert d['params']['C'] == [4.0, None], d['params']['C']
acc = d['metrics']['accuracy']
assert len(acc) == 2 and all(0 < a <= 1 for a in acc), acc
assert d['metrics']['macro_f1'][1] > 0  # the test run's (a training run may have one too)
" "$c" || fail "compare answer: ${c:0:400}"
expect 401 "$(req "/api/jobs?compare=1,2")" "compare without the token"
expect 400 "$(req "/api/jobs?compare=1,x" "${AUTH[@]}")" "compare=1,x"
expect 400 "$(req "/api/jobs?compare=" "${AUTH[@]}")" "compare="
expect 404 "$(req "/api/jobs?compare=1,42" "${AUTH[@]}")" "compare with an unknown run"
dash_stop_master
echo "ok: REST runs, files, compare"
