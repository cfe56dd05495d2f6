#!/usr/bin/env bash
# Star against reduction tree (cluster.reduce), measured with every process
# behind its own shaped link: the master and N workers each in a network
# namespace, joined through a bridge by veth pairs shaped to RATE on both
# ends (scripts/bench/cluster.sh, cl_lan_up with CL_LAN_MASTER=1). Needs
# root (ip netns, tc). Not in the default `make bench`:
#
#   make bench-tree                  (or: ROWS=tree scripts/bench.sh)
#   sudo scripts/bench/tree.sh       standalone; prints the table
#
# Environment: TREE_RATES (default "1gbit 100mbit"), TREE_WORKERS (default
# "2 4 8"), TREE_SHAPES (gensparse arguments, shapes separated by ";";
# default a 20,000 x 20,000 8-class set whose every worker's rows cover
# nearly every column, so that a worker's vectors are as long as the
# model's, the case a tree is for; and an rcv1-like binary set, 100,000 x
# 1,000,000 with 30 non-zeros a row under a Zipf law, where each worker's
# vectors hold a part of the columns and a tree's inner nodes hold the union
# of their subtree's).
#
# Each row: one training run, its Newton rounds only (the master's
# "traffic:" line and TRON time): MB the master sent and received a round,
# messages it received a round, and wall ms a round. All workers share this
# machine's cores, so time a round includes compute contending for them;
# bytes and messages do not depend on that. cluster.liveness is 30 here:
# with 100 Mbit/s links the shards take seconds to reach the workers, and
# PINGs queued behind them would otherwise get workers declared lost.
#
# As a library (from scripts/bench.sh, after cluster.sh): tree_bench adds
# rows with `row`.

# tree_run MODE N CFG FILE TAG: one training run; sets TR_* or returns 1.
tree_run() {
    local mode=$1 n=$2 cfg=$3 file=$4 tag=$5 log
    log=$WORK/$tag.log
    CL_LOG_TAG=$tag cl_workers_start "$cfg" "$n" "${CL_NS[@]:0:$n}"
    ip netns exec "$CL_MASTER_NS" "$BIN/master" train --config "$cfg" --data "$file" \
        --no-dashboard --min-workers "$n" --parallel rows --solver 0 \
        --set "cluster.reduce=$mode" --model "$WORK/$tag.model" --out "$WORK/$tag.sub.csv" \
        >"$WORK/$tag.out" 2>"$log"
    local rc=$?
    cl_workers_stop
    [ "$rc" = 0 ] || { TR_WHY="master exit $rc: $(tail -1 "$log")"; return 1; }
    # traffic: S MB sent to workers, R MB received in K rounds (...), C CG steps, M messages...
    read -r TR_SENT TR_RECV TR_ROUNDS TR_MSGS < <(sed -n \
        's/.*traffic: \([0-9.]*\) MB sent to workers, \([0-9.]*\) MB received in \([0-9]*\) rounds.* \([0-9.]*\) messages received a round.*/\1 \2 \3 \4/p' \
        "$log" | tail -1)
    TR_SECS=$(sed -n 's/.*TRON finished in \([0-9.]*\) s.*/\1/p' "$log" | tail -1)
    TR_DIRECT=$(sed -n 's/.*rounds summed by the workers, \([0-9]*\) part.*/\1/p' "$log" | tail -1)
    TR_OBJ=$("$BIN/primal" "$WORK/$tag.model" "$file" 1 0 2>/dev/null || echo "?")
    [ -n "${TR_ROUNDS:-}" ] && [ -n "${TR_SECS:-}" ] || { TR_WHY="no traffic line in $log"; return 1; }
}

tree_bench() {
    local shapes=${TREE_SHAPES:-20000 20000 200 8 0 7;100000 1000000 30 2 1 7} shape
    local IFS_OLD=$IFS
    IFS=';'
    for shape in $shapes; do
        IFS=$IFS_OLD
        tree_shape "$shape"
    done
    IFS=$IFS_OLD
}

# tree_shape "GENSPARSE ARGS": every rate, worker count and mode on one data set.
tree_shape() {
    local rates=${TREE_RATES:-1gbit 100mbit} counts=${TREE_WORKERS:-2 4 8}
    local shape=$1 file rate n mode max=0 cfg short
    short=$(cut -d' ' -f1-4 <<<"$shape" | tr ' ' x)
    for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
    file=$WORK/tree_$(tr ' ' _ <<<"$shape").svm
    if [ ! -s "$file" ]; then
        # shellcheck disable=SC2086
        "$BIN/gensparse" $shape >"$file.tmp" && mv "$file.tmp" "$file" ||
            { row "tree" "star vs tree" "skipped: gensparse $shape failed" "—" "—" ""; return 0; }
    fi
    for rate in $rates; do
        CL_LAN_RATE=$rate CL_LAN_MASTER=1 cl_lan_up "$max" || {
            row "tree" "star vs tree, $rate" "skipped: $CL_LAN_WHY" "—" "—" ""
            cl_lan_down
            return 0
        }
        cfg=$WORK/tree_$rate.json
        cl_config "$cfg" 10.200.0.2 || { row "tree" "$rate" "no free ports" "—" "—" ""; cl_lan_down; return 0; }
        # Shards going out fill a 100 Mbit/s link for seconds, and a PING
        # queued behind them arrives late: a longer liveness keeps workers
        # from being declared lost while the data is still on its way (what
        # is measured here is the Newton rounds, not failure detection).
        sed -i '0,/^{/s//{\n  "cluster": {"liveness": 30},\n  "worker": {"tree_port": 0},/' "$cfg"
        for n in $counts; do
            for mode in star tree; do
                local tag=tree_${short}_${rate}_w${n}_$mode
                if tree_run "$mode" "$n" "$cfg" "$file" "$tag"; then
                    local ms sent recv
                    ms=$(awk -v s="$TR_SECS" -v k="$TR_ROUNDS" 'BEGIN { printf "%.0f", 1000 * s / k }')
                    sent=$(awk -v s="$TR_SENT" -v k="$TR_ROUNDS" 'BEGIN { printf "%.2f", s / k }')
                    recv=$(awk -v s="$TR_RECV" -v k="$TR_ROUNDS" 'BEGIN { printf "%.2f", s / k }')
                    row "tree" "$short, $rate, $n workers, $mode" "$ms ms a round" "—" "—" \
                        "master a round: $sent MB out, $recv MB in, $TR_MSGS messages in; $TR_ROUNDS rounds, objective $TR_OBJ${TR_DIRECT:+, $TR_DIRECT parts asked directly}"
                else
                    row "tree" "$short, $rate, $n workers, $mode" "failed" "—" "—" "$TR_WHY"
                fi
            done
        done
        NOTES+=("tree ($short, $rate): $CL_LAN_SHAPE; master in its own namespace behind the same shaping; data: gensparse $shape (rows features nnz classes skew seed).")
        cl_lan_down
    done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -uo pipefail
    cd "$(dirname "$0")/../.."
    BIN=${NC_REL_BIN:-bin}
    WORK=build/bench
    mkdir -p "$WORK"
    # shellcheck source=scripts/bench/cluster.sh
    . scripts/bench/cluster.sh
    trap cl_cleanup EXIT
    trap 'exit 130' INT TERM
    TABLE=()
    NOTES=()
    row() { TABLE+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
    tree_bench
    echo "| row | what | ours | liblinear | ratio | notes |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${TABLE[@]}"
    echo
    printf -- '- %s\n' "${NOTES[@]}"
fi
