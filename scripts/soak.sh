#!/usr/bin/env bash
# Chaos soak: a master in serve mode and WORKERS workers run a stream of train
# and test jobs for DURATION seconds while this driver injects faults, and
# every finished job's outputs are compared with a clean reference run made at
# the start (same data, same options, no faults).
#
#   scripts/soak.sh                  release binaries (bin/), 600 s
#   DURATION=120 scripts/soak.sh     a short run
#   SAN=1 scripts/soak.sh            ASan/UBSan binaries (build/san/bin)
#
# Faults (one every FAULT_MIN..FAULT_MAX seconds, kinds drawn at random):
#   worker_kill      SIGKILL a worker, start it again 0-3 s later
#   worker_stop      SIGSTOP a worker for 1-6 s (past the liveness limit when
#                    long), then SIGCONT
#   worker_restart   SIGTERM a worker and start a new one at once
#   master_restart   SIGKILL the master mid-job; then either a new serve master
#                    and the job submitted again (serve mode cannot resume a
#                    job), or `master train|test --resume` with the job's
#                    options on the same ports, then a new serve master
#   net_delay        queueing delay on one worker's link for 3-10 s (netem
#                    delay when the kernel has it, else a 1 Mbit/s tbf)
#   net_loss         packet loss on one worker's link for 3-10 s (netem loss,
#                    else tbf tail drops from a 2-packet queue)
#   net_partition    one worker's link down for 2-6 s
#   disk_full        a job writes to a small tmpfs filled to within 0-24 KB;
#                    it must fail cleanly (state failed with a reason, no final
#                    output file), then the space is freed and the same job
#                    must succeed there
# Network faults need `ip netns` (workers 3.. each in a namespace of their
# own, joined to the master's namespace by a veth pair; all addresses live in
# these namespaces); without it they are skipped and everything runs on
# 127.0.0.1. disk_full needs `mount -t tmpfs`; without it it is skipped.
#
# Checks: predictions and schemas byte-identical to the reference; models
# identical or within MODEL_TOL relative L2 (scripts/bench/model_diff.awk;
# summation order is fixed by shard, so only a resumed TRON may differ, as in
# tests/e2e/train_faults.sh). Crashes: a process that died by a signal the
# driver did not send, exited unasked, an ASan/UBSan report, a core file, or a
# process that did not stop on SIGTERM at the end.
#
# Environment: DURATION (600), WORKERS (5, 4-6), SAN (0|1), NC_BIN (binaries),
# SEED (fault schedule, printed), ONLY_FAULTS (kinds, e.g. "worker_kill
# disk_full"), NO_NETNS=1 (loopback only), FAULT_MIN/FAULT_MAX (3/8 s), JOB_TIMEOUT
# (240 s), MODEL_TOL (1e-9), TRAIN_ROWS (3000), TEST_ROWS (1000), KEEP=1
# (keep the work directory; it is kept anyway when the soak fails).
# Prints one summary line; exit 0 when mismatches, stuck job states (a job
# that /api/jobs shows queued or running when nothing is in flight) and
# crashes are 0, 1 otherwise, 2 when it could not start (missing binaries,
# reference run failed).

# The whole script is one brace group, read before it runs: editing this file
# while a soak runs cannot change what the running soak does.
{
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-600}
NW=${WORKERS:-5}
if [ "${SAN:-0}" = 1 ]; then BIN=${NC_BIN:-$ROOT/build/san/bin}; else BIN=${NC_BIN:-$ROOT/bin}; fi
SEED=${SEED:-$(((RANDOM << 15) | RANDOM))}
RANDOM=$SEED
FAULT_MIN=${FAULT_MIN:-3}
FAULT_MAX=${FAULT_MAX:-8}
JOB_TIMEOUT=${JOB_TIMEOUT:-240}
MODEL_TOL=${MODEL_TOL:-1e-9}
TRAIN_ROWS=${TRAIN_ROWS:-3000}
TEST_ROWS=${TEST_ROWS:-1000}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

for b in master worker; do
    [ -x "$BIN/$b" ] || { echo "soak: $BIN/$b is missing; run make${SAN:+ SAN=$SAN} first" >&2; exit 2; }
done
[[ $NW =~ ^[4-6]$ ]] || { echo "soak: WORKERS must be 4, 5 or 6, not '$NW'" >&2; exit 2; }
[[ $DURATION =~ ^[0-9]+$ ]] || { echo "soak: DURATION must be whole seconds, not '$DURATION'" >&2; exit 2; }
for t in curl jq awk; do
    command -v $t >/dev/null || { echo "soak: $t is required" >&2; exit 2; }
done

T=$(mktemp -d /tmp/nc-soak.XXXXXX)
RUN=$T/run # every process's working directory: core files land here
mkdir -p "$RUN" "$T/logs" "$T/data" "$T/ref" "$T/out" "$T/full"
cd "$RUN" || exit 2
ulimit -c unlimited 2>/dev/null
START=$SECONDS
FAILED_RUN=0 COMPLETED=0

# Messages go to fd 3 (the caller's stderr) and soak.log; the shell's own
# stderr (its "Killed" notes for the processes the driver kills) to driver.err.
exec 3>&2 2>>"$T/driver.err"
say() { printf 'soak %4ds: %s\n' $((SECONDS - START)) "$*" | tee -a "$T/soak.log" >&3; }

# ---------------------------------------------------------------- processes
# Every process the driver starts is in PROLE (role) and gets in PSENT the
# signal the driver sent it, so that its death can be told apart from a crash.
declare -A PROLE PSENT
declare -a WPID WNS WGEN
MPID=0 MNS="" MKIND="" MLOG=""
STOPPING=0
MASTER_GEN=0
PEAK_RSS_KB=0
CRASHES=0
declare -a CRASH_NOTES=()
NSP="ncsoak$$"
NETNS=0
FULL_MOUNTED=0
NETEM=0

in_ns() { # in_ns NS CMD...: run CMD in namespace NS (or here when NS is empty)
    local ns=$1; shift
    if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

send() { # send SIG PID
    [ -n "${PROLE[$2]:-}" ] || return 0
    PSENT[$2]="${PSENT[$2]:-} $1"
    kill -s "$1" "$2" 2>/dev/null
}

# The process has ended (gone or a zombie): reap it and judge how it ended.
reap() {
    local pid=$1 rc role=${PROLE[$1]} sent=${PSENT[$1]:-}
    wait "$pid" 2>/dev/null
    rc=$?
    unset "PROLE[$pid]" "PSENT[$pid]"
    if [ $rc -gt 128 ]; then
        local sig
        sig=$(kill -l $((rc - 128)) 2>/dev/null)
        if [[ " $sent " == *" $sig "* ]] || { [ "$sig" = KILL ] && [[ $sent == *KILL* ]]; }; then
            return 0
        fi
        crash "$role (pid $pid) died by SIG$sig, which the driver did not send (sent:${sent:- none})"
    elif [ $rc -ne 0 ] && [ -z "$sent" ]; then
        crash "$role (pid $pid) exited with status $rc without being asked"
    elif [ $rc -ne 0 ] && [[ $sent != *TERM* && $sent != *INT* ]]; then
        crash "$role (pid $pid) exited with status $rc (sent:$sent)"
    fi
    return 0
}

crash() {
    CRASHES=$((CRASHES + 1))
    CRASH_NOTES+=("$*")
    say "CRASH: $*"
}

ended() { # ended PID: true when the process is gone or a zombie
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [ -z "$st" ] || [ "$st" = Z ]
}

track_rss() {
    [ "$MPID" -gt 0 ] || return 0
    local hwm
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$MPID/status" 2>/dev/null)
    [ -n "$hwm" ] && [ "$hwm" -gt "$PEAK_RSS_KB" ] && PEAK_RSS_KB=$hwm
    return 0
}

# Reaps every tracked process that ended; restarts workers that died unasked.
check_procs() {
    local pid i
    for pid in "${!PROLE[@]}"; do
        ended "$pid" || continue
        # A --resume master's exit status is the job's result: poll_current reaps it.
        [ "$pid" = "$MPID" ] && [ "$MKIND" != serve ] && [ -z "${PSENT[$pid]:-}" ] && continue
        local role=${PROLE[$pid]} sent=${PSENT[$pid]:-}
        reap "$pid"
        if [ "$pid" = "$MPID" ]; then
            [ "$MKIND" = serve ] && [ -z "$sent" ] && say "master (pid $pid) ended"
            MPID=0
        fi
        for i in "${!WPID[@]}"; do
            if [ "${WPID[$i]}" = "$pid" ]; then
                WPID[i]=0
                [ "$role" != "" ] && [ "$STOPPING" = 0 ] && [ -z "${WRESTART_AT[$i]:-}" ] && start_worker "$i"
            fi
        done
    done
}

start_worker() {
    local i=$1
    WGEN[i]=$((${WGEN[$i]:-0} + 1))
    local addr=127.0.0.1
    [ "$NETNS" = 1 ] && addr=10.231.0.1
    if [ -n "${WNS[$i]:-}" ]; then
        ip netns exec "${WNS[$i]}" "$BIN/worker" --config "$T/config.json" --name "w$i" \
            --master "$addr" --slots 1 >>"$T/logs/worker-$i.log" 2>&1 &
    else
        "$BIN/worker" --config "$T/config.json" --name "w$i" --master "$addr" --slots 1 \
            >>"$T/logs/worker-$i.log" 2>&1 &
    fi
    WPID[i]=$!
    PROLE[$!]="worker w$i#${WGEN[$i]}"
    unset "WRESTART_AT[$i]"
}

health() { in_ns "$MNS" curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$DPORT/health" 2>/dev/null; }

# start_master serve | start_master train|test --resume OPTS...
start_master() {
    MASTER_GEN=$((MASTER_GEN + 1))
    MKIND=$1
    local log="$T/logs/master-$MASTER_GEN-$1.log"
    if [ -n "$MNS" ]; then
        ip netns exec "$MNS" "$BIN/master" "$@" --config "$T/config.json" >"$log" 2>&1 &
    else
        "$BIN/master" "$@" --config "$T/config.json" >"$log" 2>&1 &
    fi
    MPID=$!
    PROLE[$MPID]="master#$MASTER_GEN ($1)"
    MLOG=$log
    if [ "$1" = serve ]; then
        local deadline=$((SECONDS + 30))
        until [ "$(health)" = 200 ]; do
            if [ $SECONDS -ge $deadline ] || ended "$MPID"; then
                say "the serve master did not answer /health within 30 s"
                return 1
            fi
            sleep 0.2
        done
    fi
    return 0
}

# ---------------------------------------------------------------- setup
NET_NOTE="" DISK_NOTE=""
setup_net() {
    if [ "${NO_NETNS:-0}" = 1 ]; then
        NET_NOTE="network faults skipped: NO_NETNS=1; all on 127.0.0.1"
        return 1
    fi
    if ! ip netns add "${NSP}m" 2>"$T/netns.err"; then
        NET_NOTE="network faults skipped: 'ip netns add' is not permitted ($(head -c 120 "$T/netns.err")); all on 127.0.0.1"
        return 1
    fi
    NETNS=1
    MNS=${NSP}m
    ip -n "$MNS" link set lo up
    ip -n "$MNS" addr add 10.231.0.1/32 dev lo
    local i
    for ((i = 1; i <= NW; i++)); do
        if [ "$i" -le 2 ]; then WNS[i]=$MNS; continue; fi # on the master's loopback
        WNS[i]=${NSP}w$i
        ip netns add "${WNS[$i]}" || return 1
        ip -n "${WNS[$i]}" link set lo up
        ip link add name "vm$i" netns "$MNS" type veth peer name "vw$i" netns "${WNS[$i]}" || return 1
        ip -n "$MNS" addr add "10.231.$i.1/24" dev "vm$i"
        ip -n "${WNS[$i]}" addr add "10.231.$i.2/24" dev "vw$i"
        ip -n "$MNS" link set "vm$i" up
        ip -n "${WNS[$i]}" link set "vw$i" up
        ip -n "${WNS[$i]}" route replace default via "10.231.$i.1"
    done
    if ip -n "$MNS" link show vm3 >/dev/null 2>&1 &&
        ip netns exec "$MNS" tc qdisc add dev vm3 root netem delay 1ms 2>/dev/null; then
        NETEM=1
        ip netns exec "$MNS" tc qdisc del dev vm3 root 2>/dev/null
        NET_NOTE="network faults: netem delay/loss and link-down partitions on workers 3-$NW's veth links"
    else
        NET_NOTE="network faults: this kernel has no tc netem ('Specified qdisc kind is unknown'), so delay is tbf queueing at 1 Mbit/s and loss is tbf tail drop from a 2-packet queue; partitions are link-down; on workers 3-$NW's veth links"
    fi
    return 0
}

teardown_net() {
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${NSP}"); do
        ip netns del "$ns" 2>/dev/null
    done
}

cleanup() {
    local pid
    trap - EXIT INT TERM HUP
    for pid in "${!PROLE[@]}"; do kill -CONT "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    teardown_net
    if [ "$FULL_MOUNTED" = 1 ]; then umount "$T/full" 2>/dev/null || umount -l "$T/full" 2>/dev/null; fi
    if [ "${KEEP:-0}" = 1 ] || [ "$FAILED_RUN" = 1 ] || [ "$COMPLETED" = 0 ]; then
        [ "$COMPLETED" = 0 ] && echo "soak: the driver stopped before its summary" >&3
        echo "soak: work directory kept: $T" >&3
        grep -v -E '^[^:]*: line [0-9]+: +[0-9]+ (Killed|Stopped|Terminated|Done)' "$T/driver.err" 2>/dev/null |
            head -5 | sed 's/^/soak: driver stderr: /' >&3
    else
        cd / && rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'say "interrupted"; FAILED_RUN=1; exit 130' INT TERM HUP

# Synthetic data with a fixed seed: 12 numeric features around a per-class
# centre, a text column (one-hot), 2 % missing values, three text labels; and
# the same rows in libsvm form (numeric features only).
gen_data() {
    awk -v rows="$1" -v seed="$2" -v csv="$3" -v svm="$4" 'BEGIN {
        srand(seed); split("cat dog eel", lab, " "); split("red green blue black white", col, " ")
        h = "id"; for (f = 1; f <= 12; f++) h = h ",f" f; print h ",color,label" > csv
        for (r = 1; r <= rows; r++) {
            c = 1 + int(rand() * 3)
            line = "r" r; sv = c
            for (f = 1; f <= 12; f++) {
                u = rand(); v = rand(); g = sqrt(-2 * log(u + 1e-12)) * cos(6.283185307 * v)
                x = sprintf("%.6f", ((c * f) % 5 - 2) * 0.35 + 1.3 * g)
                if (f == 3 && rand() < 0.02) line = line ","; else line = line "," x
                sv = sv " " f ":" x
            }
            k = rand() < 0.5 ? c : 1 + int(rand() * 5)
            print line "," col[k] "," lab[c] > csv
            print sv > svm
        }
    }'
}

# ---------------------------------------------------------------- jobs
# The catalog: name -> options (key=value ...); test jobs name the reference
# model they read. Outputs go to a directory per run: model.txt (+ schema) and
# sub.csv.
D=$T/data
JOB_NAMES=(train_lr train_svc train_avg train_svm test_lr test_svc test_svm)
declare -A JOB_OPTS=(
    [train_lr]="mode=train data=$D/train.csv solver=0 C=1"
    [train_svc]="mode=train data=$D/train.csv solver=2 C=0.5"
    [train_avg]="mode=train data=$D/train.csv solver=0 strategy=average rounds=2"
    [train_svm]="mode=train data=$D/train.svm solver=0 C=2"
    [test_lr]="mode=test data=$D/test.csv model=$T/ref/train_lr/model.txt"
    [test_svc]="mode=test data=$D/test.csv model=$T/ref/train_svc/model.txt"
    [test_svm]="mode=test data=$D/test.svm model=$T/ref/train_svm/model.txt"
)

job_opts() { # job_opts NAME DIR: the options with the output paths
    local o=${JOB_OPTS[$1]}
    if [[ $o == mode=train* ]]; then o="$o model=$2/model.txt"; fi
    echo "$o out=$2/sub.csv"
}
job_json() { # over HTTP, paths are relative to dashboard.files ($T)
    local kv k v json=""
    for kv in $(job_opts "$1" "$2"); do
        k=${kv%%=*} v=${kv#*=}
        v=${v#"$T/"}
        json="$json${json:+,}\"$k\":\"$v\""
    done
    echo "{$json}"
}
job_cli() { # the same job as a command line: MODE --opt value ...
    local kv k v args=() mode=""
    for kv in $(job_opts "$1" "$2"); do
        k=${kv%%=*} v=${kv#*=}
        if [ "$k" = mode ]; then mode=$v; elif [ "$k" = C ]; then args+=(-C "$v"); else args+=("--$k" "$v"); fi
    done
    echo "$mode ${args[*]}"
}
job_files() { # the output files a finished job leaves: those of its reference
    (cd "$T/ref/$1" && ls)
}

api_submit() { # api_submit JSON -> prints the job id, or nothing
    local r
    r=$(in_ns "$MNS" curl -s -m 10 -X POST -H 'Content-Type: application/json' -d "$1" \
        "http://127.0.0.1:$DPORT/api/jobs" 2>/dev/null)
    jq -er '.id // empty' <<<"$r" 2>/dev/null || { say "submit refused: $r"; return 1; }
}
api_job() { # api_job ID -> "STATE<tab>ERROR"
    in_ns "$MNS" curl -s -m 5 "http://127.0.0.1:$DPORT/api/jobs/$1" 2>/dev/null |
        jq -r '(.state // .job.state // "?") + "\t" + ((.error // .job.error // "") | tostring)' 2>/dev/null
}

# Runs one job through the serve master with no faults and waits; for the reference.
run_clean() {
    local name=$1 dir=$2 id st deadline=$((SECONDS + JOB_TIMEOUT))
    mkdir -p "$dir"
    id=$(api_submit "$(job_json "$name" "$dir")") || return 1
    while :; do
        st=$(api_job "$id")
        case ${st%%$'\t'*} in
        done) return 0 ;;
        failed) say "reference $name failed: ${st#*$'\t'}"; return 1 ;;
        esac
        [ $SECONDS -ge $deadline ] && { say "reference $name did not finish in $JOB_TIMEOUT s"; return 1; }
        ended "$MPID" && { say "the master ended during reference $name"; return 1; }
        sleep 0.3
    done
}

# ---------------------------------------------------------------- checks
JOBS_RUN=0 JOBS_OK=0 JOBS_IDENT=0 JOBS_TOL=0 JOBS_FULL_CLEAN=0 JOBS_RESUMED=0
MISMATCHES=0 PARTIAL=0
declare -a MISMATCH_NOTES=()
mismatch() { # one per job: the notes of one job's files are joined
    MISMATCHES=$((MISMATCHES + 1))
    MISMATCH_NOTES+=("$*")
    say "MISMATCH: $*"
}

# verify NAME DIR LABEL: the outputs of a finished job against the reference.
verify() {
    local name=$1 dir=$2 label=$3 f ok=1 tol=0 d notes=()
    for f in $(job_files "$name"); do
        if [ ! -f "$dir/$f" ]; then
            notes+=("$f missing after the job ended done")
            ok=0
        elif cmp -s "$dir/$f" "$T/ref/$name/$f"; then
            :
        elif [ "$f" = model.txt ]; then
            d=$(awk -f "$ROOT/scripts/bench/model_diff.awk" "$dir/$f" "$T/ref/$name/$f" 2>/dev/null)
            if awk -v d="$d" -v t="$MODEL_TOL" 'BEGIN { exit !(d != "?" && d + 0 <= t + 0) }'; then
                tol=1
                say "$label: model within tolerance (relative L2 $d)"
            else
                notes+=("model differs from the reference (relative L2 $d > $MODEL_TOL)")
                ok=0
            fi
        else
            notes+=("$f differs from the reference ($(cmp "$dir/$f" "$T/ref/$name/$f" 2>&1 | head -1))")
            ok=0
        fi
    done
    [ $ok = 0 ] && mismatch "$label: $(IFS=';'; echo "${notes[*]}") (outputs kept in $dir)"
    if [ $ok = 1 ]; then
        JOBS_OK=$((JOBS_OK + 1))
        if [ $tol = 1 ]; then JOBS_TOL=$((JOBS_TOL + 1)); else JOBS_IDENT=$((JOBS_IDENT + 1)); fi
        rm -rf "$dir"
    fi
}

# A job that ran on a full disk and ended failed: a reason, no final output.
verify_full_failure() {
    local name=$1 dir=$2 label=$3 err=$4 f bad=0 left notes=()
    if [ -z "$err" ] || [ "$err" = null ]; then
        notes+=("failed on a full disk without a reason in /api/jobs")
        bad=1
    fi
    # Any final output of a failed job is a partial result: a model without
    # its submission, or a model with no (or another run's) schema.
    for f in $(job_files "$name"); do
        if [ -e "$dir/$f" ]; then
            local what="complete"
            cmp -s "$dir/$f" "$T/ref/$name/$f" || what="truncated or different"
            notes+=("left $f ($(stat -c %s "$dir/$f") bytes, $what)")
            bad=1
        fi
    done
    if [ $bad = 1 ]; then
        [ ${#notes[@]} -gt 0 ] && [[ ${notes[*]} == *left* ]] && PARTIAL=$((PARTIAL + 1))
        mismatch "$label: failed ($err) but $(IFS=';'; echo "${notes[*]}")"
    fi
    left=$(cd "$dir" && ls -A | tr '\n' ' ')
    [ -n "$left" ] && say "$label: files left after the failure: $left"
    if [ $bad = 0 ]; then
        JOBS_FULL_CLEAN=$((JOBS_FULL_CLEAN + 1))
        say "$label: failed cleanly on the full disk: $err"
    fi
}

fill_disk() { # fill_disk LEAVE_BYTES
    dd if=/dev/zero of="$T/full/fill" bs=64k 2>/dev/null
    [ "$1" -gt 0 ] && truncate -s "-$1" "$T/full/fill"
    sync -f "$T/full/fill" 2>/dev/null
    return 0
}
free_disk() { rm -f "$T/full/fill"; }

# ---------------------------------------------------------------- faults
declare -A FAULTS=([worker_kill]=0 [worker_stop]=0 [worker_restart]=0 [master_restart]=0
    [net_delay]=0 [net_loss]=0 [net_partition]=0 [disk_full]=0)
declare -A WRESTART_AT WCONT_AT NETCLEAR_AT
FAULT_KINDS=(worker_kill worker_kill worker_kill worker_stop worker_stop worker_stop
    worker_restart worker_restart master_restart master_restart)
NET_KINDS=(net_delay net_delay net_loss net_loss net_partition)
DISK_FAULTS=1
if [ -n "${ONLY_FAULTS:-}" ]; then # e.g. ONLY_FAULTS="master_restart disk_full"
    read -r -a FAULT_KINDS <<<"$ONLY_FAULTS"
    NET_KINDS=()
    [[ " $ONLY_FAULTS " == *" disk_full "* ]] || DISK_FAULTS=0
fi

rand_worker() { echo $((1 + RANDOM % NW)); }
rand_net_worker() { echo $((3 + RANDOM % (NW - 2))); }

net_apply() { # net_apply I delay|loss|partition
    local i=$1 m=(ip netns exec "$MNS") w=(ip netns exec "${WNS[$1]}")
    case $2 in
    delay)
        if [ $NETEM = 1 ]; then
            "${m[@]}" tc qdisc replace dev "vm$i" root netem delay 150ms 100ms
            "${w[@]}" tc qdisc replace dev "vw$i" root netem delay 150ms 100ms
        else
            "${m[@]}" tc qdisc replace dev "vm$i" root tbf rate 1mbit burst 8k latency 3s
            "${w[@]}" tc qdisc replace dev "vw$i" root tbf rate 1mbit burst 8k latency 3s
        fi ;;
    loss)
        if [ $NETEM = 1 ]; then
            "${m[@]}" tc qdisc replace dev "vm$i" root netem loss 15%
            "${w[@]}" tc qdisc replace dev "vw$i" root netem loss 15%
        else
            "${m[@]}" tc qdisc replace dev "vm$i" root tbf rate 8mbit burst 3k limit 3k
            "${w[@]}" tc qdisc replace dev "vw$i" root tbf rate 8mbit burst 3k limit 3k
        fi ;;
    partition)
        ip -n "$MNS" link set "vm$i" down
        ip -n "${WNS[$i]}" link set "vw$i" down ;;
    esac
}
net_clear() {
    local i=$1
    ip netns exec "$MNS" tc qdisc del dev "vm$i" root 2>/dev/null
    ip netns exec "${WNS[$i]}" tc qdisc del dev "vw$i" root 2>/dev/null
    ip -n "$MNS" link set "vm$i" up
    ip -n "${WNS[$i]}" link set "vw$i" up
    ip -n "${WNS[$i]}" route replace default via "10.231.$i.1" 2>/dev/null
    unset "NETCLEAR_AT[$i]"
}

inject() {
    local kind=${FAULT_KINDS[RANDOM % ${#FAULT_KINDS[@]}]} i
    [ $NETNS = 1 ] && [ ${#NET_KINDS[@]} -gt 0 ] && [ $((RANDOM % 3)) = 0 ] &&
        kind=${NET_KINDS[RANDOM % ${#NET_KINDS[@]}]}
    [[ $kind == net_* ]] && [ $NETNS = 0 ] && return 0
    case $kind in
    worker_kill | worker_stop | worker_restart)
        i=$(rand_worker)
        [ "${WPID[$i]:-0}" -gt 0 ] && [ -z "${WCONT_AT[$i]:-}" ] || return 0
        case $kind in
        worker_kill)
            send KILL "${WPID[$i]}"
            WRESTART_AT[$i]=$((SECONDS + RANDOM % 4)) ;;
        worker_stop)
            send STOP "${WPID[$i]}"
            WCONT_AT[$i]=$((SECONDS + 1 + RANDOM % 6)) ;;
        worker_restart)
            send TERM "${WPID[$i]}"
            WRESTART_AT[$i]=$SECONDS ;;
        esac
        say "fault $kind w$i (pid ${WPID[$i]})" ;;
    master_restart)
        # Only mid-job, and not more often than every 20 s.
        [ -n "$CUR_NAME" ] && [ $((SECONDS - CUR_START)) -ge 1 ] &&
            [ $((SECONDS - LAST_MASTER_RESTART)) -ge 20 ] || return 0
        restart_master ;;
    disk_full) return 0 ;; # not timed: submit_next draws it for a job
    net_*)
        i=$(rand_net_worker)
        [ -z "${NETCLEAR_AT[$i]:-}" ] || return 0
        net_apply "$i" "${kind#net_}" || { say "fault $kind w$i: tc failed"; return 0; }
        if [ "$kind" = net_partition ]; then
            NETCLEAR_AT[$i]=$((SECONDS + 2 + RANDOM % 5))
        else
            NETCLEAR_AT[$i]=$((SECONDS + 3 + RANDOM % 8))
        fi
        say "fault $kind w$i for $((NETCLEAR_AT[$i] - SECONDS)) s" ;;
    esac
    FAULTS[$kind]=$((FAULTS[$kind] + 1))
}

# Due actions: SIGCONT, worker restarts, network back to normal.
due() {
    local i
    for i in "${!WCONT_AT[@]}"; do
        if [ "${WCONT_AT[$i]}" -le $SECONDS ] || [ "${1:-}" = all ]; then
            kill -CONT "${WPID[$i]}" 2>/dev/null
            unset "WCONT_AT[$i]"
        fi
    done
    for i in "${!WRESTART_AT[@]}"; do
        if [ "${WRESTART_AT[$i]}" -le $SECONDS ] || [ "${1:-}" = all ]; then
            check_procs
            if [ "${WPID[$i]:-0}" -gt 0 ] && ! ended "${WPID[$i]}"; then
                if [ $((SECONDS - WRESTART_AT[$i])) -gt 20 ]; then
                    crash "worker w$i (pid ${WPID[$i]}) did not exit within 20 s of SIGTERM"
                    send KILL "${WPID[$i]}"
                fi
                continue # still stopping after SIGTERM
            fi
            start_worker "$i"
        fi
    done
    for i in "${!NETCLEAR_AT[@]}"; do
        if [ "${NETCLEAR_AT[$i]}" -le $SECONDS ] || [ "${1:-}" = all ]; then net_clear "$i"; fi
    done
}

# ---------------------------------------------------------------- the job in flight
CUR_NAME="" CUR_DIR="" CUR_ID="" CUR_START=0 CUR_FULL=0 CUR_LABEL="" CUR_VIA=""
LAST_MASTER_RESTART=0
NEXT_FULL="" # a job to run again on the freed disk
SEQ=0

submit_next() {
    local name full=0
    if [ -n "$NEXT_FULL" ]; then
        name=$NEXT_FULL NEXT_FULL="" full=2
    else
        name=${JOB_NAMES[RANDOM % ${#JOB_NAMES[@]}]}
        [ "$FULL_MOUNTED" = 1 ] && [ $DISK_FAULTS = 1 ] && [ $((RANDOM % 7)) = 0 ] && full=1
    fi
    SEQ=$((SEQ + 1))
    CUR_NAME=$name CUR_FULL=$full CUR_LABEL="job $SEQ $name" CUR_START=$SECONDS
    JOBS_RUN=$((JOBS_RUN + 1))
    if [ $full -gt 0 ]; then
        CUR_DIR=$T/full/j$SEQ
        rm -rf "$T/full"/j*
        mkdir -p "$CUR_DIR"
        if [ $full = 1 ]; then
            local leave=$(((RANDOM % 4) * 8192))
            fill_disk "$leave"
            FAULTS[disk_full]=$((FAULTS[disk_full] + 1))
            CUR_LABEL="$CUR_LABEL (full disk, $leave bytes free)"
        else
            CUR_LABEL="$CUR_LABEL (again on the freed disk)"
        fi
    else
        CUR_DIR=$T/out/j$SEQ
        mkdir -p "$CUR_DIR"
    fi
    send_current
}

send_current() {
    CUR_VIA=serve
    CUR_ID=$(api_submit "$(job_json "$CUR_NAME" "$CUR_DIR")") || CUR_ID=""
    if [ -z "$CUR_ID" ]; then
        say "$CUR_LABEL: could not be submitted; retrying"
        return 1
    fi
    say "$CUR_LABEL submitted as $CUR_ID"
}

finish_current() { # finish_current done|failed ERROR
    local st=$1 err=$2
    if [ "$CUR_FULL" = 1 ]; then
        if [ "$st" = "done" ]; then
            say "$CUR_LABEL: succeeded although the disk was full (there was room)"
            verify "$CUR_NAME" "$CUR_DIR" "$CUR_LABEL"
        else
            verify_full_failure "$CUR_NAME" "$CUR_DIR" "$CUR_LABEL" "$err"
        fi
        free_disk
        NEXT_FULL=$CUR_NAME
    elif [ "$st" = "done" ]; then
        verify "$CUR_NAME" "$CUR_DIR" "$CUR_LABEL"
    else
        mismatch "$CUR_LABEL: ended $st without a disk fault: $err"
    fi
    CUR_NAME="" CUR_ID=""
}

# SIGKILL the master mid-job; then resubmit to a new serve master, or finish
# the job with a one-shot --resume master first.
restart_master() {
    local how=resubmit
    [ $((RANDOM % 2)) = 0 ] && how=resume
    track_rss
    say "fault master_restart (pid $MPID, $MKIND) during $CUR_LABEL, then $how"
    send KILL "$MPID"
    local deadline=$((SECONDS + 10))
    while ! ended "$MPID" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    check_procs
    LAST_MASTER_RESTART=$SECONDS
    if [ $how = resume ]; then
        # shellcheck disable=SC2046
        start_master $(job_cli "$CUR_NAME" "$CUR_DIR") --resume
        CUR_VIA=resume CUR_START=$SECONDS
        JOBS_RESUMED=$((JOBS_RESUMED + 1))
        CUR_LABEL="$CUR_LABEL (resumed)"
    else
        start_master serve || { crash "the serve master did not come back"; return 1; }
        CUR_LABEL="$CUR_LABEL (resubmitted)" CUR_START=$SECONDS
        send_current
    fi
}

# A serve master that ended unasked is started again, and the job it ran is
# submitted again (crash() has counted it).
ensure_master() {
    [ "$MPID" = 0 ] && [ "$CUR_VIA" != resume ] || return 0
    start_master serve || { crash "the serve master did not come back"; return 1; }
    [ -n "$CUR_NAME" ] && { CUR_LABEL="$CUR_LABEL (resubmitted)"; send_current; }
    return 0
}

poll_current() {
    if [ "$CUR_VIA" = resume ]; then
        ended "$MPID" || return 0
        local pid=$MPID rc
        wait "$pid"
        rc=$?
        unset "PROLE[$pid]" "PSENT[$pid]"
        MPID=0
        say "$CUR_LABEL: the --resume master exited with $rc ($(grep -m1 -o -E 'resum(e|ing): [^;]*' "$MLOG" || echo 'no resume line'))"
        if [ $rc -gt 128 ]; then
            crash "master --resume died by signal $((rc - 128))"
        fi
        if [ $rc = 0 ]; then finish_current "done" ""; else finish_current failed "exit $rc: $(tail -1 "$MLOG")"; fi
        start_master serve || crash "the serve master did not come back"
        return 0
    fi
    [ -n "$CUR_ID" ] || { send_current; return 0; }
    local st
    st=$(api_job "$CUR_ID")
    case ${st%%$'\t'*} in
    done | failed) finish_current "${st%%$'\t'*}" "${st#*$'\t'}" ;;
    esac
}

# ---------------------------------------------------------------- main
if ! setup_net; then teardown_net; NETNS=0; MNS=""; WNS=(); fi
if mount -t tmpfs -o size=1m,mode=0755 tmpfs "$T/full" 2>"$T/mount.err"; then
    FULL_MOUNTED=1
    DISK_NOTE="disk_full: 1 MB tmpfs at $T/full"
else
    DISK_NOTE="disk_full skipped: mount -t tmpfs is not permitted ($(head -c 120 "$T/mount.err"))"
fi
if [ $NETNS = 1 ]; then
    MIP=10.231.0.1 TPORT=5555 RPORT=5556 HPORT=5557 DPORT=5051
else
    . "$ROOT/tests/e2e/lib.sh" # free_port only
    trap cleanup EXIT
    MIP=127.0.0.1 TPORT=$(free_port) RPORT=$(free_port) HPORT=$(free_port) DPORT=$(free_port)
fi
cat >"$T/config.json" <<JSON
{
  "master": {"ip": "$MIP", "task_port": $TPORT, "result_port": $RPORT, "heartbeat_port": $HPORT},
  "dashboard": {"host": "127.0.0.1", "port": $DPORT, "token": "", "files": "$T"},
  "cluster": {"heartbeat_ms": 500, "liveness": 3, "shard_rows": 500},
  "history": {"db": "$T/history.db", "retention_days": 7},
  "model": {"file": "$T/out/default-model.txt"},
  "output": {"train": "$T/out/default-train.csv", "test": "$T/out/default-test.csv"}
}
JSON
say "seed $SEED, $NW workers, binaries $BIN, work directory $T"
say "$NET_NOTE"
say "$DISK_NOTE"
gen_data "$TRAIN_ROWS" 1 "$D/train.csv" "$D/train.svm"
gen_data "$TEST_ROWS" 2 "$D/test.csv" "$D/test.svm"

start_master serve || { FAILED_RUN=1; exit 2; }
for ((i = 1; i <= NW; i++)); do start_worker "$i"; done

say "reference run (no faults)"
t0=$SECONDS
for name in "${JOB_NAMES[@]}"; do
    run_clean "$name" "$T/ref/$name" || { FAILED_RUN=1; say "reference run failed; see $T/logs"; exit 2; }
done
say "reference run done in $((SECONDS - t0)) s"

END_AT=$((SECONDS + DURATION))
NEXT_FAULT=$((SECONDS + FAULT_MIN))
while [ $SECONDS -lt $END_AT ]; do
    check_procs
    track_rss
    due
    if [ $SECONDS -ge $NEXT_FAULT ]; then
        inject
        NEXT_FAULT=$((SECONDS + FAULT_MIN + RANDOM % (FAULT_MAX - FAULT_MIN + 1)))
    fi
    ensure_master
    if [ -z "$CUR_NAME" ]; then
        submit_next
    else
        poll_current
        if [ -n "$CUR_NAME" ] && [ $((SECONDS - CUR_START)) -gt "$JOB_TIMEOUT" ]; then
            mismatch "$CUR_LABEL: not finished after $JOB_TIMEOUT s (hang); master log $MLOG"
            CUR_NAME="" CUR_ID=""
            [ "$CUR_VIA" = resume ] && { send KILL "$MPID"; check_procs; }
            CUR_VIA=""
        fi
    fi
    sleep 0.3
done

# Drain: no more faults; let the job in flight finish.
say "time is up: faults stop, waiting for the job in flight"
due all
drain_deadline=$((SECONDS + JOB_TIMEOUT))
while [ -n "$CUR_NAME" ] && [ $SECONDS -lt $drain_deadline ]; do
    check_procs
    track_rss
    ensure_master || break
    poll_current
    sleep 0.3
done
[ -n "$CUR_NAME" ] && mismatch "$CUR_LABEL: not finished $JOB_TIMEOUT s after the end (hang)"
[ "$FULL_MOUNTED" = 1 ] && free_disk

# Nothing is in flight now: a job that /api/jobs still shows queued or running
# is stuck there (a killed master's job, say).
STUCK=0
if [ "$MPID" -gt 0 ] && [ "$MKIND" = serve ]; then
    while IFS= read -r j; do
        [ -n "$j" ] || continue
        STUCK=$((STUCK + 1))
        MISMATCH_NOTES+=("stuck state in /api/jobs after the run: $j")
    done < <(in_ns "$MNS" curl -s -m 10 "http://127.0.0.1:$DPORT/api/jobs" 2>/dev/null |
        jq -r '.[] | select(.state == "running" or .state == "queued") | "job \(.id) \(.mode) \(.data) \(.state)"' 2>/dev/null)
    [ $STUCK -gt 0 ] && say "$STUCK job(s) stuck queued/running in /api/jobs with nothing in flight"
fi

# Stop everything with SIGTERM: each must exit within 20 s.
STOPPING=1
check_procs
track_rss
for pid in "${!PROLE[@]}"; do send TERM "$pid"; done
stop_deadline=$((SECONDS + 20))
while [ ${#PROLE[@]} -gt 0 ] && [ $SECONDS -lt $stop_deadline ]; do
    check_procs
    sleep 0.2
done
for pid in "${!PROLE[@]}"; do
    crash "${PROLE[$pid]} (pid $pid) did not exit within 20 s of SIGTERM"
    send KILL "$pid"
done
check_procs

# Memory errors and cores.
while IFS= read -r hit; do
    crash "sanitizer: $hit"
done < <(grep -H -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|AddressSanitizer:DEADLYSIGNAL' "$T"/logs/*.log 2>/dev/null)
while IFS= read -r core; do
    crash "core file $core"
done < <(find "$T" -xdev -name 'core*' -type f 2>/dev/null)

faults=""
for k in worker_kill worker_stop worker_restart master_restart net_delay net_loss net_partition disk_full; do
    faults="$faults $k=${FAULTS[$k]}"
done
[ $NETNS = 0 ] && faults="$faults (net skipped)"
[ $FULL_MOUNTED = 0 ] && faults="$faults (disk skipped)"
for n in "${MISMATCH_NOTES[@]}"; do echo "soak: mismatch: $n" >&3; done
for n in "${CRASH_NOTES[@]}"; do echo "soak: crash: $n" >&3; done
[ $((MISMATCHES + CRASHES + STUCK)) -gt 0 ] && FAILED_RUN=1
COMPLETED=1
echo "soak: ${DURATION} s, seed $SEED, $( [ "${SAN:-0}" = 1 ] && echo SAN || echo release): jobs $JOBS_RUN ($JOBS_OK matched: $JOBS_IDENT identical, $JOBS_TOL model within $MODEL_TOL; $JOBS_FULL_CLEAN failed cleanly on a full disk; $JOBS_RESUMED finished by --resume), faults$faults, mismatches $MISMATCHES ($PARTIAL partial outputs of failed jobs), stuck job states $STUCK, crashes $CRASHES, master peak RSS $((PEAK_RSS_KB / 1024)) MB"
[ $FAILED_RUN = 0 ]
exit
}
