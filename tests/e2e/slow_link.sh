#!/usr/bin/env bash
# A slow link between master and worker: a shard that takes seconds to cross
# it must not make the worker call the master silent (its PINGs queue behind
# the shard), drop its tasks and reconnect forever. Master and worker in two
# network namespaces of our own joined by a veth pair, the master's side
# limited to 4 Mbit/s by tbf; liveness 3 x 300 ms = 900 ms, each shard about
# 1.7 MB = 3.4 s on the wire. Before the fix the job never finished.
# Needs root for `ip netns` (skipped otherwise, saying why).
. "$(dirname "$0")/lib.sh"
command -v ip >/dev/null && command -v tc >/dev/null || { echo "skip: no ip/tc (iproute2)"; exit 77; }
NSM=ncslow$$m NSW=ncslow$$w NET=10.233.$(($$ % 200 + 20))
ip netns add "$NSM" 2>/dev/null || { echo "skip: 'ip netns add' is not permitted here"; exit 77; }
cleanup_ns() { ip netns del "$NSM" 2>/dev/null; ip netns del "$NSW" 2>/dev/null; }
nc_setup
trap 'nc_cleanup; cleanup_ns' EXIT
ip netns add "$NSW" || fail "ip netns add $NSW"
ip -n "$NSM" link set lo up && ip -n "$NSW" link set lo up &&
    ip link add name "vs$$m" netns "$NSM" type veth peer name "vs$$w" netns "$NSW" &&
    ip -n "$NSM" addr add "$NET.1/24" dev "vs$$m" && ip -n "$NSW" addr add "$NET.2/24" dev "vs$$w" &&
    ip -n "$NSM" link set "vs$$m" up && ip -n "$NSW" link set "vs$$w" up ||
    fail "veth pair between $NSM and $NSW"
ip netns exec "$NSM" tc qdisc add dev "vs$$m" root tbf rate 4mbit burst 32kbit latency 400ms ||
    fail "tc tbf on the master's side"
cat >"$T/config.json" <<JSON
{"master": {"ip": "$NET.1", "task_port": 41001, "result_port": 41002, "heartbeat_port": 41003},
 "dashboard": {"host": "127.0.0.1", "port": 41004, "token": ""},
 "cluster": {"heartbeat_ms": 300, "liveness": 3, "shard_rows": 6000},
 "history": {"db": "$T/history.db", "retention_days": 7}}
JSON
# 12,000 rows x 40 columns, two classes split by the first columns' sum
awk 'BEGIN { srand(7); printf "label"; for (j = 0; j < 40; j++) printf ",f%d", j; print "";
             for (i = 0; i < 12000; i++) { s = 0; line = "";
                 for (j = 0; j < 40; j++) { v = int(rand() * 1000) / 100; if (j < 5) s += v; line = line "," v }
                 print (s > 25 ? "yes" : "no") line } }' >"$T/data.csv"
ip netns exec "$NSW" "$NC_BIN/worker" --config "$T/config.json" --name w1 --slots 1 \
    >"$T/worker-w1.log" 2>&1 &
NC_PIDS+=($!)
timeout 90 ip netns exec "$NSM" "$NC_BIN/master" train --config "$T/config.json" --no-dashboard \
    --data "$T/data.csv" --label label --min-workers 1 --eps 0.1 --model "$T/model.txt" \
    --out "$T/sub.csv" >"$T/master.out" 2>"$T/master.log"
rc=$?
[ $rc -eq 0 ] || { tail -n 5 "$T/worker-w1.log" "$T/master.log"; fail "master exited $rc (124: the job never finished)"; }
grep -q "has been silent" "$T/worker-w1.log" && { grep "silent" "$T/worker-w1.log" | head -3; fail "the worker called a master that was sending it a shard silent"; }
grep -q " lost" "$T/master.log" && { grep " lost" "$T/master.log" | head -3; fail "the master lost its worker"; }
log_has "$T/worker-w1.log" "sending a large message" || fail "the worker never waited for a large message (was the link slow enough?)"
[ "$(wc -l <"$T/sub.csv")" -eq 12001 ] || fail "submission has $(wc -l <"$T/sub.csv") lines, not 12001"
echo "ok: shards of 1.7 MB over 4 Mbit/s with a 900 ms liveness window: no reconnect, job done"
