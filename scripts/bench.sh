#!/usr/bin/env bash
# NetCompute benchmark: one table, every comparison measured in the same run.
#
#   scripts/bench.sh            full Fashion-MNIST (60,000 train / 10,000 test)
#   QUICK=1 scripts/bench.sh    12,000 / 2,000 demo subset, well under 3 minutes
#
# Environment (all optional):
#   QUICK=1          small data set
#   ROWS=a,b,...     run only these sections: dispatch ingest train predict
#                    memory lan (default: all)
#   REPEAT=N         runs of each short measurement, median reported (default 3)
#   BENCH_OUT=FILE   also write the table there (default Data/bench.md)
#
# Every figure in the table comes from a command run by this script in this
# run; raw outputs (/usr/bin/time -v, predictions, models) are kept in
# build/bench/ for checking. A row that is not measured says so: this script
# never prints a figure it did not measure.
#
# Layout: each section is a function that measures and calls `row` to add
# lines to the table; `main` runs the sections and prints the table once at the
# end. The liblinear baseline runs before the cluster rows of the same section
# and leaves its figures in LL_* variables for the ratios.
set -uo pipefail
cd "$(dirname "$0")/.."

QUICK=${QUICK:-0}
REPEAT=${REPEAT:-3}
SECTIONS=${ROWS:-dispatch,ingest,train,predict,memory,lan}
BENCH_OUT=${BENCH_OUT:-Data/bench.md}
BIN=${NC_REL_BIN:-bin}
WORK=build/bench
mkdir -p "$WORK"

if [ "$QUICK" = 1 ]; then
    DATA_DIR=Data
else
    DATA_DIR=Data/full
fi
TRAIN_SVM=$DATA_DIR/train.svm
TEST_SVM=$DATA_DIR/test.svm
TRAIN_CSV=$DATA_DIR/train.csv
TEST_CSV=$DATA_DIR/test.csv

TABLE=()  # table lines, in the order the rows were measured
NOTES=()  # footnotes printed under the table

die() {
    echo "bench: $*" >&2
    exit 1
}

# row ROW WHAT OURS LIBLINEAR RATIO NOTES: adds one line to the table.
row() {
    TABLE+=("| $1 | $2 | $3 | $4 | $5 | $6 |")
}

# todo ROW WHAT [LIBLINEAR]: a row whose cluster measurement is not written
# yet, next to the liblinear figure it will be compared with, if any.
todo() {
    row "$1" "$2" "not measured yet" "${3:-—}" "—" "TODO"
}

want() {
    [[ ",$SECTIONS," == *",$1,"* ]]
}

# Number of data rows in a libsvm file.
lines_of() {
    wc -l <"$1" | tr -d ' '
}

# timed NAME CMD...: runs CMD under /usr/bin/time -v, keeping its stdout in
# $WORK/NAME.out and the time report in $WORK/NAME.time. Sets T_SEC (wall
# seconds) and T_RSS_MB (peak resident set size in MB). Returns CMD's status.
timed() {
    local name=$1
    shift
    /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    local rc=$?
    T_SEC=$(awk -F': ' '/Elapsed \(wall clock\)/ {
                n = split($2, p, ":"); s = 0
                for (i = 1; i <= n; i++) s = s * 60 + p[i]
                printf "%.2f", s }' "$WORK/$name.time")
    T_RSS_MB=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' \
               "$WORK/$name.time")
    if [ "$rc" -ne 0 ]; then
        echo "bench: '$*' failed (status $rc); see $WORK/$name.err" >&2
    fi
    return "$rc"
}

# timed_median NAME N CMD...: runs `timed` N times; T_SEC is the median wall
# time, T_RSS_MB the largest peak RSS, T_RUNS the list of wall times.
timed_median() {
    local name=$1 n=$2
    shift 2
    local times=() rss=0 i
    for ((i = 1; i <= n; i++)); do
        timed "$name" "$@" || return 1
        times+=("$T_SEC")
        [ "$T_RSS_MB" -gt "$rss" ] && rss=$T_RSS_MB
    done
    T_RUNS=${times[*]}
    T_SEC=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    T_RSS_MB=$rss
}

# ratio OURS_SEC BASE_SEC: "0.52x" (ours / liblinear: below 1 means faster).
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "—" }'
}

# "Accuracy = 84.18% (8418/10000)" -> "84.18 %"
accuracy_of() {
    sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1 %/p' "$1" | tail -1
}

# ---------------------------------------------------------------- baseline --

# liblinear-train -s SOLVER -B 1 on the training set. Sets LL_TRAIN_SEC_<s>,
# LL_TRAIN_RSS_<s> and leaves the model in $WORK/ll_s<s>.model.
baseline_train() {
    local s=$1 n
    n=$(lines_of "$TRAIN_SVM")
    timed "ll_train_s$s" liblinear-train -q -s "$s" -B 1 "$TRAIN_SVM" "$WORK/ll_s$s.model" || {
        row "train" "liblinear-train -s $s -B 1, $n rows" "—" "failed" "—" "see $WORK/ll_train_s$s.err"
        return 1
    }
    printf -v "LL_TRAIN_SEC_$s" '%s' "$T_SEC"
    printf -v "LL_TRAIN_RSS_$s" '%s' "$T_RSS_MB"
    # Test accuracy of this model, so the cluster's accuracy has a reference.
    liblinear-predict "$TEST_SVM" "$WORK/ll_s$s.model" "$WORK/ll_s$s.test.pred" \
        >"$WORK/ll_s$s.test.acc" 2>&1
    local acc
    acc=$(accuracy_of "$WORK/ll_s$s.test.acc")
    printf -v "LL_TEST_ACC_$s" '%s' "$acc"
    row "train" "liblinear-train -s $s -B 1, $n rows x 784 (baseline)" "—" \
        "$T_SEC s, $T_RSS_MB MB" "—" "1 run; test accuracy $acc"
}

# liblinear-predict with the -s 0 model on FILE. Sets LL_PRED_SEC_<tag>,
# LL_PRED_ACC_<tag>; predictions kept in $WORK/ll_<tag>.pred.
baseline_predict() {
    local tag=$1 file=$2 n acc
    n=$(lines_of "$file")
    [ -f "$WORK/ll_s0.model" ] || {
        row "predict" "liblinear-predict, $n $tag rows" "—" "no model" "—" "train -s 0 failed or skipped"
        return 1
    }
    timed_median "ll_pred_$tag" "$REPEAT" \
        liblinear-predict "$file" "$WORK/ll_s0.model" "$WORK/ll_$tag.pred" || {
        row "predict" "liblinear-predict, $n $tag rows" "—" "failed" "—" "see $WORK/ll_pred_$tag.err"
        return 1
    }
    acc=$(accuracy_of "$WORK/ll_pred_$tag.out")
    printf -v "LL_PRED_SEC_$tag" '%s' "$T_SEC"
    printf -v "LL_PRED_ACC_$tag" '%s' "$acc"
    row "predict" "liblinear-predict -s 0 model, $n $tag rows (baseline)" "—" \
        "$T_SEC s, $T_RSS_MB MB" "—" "median of $REPEAT ($T_RUNS); accuracy $acc"
}

# ------------------------------------------------------------ cluster rows --
# Each function below adds the cluster's rows for one section, using the LL_*
# figures above for the ratio column. They are filled in by the lead; until
# then they print "not measured yet" and nothing else.

# TODO(dispatch): bin/master bench-dispatch --tasks N --payload BYTES with 2
# local workers; median of REPEAT; tasks/s, MB/s, p50/p99 latency.
cluster_dispatch() {
    todo "dispatch" "bench-dispatch, 2 workers: tasks/s, MB/s, p50/p99 latency"
}

# TODO(ingest): CSV parse MB/s per core (common/ reader on $TRAIN_CSV) and the
# master's split into shards in GB/s.
cluster_ingest() {
    todo "ingest" "CSV parse MB/s per core, $TRAIN_CSV"
    todo "ingest" "master split into shards, GB/s"
}

# TODO(train): bin/master train --strategy exact -s 0 on $TRAIN_CSV
# (data.scale none) with 1, 2 and 4 local workers; wall time, ratio against
# LL_TRAIN_SEC_0, test accuracy against LL_TEST_ACC_0.
cluster_train() {
    local w ll="—"
    [ -n "${LL_TRAIN_SEC_0:-}" ] && ll="$LL_TRAIN_SEC_0 s, test $LL_TEST_ACC_0"
    for w in 1 2 4; do
        todo "train" "exact L2R_LR -B 1, $w worker$([ "$w" = 1 ] || echo s), $TRAIN_CSV" "$ll"
    done
}

# TODO(predict): bin/master test with 2 workers on the training rows; wall
# time against LL_PRED_SEC_train, predictions compared line by line with
# $WORK/ll_train.pred.
cluster_predict() {
    local ll="—"
    [ -n "${LL_PRED_SEC_train:-}" ] && ll="$LL_PRED_SEC_train s, $LL_PRED_ACC_train"
    todo "predict" "2 workers, $TRAIN_CSV; predictions identical to liblinear's?" "$ll"
}

# TODO(memory): peak RSS of master and each worker during the train row.
cluster_memory() {
    todo "memory" "peak RSS, master"
    todo "memory" "peak RSS, each worker"
}

# TODO(lan): the train row again with workers in network namespaces (veth
# pairs, tc netem rate 1gbit delay 0.2ms); needs root and iproute2.
cluster_lan() {
    local ll="—"
    [ -n "${LL_TRAIN_SEC_0:-}" ] && ll="$LL_TRAIN_SEC_0 s"
    todo "LAN" "exact L2R_LR -B 1, 2 workers in netns, 1 Gbit/s + 0.2 ms" "$ll"
}

# ------------------------------------------------------------------- main --

main() {
    command -v liblinear-train >/dev/null && command -v liblinear-predict >/dev/null ||
        die "liblinear-train/liblinear-predict not found; install liblinear-tools (scripts/deps.sh bench)"
    [ -x /usr/bin/time ] || die "/usr/bin/time not found; install the Debian package 'time'"
    if [ "$QUICK" = 1 ]; then
        scripts/prepare-data.sh || die "scripts/prepare-data.sh failed"
    else
        FULL=1 scripts/prepare-data.sh || die "FULL=1 scripts/prepare-data.sh failed"
    fi
    local t0=$SECONDS
    local load_before
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)

    want dispatch && cluster_dispatch
    want ingest && cluster_ingest
    if want train; then
        baseline_train 0
        baseline_train 2
        cluster_train
    fi
    if want predict; then
        if ! want train && [ ! -f "$WORK/ll_s0.model" ]; then
            liblinear-train -q -s 0 -B 1 "$TRAIN_SVM" "$WORK/ll_s0.model" >/dev/null
        fi
        baseline_predict test "$TEST_SVM"
        baseline_predict train "$TRAIN_SVM"
        cluster_predict
    fi
    want memory && cluster_memory
    want lan && cluster_lan

    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    {
        echo
        echo "NetCompute bench $([ "$QUICK" = 1 ] && echo "(QUICK: 12,000/2,000 subset)" || echo "(full Fashion-MNIST 60,000/10,000)")," \
             "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($cpu)," \
             "load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg); $((SECONDS - t0)) s"
        echo "data: $TRAIN_SVM / $TEST_SVM (liblinear), $TRAIN_CSV / $TEST_CSV (cluster); ratio = ours / liblinear"
        echo
        echo "| row | what | ours | liblinear | ratio | notes |"
        echo "|---|---|---|---|---|---|"
        printf '%s\n' "${TABLE[@]}"
        [ ${#NOTES[@]} -eq 0 ] || printf '\n%s\n' "${NOTES[@]}"
    } | tee "$BENCH_OUT"
}

main "$@"
