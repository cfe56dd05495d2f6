#!/usr/bin/env bash
# Issue 7: with security.curve true only listed workers get work.
# `master keygen` makes keys for the master and workers A and B (.key 0600);
# authorized_keys lists A only. B (unknown key) and a plaintext worker start
# first and get nothing: the master logs B's refusal with its address and
# key, neither ever joins, and the job runs on A alone, every task once. The
# master keeps running after the refusals.
. "$(dirname "$0")/lib.sh"
nc_setup
K=$T/keys
mkdir -p "$K" && cd "$K" || fail "no key dir"
for n in master a b; do
    "$NC_BIN/master" keygen $n >/dev/null || fail "keygen $n failed"
done
"$NC_BIN/master" keygen a 2>/dev/null && fail "keygen overwrote an existing key pair"
cd "$T" || fail "cd"
for n in master a b; do
    [ "$(stat -c %a "$K/$n.key")" = 600 ] || fail "$n.key has mode $(stat -c %a "$K/$n.key"), want 600"
    [ "$(wc -l <"$K/$n.pub")" -eq 1 ] && [ "$(tr -d '\n' <"$K/$n.pub" | wc -c)" -eq 40 ] ||
        fail "$n.pub is not one Z85 key line"
done
{ echo "# lab workers"; cat "$K/a.pub"; } >"$K/authorized_keys"
python3 - "$T/config.json" "$K" <<'PY' || fail "cannot write the CURVE config"
import json, sys
path, k = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["security"] = {"curve": True, "secret_key_file": k + "/master.key",
                 "master_public_key": k + "/master.pub", "authorized_keys": k + "/authorized_keys"}
json.dump(c, open(path, "w"))
PY
N=300
nc_master_bg bench-dispatch --tasks $N --task-ms 5 --min-workers 1 --out-ids "$T/ids" --keep-running
WAIT_S=10 wait_for log_has "$T/master.log" "CURVE on" || { cat "$T/master.log"; fail "master did not turn CURVE on"; }
nc_worker b --slots 1 --set security.secret_key_file="$K/b.key"
nc_worker plain --slots 1 --set security.curve=false
sleep 3
b_pub=$(cat "$K/b.pub")
grep "refused connection from 127.0.0.1" "$T/master.log" | grep -qF "$b_pub" ||
    { cat "$T/master.log"; fail "no refusal of B logged with its address and key"; }
grep -q "joined" "$T/master.log" && fail "a refused worker joined: $(grep joined "$T/master.log")"
kill -0 "${WORKER_PID[b]}" 2>/dev/null || fail "worker B exited (it should keep trying, harmlessly)"

nc_worker a --slots 2 --set security.secret_key_file="$K/a.key"
WAIT_S=60 wait_for bash -c "[ \$(cat '$T/ids' 2>/dev/null | wc -l) -ge $N ]" ||
    { tail -20 "$T/master.log"; fail "the job did not finish on A"; }
[ "$(wc -l <"$T/ids")" -eq $N ] && [ "$(sort -u "$T/ids" | wc -l)" -eq $N ] ||
    fail "not every task exactly once"
joined=$(grep -c " joined" "$T/master.log")
[ "$joined" -eq 1 ] && grep -q "worker a .*joined" "$T/master.log" ||
    fail "want exactly A to join, saw: $(grep joined "$T/master.log")"
grep -Eq "worker (b|plain) " "$T/master.log" && fail "a refused worker shows up in the master's log"
kill -0 "$MASTER_PID" || fail "master died"
curl -s --max-time 2 "http://127.0.0.1:$DASH_PORT/api/workers" >"$T/workers.json"
grep -q '"a"' "$T/workers.json" || { cat "$T/workers.json"; fail "A missing from /api/workers"; }
grep -Eq '"(b|plain)"' "$T/workers.json" && fail "a refused worker is listed: $(cat "$T/workers.json")"
kill "$MASTER_PID"; wait "$MASTER_PID"
grep -q "refused" "$T/master.log" || fail "no refusal logged"
note "$(grep -c refused "$T/master.log") refusal lines; plaintext worker log: $(tail -1 "$T/worker-plain.log")"
echo "ok: only A joined and ran all $N tasks; B refused by key, plaintext refused, master up"
