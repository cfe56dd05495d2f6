# Shared helpers for end-to-end tests: real bin/master and bin/worker processes
# on free loopback ports, in a private temp directory, all killed on exit.
#   . "$(dirname "$0")/lib.sh"
#   nc_setup            # temp dir $T, free ports, $T/config.json
#   nc_worker NAME [args]   # starts a worker in the background, pid in WORKER_PID[NAME]
#   nc_master ARGS...       # runs the master in the foreground
#   fail "why"          # prints and exits 1
set -u
NC_ROOT=${NC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NC_BIN=${NC_BIN:-$NC_ROOT/build/san/bin}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
declare -A WORKER_PID
NC_PIDS=()

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*" >&2; }

# A free TCP port on 127.0.0.1: random in 20000-60999, checked against ss
# and against the ports this test picked before. Those are kept in a file,
# not a variable: PORT=$(free_port) runs in a subshell, whose variables are
# lost (two of nc_setup's ports once came out equal that way).
NC_PORTS_FILE=/tmp/nc-ports.$$ # $$ is the test's shell, in subshells too
free_port() {
    local p used
    used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 41000))
        if ! grep -qx "$p" <<<"$used" && ! grep -qx "$p" "$NC_PORTS_FILE" 2>/dev/null; then
            echo "$p" >>"$NC_PORTS_FILE"
            echo "$p"; return 0
        fi
    done
    return 1
}

nc_cleanup() {
    local pid
    for pid in "${NC_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${T:-}" ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T"; fi
    rm -f "$NC_PORTS_FILE"
}

nc_setup() {
    T=$(mktemp -d /tmp/nc-e2e.XXXXXX)
    trap nc_cleanup EXIT
    TASK_PORT=$(free_port); RESULT_PORT=$(free_port); HB_PORT=$(free_port); DASH_PORT=$(free_port)
    cat >"$T/config.json" <<JSON
{
  "master": {"ip": "127.0.0.1", "task_port": $TASK_PORT, "result_port": $RESULT_PORT,
             "heartbeat_port": $HB_PORT},
  "dashboard": {"host": "127.0.0.1", "port": $DASH_PORT, "token": ""},
  "cluster": {"heartbeat_ms": ${NC_HB_MS:-500}, "liveness": 3, "shard_rows": ${NC_SHARD_ROWS:-1000}},
  "history": {"db": "$T/history.db", "retention_days": 7},
  "model": {"file": "$T/model.txt"},
  "output": {"train": "$T/submission_train.csv", "test": "$T/submission_test.csv"}
}
JSON
    cd "$T" || fail "cannot cd to $T"
}

# nc_worker NAME [extra args...]: background worker, log in $T/worker-NAME.log
nc_worker() {
    local name=$1; shift
    "$NC_BIN/worker" --config "$T/config.json" --name "$name" "$@" >"$T/worker-$name.log" 2>&1 &
    WORKER_PID[$name]=$!
    NC_PIDS+=($!)
}

# nc_master_bg ARGS...: background master, log in $T/master.log, pid in MASTER_PID
nc_master_bg() {
    "$NC_BIN/master" "$@" --config "$T/config.json" >"$T/master.out" 2>"$T/master.log" &
    MASTER_PID=$!
    NC_PIDS+=($!)
}

# wait_for CMD... : retries a condition for up to ${WAIT_S:-30} seconds
wait_for() {
    local deadline=$((SECONDS + ${WAIT_S:-30}))
    until "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}

# log_has FILE PATTERN
log_has() { grep -q -- "$2" "$1" 2>/dev/null; }
