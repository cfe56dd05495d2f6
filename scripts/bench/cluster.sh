# Helpers for scripts/bench.sh: a private cluster (master + local workers) on
# free loopback ports, or with workers in network namespaces, plus the
# measurements the table needs (peak RSS, CPU seconds, the master's timings).
#   . scripts/bench/cluster.sh   (after WORK and BIN are set)
#
#   cl_config FILE [MASTER_IP]     config with free ports, history under $WORK;
#                                  CURVE on with the keys of cl_keys when
#                                  CL_CURVE=1
#   cl_keys                        key pairs for the master and workers w1..w8
#   cl_dash_port                   --set dashboard.port=P, a free port for one run
#   cl_workers_start N [NETNS...]  N workers (--slots 1); in NETNS[i] when given
#   cl_workers_stop                SIGTERM, wait; sets CL_W_RSS (MB list)
#   cl_cpu_sampler_start FILE      samples the workers' CPU ticks every 0.2 s
#   cl_lan_up / cl_lan_down        bridge + veth pairs + namespaces (root only)
#
# Every process started here is recorded and stopped by cl_cleanup, which the
# caller runs from its EXIT trap; namespaces and links are removed there too.

CL_PIDS=()      # workers currently running
CL_SAMPLER=""   # pid of the CPU sampler loop
CL_NS=()        # namespaces created by cl_lan_up
CL_NS_EXTRA=()  # ... and the master's (CL_LAN_MASTER=1)
CL_LINKS=()     # root-side links created by cl_lan_up
CL_BR=""        # bridge created by cl_lan_up
CL_TAKEN=""

# A free TCP port: random in 20000-60999, not in use and not handed out before.
cl_free_port() {
    local p used
    used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 41000))
        if ! grep -qx "$p" <<<"$used" && ! grep -qwx "$p" <<<"$CL_TAKEN"; then
            CL_TAKEN+=$'\n'"$p"
            echo "$p"
            return 0
        fi
    done
    return 1
}

# cl_config FILE [MASTER_IP]: a private config so that the bench never talks
# to a demo or a test running on the default ports. With CL_CURVE=1 the
# config turns CURVE on with the master key and the workers' public keys from
# cl_keys (which must have run); workers started with CL_CURVE=1 use theirs.
cl_config() {
    local file=$1 ip=${2:-127.0.0.1} tp rp hp dp security=""
    tp=$(cl_free_port) && rp=$(cl_free_port) && hp=$(cl_free_port) && dp=$(cl_free_port) || return 1
    if [ "${CL_CURVE:-0}" = 1 ]; then
        security=",
  \"security\": {\"curve\": true, \"secret_key_file\": \"$CL_KEYDIR/master.key\",
               \"master_public_key\": \"$CL_KEYDIR/master.pub\",
               \"authorized_keys\": \"$CL_KEYDIR/authorized_keys\"}"
    fi
    cat >"$file" <<JSON
{
  "master": {"ip": "$ip", "task_port": $tp, "result_port": $rp, "heartbeat_port": $hp},
  "dashboard": {"host": "127.0.0.1", "port": $dp, "token": ""},
  "history": {"db": "$WORK/history.db", "retention_days": 7},
  "model": {"file": "$WORK/model.txt"},
  "output": {"train": "$WORK/submission_train.csv", "test": "$WORK/submission_test.csv"}$security
}
JSON
}

# cl_dash_port: prints "--set dashboard.port=P" words with a port not handed
# out before, so that each master run's dashboard has a free port of its own.
cl_dash_port() {
    local p
    p=$(cl_free_port) || return 1
    echo "--set dashboard.port=$p"
}

CL_KEYDIR=""
# cl_keys: CurveZMQ key pairs master and w1..w8 in $WORK/keys (made once with
# `master keygen NAME`, kept across runs) and an authorized_keys listing the
# workers. Sets CL_KEYDIR (absolute) or fails with CL_KEYS_WHY.
cl_keys() {
    local dir n bin
    dir=$(cd "$WORK" && pwd)/keys
    bin=$(cd "$BIN" && pwd)
    mkdir -p "$dir" || { CL_KEYS_WHY="cannot create $dir"; return 1; }
    for n in master w1 w2 w3 w4 w5 w6 w7 w8; do
        [ -f "$dir/$n.key" ] && [ -f "$dir/$n.pub" ] && continue
        rm -f "$dir/$n.key" "$dir/$n.pub"
        (cd "$dir" && "$bin/master" keygen "$n" >/dev/null 2>"$dir/keygen.err") ||
            { CL_KEYS_WHY="master keygen $n failed: $(tail -1 "$dir/keygen.err")"; return 1; }
    done
    { echo "# bench workers"; cat "$dir"/w[1-8].pub; } >"$dir/authorized_keys"
    CL_KEYDIR=$dir
}

# cl_workers_start CONFIG N [NETNS...]: N workers w1..wN with one slot each,
# logs in $WORK/${CL_LOG_TAG}-wI.log. Worker I runs inside the I-th NETNS if
# given, and with its key wI.key from cl_keys when CL_CURVE=1.
cl_workers_start() {
    local cfg=$1 n=$2 i ns key
    shift 2
    CL_PIDS=()
    for ((i = 1; i <= n; i++)); do
        ns=${1:-}
        [ $# -gt 0 ] && shift
        key=()
        [ "${CL_CURVE:-0}" = 1 ] && key=(--set "security.secret_key_file=$CL_KEYDIR/w$i.key")
        if [ -n "$ns" ]; then
            # ip netns exec execs the worker, so $! is the worker itself
            ip netns exec "$ns" "$BIN/worker" --config "$cfg" --name "w$i" --slots 1 "${key[@]}" \
                >"$WORK/${CL_LOG_TAG:-worker}-w$i.log" 2>&1 &
        else
            "$BIN/worker" --config "$cfg" --name "w$i" --slots 1 "${key[@]}" \
                >"$WORK/${CL_LOG_TAG:-worker}-w$i.log" 2>&1 &
        fi
        CL_PIDS+=($!)
    done
}

# VmHWM of PID in MB (peak resident set size so far), or "?" when gone.
cl_hwm_mb() {
    awk '/^VmHWM:/ { printf "%.0f", $2 / 1024; found = 1 } END { if (!found) print "?" }' \
        "/proc/$1/status" 2>/dev/null || echo "?"
}

# cl_workers_stop: reads each worker's peak RSS (CL_W_RSS, space separated MB)
# and CPU seconds (CL_W_CPU), then stops them with SIGTERM (SIGKILL after 10 s).
cl_workers_stop() {
    local pid i
    CL_W_RSS=""
    CL_W_CPU=""
    for pid in "${CL_PIDS[@]}"; do
        CL_W_RSS+="$(cl_hwm_mb "$pid") "
        CL_W_CPU+="$(cl_cpu_ticks "$pid") "
    done
    CL_W_RSS=${CL_W_RSS% }
    CL_W_CPU=${CL_W_CPU% }
    for pid in "${CL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${CL_PIDS[@]}"; do
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    CL_PIDS=()
}

# utime + stime of PID in clock ticks (all threads), or 0 when gone.
cl_cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return
    }
    # fields after the ")" that ends the command name: state is field 3,
    # utime 14, stime 15
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}

# cl_cpu_sampler_start FILE: every 0.2 s appends "epoch_ms ticks_w1 ticks_w2 .."
# for the running workers, until cl_cpu_sampler_stop.
cl_cpu_sampler_start() {
    local file=$1
    : >"$file"
    (
        while :; do
            local line t pid
            t=${EPOCHREALTIME/./}
            line="$((t / 1000))"
            for pid in "${CL_PIDS[@]}"; do line+=" $(cl_cpu_ticks "$pid")"; done
            echo "$line" >>"$file"
            sleep 0.2
        done
    ) &
    CL_SAMPLER=$!
}

cl_cpu_sampler_stop() {
    [ -n "$CL_SAMPLER" ] || return 0
    kill "$CL_SAMPLER" 2>/dev/null
    wait "$CL_SAMPLER" 2>/dev/null
    CL_SAMPLER=""
}

# cl_log_ms LOG PATTERN: epoch ms of the first master log line matching PATTERN
# (log lines start with an ISO UTC timestamp), empty when none.
cl_log_ms() {
    local ts
    ts=$(grep -m1 -- "$2" "$1" | cut -d' ' -f1)
    [ -n "$ts" ] && date -u -d "$ts" +%s%3N
}

# cl_lost LOG: how many times the master declared a worker lost in LOG
cl_lost() {
    grep -c -- ") lost: " "$1" 2>/dev/null || true
}

# cl_cpu_between SAMPLES T0_MS T1_MS: sum over workers of CPU seconds spent
# between the samples nearest to T0 and T1.
cl_cpu_between() {
    awk -v t0="$2" -v t1="$3" '
        function near(t,   i, best, d, bd) {
            bd = -1
            for (i = 1; i <= NR; i++) { d = ts[i] - t; if (d < 0) d = -d
                if (bd < 0 || d < bd) { bd = d; best = i } }
            return best }
        { ts[NR] = $1; row[NR] = $0 }
        END {
            if (NR == 0) { print "?"; exit }
            a = near(t0); b = near(t1)
            na = split(row[a], x, " "); split(row[b], y, " "); s = 0
            for (i = 2; i <= na; i++) s += y[i] - x[i]
            printf "%.1f", s / 100 }' "$1"
}

# cl_master_wait_s LOG N: seconds the master spent waiting for its N workers
# (from its "waiting for" line to the N-th "joined" line; later joins are
# workers coming back during the job, counted by cl_lost).
cl_master_wait_s() {
    local a b ts
    a=$(cl_log_ms "$1" "waiting for") || true
    ts=$(grep -- " joined: " "$1" | sed -n "${2}p" | cut -d' ' -f1)
    b=""
    [ -n "$ts" ] && b=$(date -u -d "$ts" +%s%3N)
    if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -ge "$a" ]; then
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 1000 }'
    else
        echo 0
    fi
}

# cl_lan_up N: bridge ncb-br (10.200.0.1/24) in the root namespace and N
# namespaces ncb-wI, each joined by a veth pair with address 10.200.0.(10+I).
# Both ends of every veth are shaped to CL_LAN_RATE (default 1gbit); an
# added delay needs netem, tried first. With CL_LAN_MASTER=1 one more
# namespace, CL_MASTER_NS, holds the master at 10.200.0.2 behind a link
# shaped the same way (otherwise the master sits on the bridge itself, whose
# own link is not shaped). Sets CL_LAN_SHAPE (what was applied) or
# CL_LAN_WHY and fails.
cl_lan_up() {
    local n=$1 i ns host peer rate=${CL_LAN_RATE:-1gbit} first=1
    CL_LAN_WHY=""
    CL_LAN_SHAPE=""
    [ "$(id -u)" = 0 ] || { CL_LAN_WHY="needs root (network namespaces)"; return 1; }
    command -v ip >/dev/null && command -v tc >/dev/null ||
        { CL_LAN_WHY="ip/tc not found (Debian package iproute2)"; return 1; }
    CL_BR=ncb-br$$
    CL_BR=${CL_BR:0:15}
    ip link add "$CL_BR" type bridge 2>"$WORK/lan.err" &&
        ip addr add 10.200.0.1/24 dev "$CL_BR" 2>>"$WORK/lan.err" &&
        ip link set "$CL_BR" up 2>>"$WORK/lan.err" ||
        { CL_LAN_WHY="cannot create bridge: $(head -1 "$WORK/lan.err")"; return 1; }
    local delay=1
    CL_MASTER_NS=""
    [ "${CL_LAN_MASTER:-0}" = 1 ] && first=0
    for ((i = first; i <= n; i++)); do
        ns=ncb-w$i-$$
        host=ncbh$i-$$
        peer=ncbp$i-$$
        [ "$i" = 0 ] && ns=ncb-m-$$ && CL_MASTER_NS=$ns
        host=${host:0:15}
        peer=${peer:0:15}
        ip netns add "$ns" 2>>"$WORK/lan.err" ||
            { CL_LAN_WHY="ip netns add failed: $(tail -1 "$WORK/lan.err")"; return 1; }
        [ "$i" = 0 ] || CL_NS+=("$ns")
        [ "$i" = 0 ] && CL_NS_EXTRA+=("$ns")
        ip link add "$host" type veth peer name "$peer" 2>>"$WORK/lan.err" ||
            { CL_LAN_WHY="veth failed: $(tail -1 "$WORK/lan.err")"; return 1; }
        CL_LINKS+=("$host")
        ip link set "$peer" netns "$ns" &&
            ip link set "$host" master "$CL_BR" &&
            ip link set "$host" up &&
            ip -n "$ns" addr add "10.200.0.$([ "$i" = 0 ] && echo 2 || echo $((10 + i)))/24" \
                dev "$peer" &&
            ip -n "$ns" link set "$peer" up &&
            ip -n "$ns" link set lo up 2>>"$WORK/lan.err" ||
            { CL_LAN_WHY="namespace setup failed: $(tail -1 "$WORK/lan.err")"; return 1; }
        # 1 Gbit/s + 0.2 ms each way: netem when the kernel has it; otherwise
        # the rate alone with tbf, and the table says that no delay was added.
        if [ "$delay" = 1 ] &&
            tc qdisc add dev "$host" root netem rate "$rate" delay 0.2ms 2>>"$WORK/lan.err" &&
            ip netns exec "$ns" tc qdisc add dev "$peer" root netem rate "$rate" delay 0.2ms \
                2>>"$WORK/lan.err"; then
            CL_LAN_SHAPE="netem rate $rate delay 0.2ms on both ends of each veth"
        else
            delay=0
            tc qdisc del dev "$host" root 2>/dev/null
            tc qdisc add dev "$host" root tbf rate "$rate" burst 256kb latency 10ms \
                2>>"$WORK/lan.err" &&
                ip netns exec "$ns" tc qdisc add dev "$peer" root tbf rate "$rate" burst 256kb \
                    latency 10ms 2>>"$WORK/lan.err" ||
                { CL_LAN_WHY="tc tbf failed: $(tail -1 "$WORK/lan.err")"; return 1; }
            CL_LAN_SHAPE="tbf rate $rate on both ends of each veth; no added delay: this kernel has no netem ($(grep -m1 -o 'qdisc kind is unknown' "$WORK/lan.err" || echo 'netem failed'))"
        fi
    done
}

cl_lan_down() {
    local x
    for x in "${CL_LINKS[@]}"; do ip link del "$x" 2>/dev/null; done
    for x in "${CL_NS[@]}" "${CL_NS_EXTRA[@]}"; do ip netns del "$x" 2>/dev/null; done
    CL_NS_EXTRA=()
    [ -n "$CL_BR" ] && ip link del "$CL_BR" 2>/dev/null
    CL_LINKS=()
    CL_NS=()
    CL_BR=""
}

cl_cleanup() {
    cl_cpu_sampler_stop
    local pid
    for pid in "${CL_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for pid in "${CL_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    CL_PIDS=()
    cl_lan_down
}
