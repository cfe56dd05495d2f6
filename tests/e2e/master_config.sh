#!/usr/bin/env bash
# Config mistakes are bad usage (exit 2) with one line that says what is
# wrong, found before any socket binds: text after the JSON object, two
# services on one port, a malformed or foreign master.ip. "solver": 2 in the
# file is accepted as --set model.solver=2 is.
. "$(dirname "$0")/lib.sh"
nc_setup
printf 'id,label,a\n1,0,1\n2,1,2\n' >d.csv

# expect_usage FILE_CONTENT PATTERN [master args]
expect_usage() {
    local text=$1 want=$2; shift 2
    printf '%s' "$text" >bad.json
    timeout 20 "$NC_BIN/master" train --data d.csv --no-dashboard --config bad.json "$@" \
        >/dev/null 2>err.txt
    local rc=$?
    [ $rc -eq 2 ] || { cat err.txt; fail "exit $rc, expected 2, for: $text $*"; }
    grep -q -- "$want" err.txt || { cat err.txt; fail "no '$want' for: $text $*"; }
    [ "$(grep -vc ' warn: ' err.txt)" -eq 1 ] || { cat err.txt; fail "more than one line: $text"; }
    grep -q "another master" err.txt && fail "misleading hint for: $text"
    note "$(cat err.txt)"
}

p=$(free_port)
expect_usage '{"model": {"C": 1}} {"model": {"C": 2}}' "^master: bad.json:1:21: unexpected text after the JSON object$"
expect_usage '{"model": {"C": 1}}
garbage' "^master: bad.json:2:1: unexpected text after the JSON object$"
expect_usage "{\"master\": {\"task_port\": $p, \"result_port\": $p}}" \
    "^master: master.task_port and master.result_port are both $p: each needs a port of its own$"
expect_usage "{\"master\": {\"task_port\": $p}, \"dashboard\": {\"port\": \"$p\"}}" \
    "^master: master.task_port and dashboard.port are both $p"
expect_usage '{"master": {"ip": "999.0.0.1"}}' "^master: master.ip: '999.0.0.1' is not an IP address"
expect_usage '{}' "^master: master.ip: '192.0.2.1' is not an address of this machine" --set master.ip=192.0.2.1

# "solver": 2 works from the file (the job then fails on data, not on usage).
cp config.json good.json
sed -i 's/"model": {/"model": {"solver": 2, /' good.json
"$NC_BIN/master" train --data missing.csv --no-dashboard --config good.json 2>err.txt
rc=$?
[ $rc -eq 3 ] || { cat err.txt; fail "\"solver\": 2 in the file: exit $rc"; }
grep -q "missing.csv" err.txt || { cat err.txt; fail "solver 2 job did not get to the data"; }
echo ok
