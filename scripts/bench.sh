#!/usr/bin/env bash
# NetCompute benchmark: one table, every comparison measured in the same run.
#
#   scripts/bench.sh            full Fashion-MNIST (60,000 train / 10,000 test)
#   QUICK=1 scripts/bench.sh    12,000 / 2,000 demo subset, sparse rows / 5
#
# Every cluster row runs what a user runs: the default configuration, with the
# dashboard (a free port of its own for each master run) and the history
# (SQLite under build/bench/) on. Rows that turn something off or on say so
# and stand next to their default twin.
#
# Sections (ROWS=a,b,... picks some; default: all, in this order):
#   dispatch  bin/master bench-dispatch, 2 workers: empty tasks and 8 MB
#             payloads (a cluster self-test, run with --no-dashboard)
#   ingest    bin/data_bench: CSV parsing and the master's split, one core;
#             the vocabulary pass of a generated free-text CSV beside it
#   train     liblinear-train -s 0 / -s 2 -B 1 against exact training with 1, 2
#             (and 4) workers; the 2-worker -s 0 row again with --no-dashboard
#             and with CURVE on (ratios from REPEAT alternating runs); the demo
#             (scripts/demo.sh's train on Data/train.csv) with the dashboard on
#             and off (with QUICK=1 that is the 2-worker row itself)
#   predict   liblinear-predict against bin/master test with liblinear's model
#   sparse    bin/gensparse data (rcv1-shaped binary, 20 classes x 200,000
#             features), liblinear-train -s 0 -B 1 against 2 workers, with the
#             master's and workers' peak RSS and the issue's bound on the
#             master's (8 x model size + 100 MB)
#   text      bin/gentext CSV with a free-text column (500 MB; QUICK 100 MB),
#             2 workers: the vocabulary pass (schema pass with --text) per
#             core against the numeric schema pass of the train section's
#             2-worker row
#   memory    peak RSS of the 2-worker train and predict runs
#   lan       the 2-worker train row with workers in network namespaces behind
#             1 Gbit/s links (root only)
#   search    liblinear-train -C -v 5 -s 0 -B 1 on the first SEARCH_ROWS
#             (20,000) rows of the Fashion-MNIST training set against
#             bin/master search --cv 5 --no-final with 2 workers over the C
#             values liblinear visited (its log2c lines, as --C-list): both
#             times, best C's and CV accuracies; liblinear takes minutes
#             here (not with QUICK=1 unless asked); ROWS=search runs it alone
#   tree      not in the default set (ROWS=tree, or make bench-tree): star
#             against reduction tree with the master and 2..8 workers each
#             behind a shaped link, 1 Gbit/s and 100 Mbit/s (root only;
#             scripts/bench/tree.sh)
# Every training row states liblinear's primal objective of our model and of
# liblinear-train's on the same libsvm rows (bin/primal), and the master's
# traffic per round when the master logs it ("traffic: ..." at the end of exact
# training).
#
# Environment (all optional):
#   QUICK=1          small data set
#   ROWS=a,b,...     run only these sections (names above)
#   REPEAT=N         runs of each short measurement, median reported (default 3)
#   SEARCH_ROWS=N    rows of the search section (default 20000)
#   BENCH_OUT=FILE   also write the table there (default Data/bench.md)
#   WAIT_QUIET=S     first wait up to S seconds for a load average below 1
#
# Every figure in the table comes from a command run by this script in this
# run; raw outputs (/usr/bin/time -v, predictions, models) are kept in
# build/bench/ for checking (generated sparse files stay there, keyed by their
# gensparse arguments). A row that is not measured says so: this script never
# prints a figure it did not measure.
#
# Layout: each section is a function that measures and calls `row` to add
# lines to the table; `main` runs the sections and prints the table once at the
# end. The liblinear baseline runs before the cluster rows of the same section
# and leaves its figures in LL_* arrays (by model prefix) for the ratios.
set -uo pipefail
cd "$(dirname "$0")/.."

QUICK=${QUICK:-0}
REPEAT=${REPEAT:-3}
if [ "$QUICK" = 1 ]; then # the search's liblinear baseline alone takes minutes
    SECTIONS=${ROWS:-dispatch,ingest,train,predict,sparse,text,memory,lan}
else
    SECTIONS=${ROWS:-dispatch,ingest,train,predict,sparse,text,memory,lan,search}
fi
BENCH_OUT=${BENCH_OUT:-Data/bench.md}
BIN=${NC_REL_BIN:-bin}
WORK=build/bench
mkdir -p "$WORK"
# shellcheck source=scripts/bench/cluster.sh
. scripts/bench/cluster.sh
trap cl_cleanup EXIT
trap 'exit 130' INT TERM

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
# liblinear baselines, by model prefix ($WORK/ll_s0, ...): wall seconds, peak
# RSS MB, test accuracy, primal objective
declare -A LL_SEC=() LL_RSS=() LL_ACC=() LL_OBJ=()

die() {
    echo "bench: $*" >&2
    exit 1
}

# row ROW WHAT OURS LIBLINEAR RATIO NOTES: adds one line to the table.
row() {
    TABLE+=("| $1 | $2 | $3 | $4 | $5 | $6 |")
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
# seconds), T_CPU (user + system CPU seconds) and T_RSS_MB (peak resident set
# size in MB). Returns CMD's status.
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
    T_CPU=$(awk -F': ' '/(User|System) time \(seconds\)/ { s += $2 } END { printf "%.2f", s }' \
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

# liblinear's primal objective (C 1, the default of both) of MODEL on the
# libsvm file SVM for SOLVER, by bin/primal; "?" when it cannot be computed.
objective_of() {
    "$BIN/primal" "$1" "$2" 1 "$3" 2>>"$WORK/primal.err" || echo "?"
}

# baseline_train S [PREFIX TRAIN TEST]: liblinear-train -s S -B 1 on TRAIN
# (default $TRAIN_SVM) into PREFIX.model (default $WORK/ll_sS), then the test
# accuracy on TEST (default $TEST_SVM) with predictions in PREFIX.test.pred.
# Sets LL_SEC, LL_RSS, LL_ACC and LL_OBJ (primal objective) [PREFIX], and for
# the default prefix LL_TRAIN_SEC_<s>, LL_TRAIN_RSS_<s>, LL_TEST_ACC_<s>.
baseline_train() {
    local s=$1 prefix=${2:-$WORK/ll_s$1} train=${3:-$TRAIN_SVM} test=${4:-$TEST_SVM} n tag
    n=$(lines_of "$train")
    tag=$(basename "$prefix")
    timed "${tag}_train" liblinear-train -q -s "$s" -B 1 "$train" "$prefix.model" || {
        row "train" "liblinear-train -s $s -B 1, $n rows" "—" "failed" "—" "see $WORK/${tag}_train.err"
        return 1
    }
    LL_SEC[$prefix]=$T_SEC
    LL_RSS[$prefix]=$T_RSS_MB
    # Test accuracy of this model, so the cluster's accuracy has a reference.
    liblinear-predict "$test" "$prefix.model" "$prefix.test.pred" >"$prefix.test.acc" 2>&1
    LL_ACC[$prefix]=$(accuracy_of "$prefix.test.acc")
    LL_OBJ[$prefix]=$(objective_of "$prefix.model" "$train" "$s")
    if [ "$prefix" = "$WORK/ll_s$s" ]; then
        printf -v "LL_TRAIN_SEC_$s" '%s' "$T_SEC"
        printf -v "LL_TRAIN_RSS_$s" '%s' "$T_RSS_MB"
        printf -v "LL_TEST_ACC_$s" '%s' "${LL_ACC[$prefix]}"
    fi
    row "train" "liblinear-train -s $s -B 1, $n rows x 784 of $train (baseline)" "—" \
        "$T_SEC s, $T_RSS_MB MB" "—" "1 run; test accuracy ${LL_ACC[$prefix]}; primal objective ${LL_OBJ[$prefix]}"
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
# figures above for the ratio column. Every cluster runs on a private config
# with free loopback ports (scripts/bench/cluster.sh), so a demo or a test on
# the default ports is never disturbed; workers have one slot each.

# median of the numbers on stdin ("?" when none)
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "?"; else if (NR % 2) print v[(NR + 1) / 2]
        else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# field NAME FILE: the number after NAME on bench-dispatch's result line
field() {
    awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$2"
}

# predicted_col CSV: the "predicted" column of a submission, one label a line
predicted_col() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "predicted") c = i; next }
             { print $c }' "$1"
}

# agreement A B: "99.98 % (5 differ of 60000)" for two files of one label a line
agreement() {
    paste -d' ' "$1" "$2" | awk '{ n++; if ($1 + 0 != $2 + 0) d++ }
        END { if (n == 0) print "no rows"; else printf "%.2f %% (%d differ of %d)", 100 * (n - d) / n, d, n }'
}

# bench-dispatch with 2 local workers: empty tasks (tasks/s, p50/p99 latency)
# and 8 MB payloads (MB/s), median of REPEAT runs each.
cluster_dispatch() {
    local cfg=$WORK/dispatch.json i tag n_empty n_big
    n_empty=$([ "$QUICK" = 1 ] && echo 50000 || echo 200000)
    n_big=$([ "$QUICK" = 1 ] && echo 50 || echo 200)
    cl_config "$cfg" || {
        row "dispatch" "bench-dispatch" "not measured: no free port" "—" "—" ""
        return 1
    }
    CL_LOG_TAG=dispatch cl_workers_start "$cfg" 2
    local tps=() p50=() p99=() mbs=() bp50=() bp99=() ok=1
    for ((i = 1; i <= REPEAT; i++)); do
        tag=dispatch_empty_$i
        timed "$tag" "$BIN/master" bench-dispatch --config "$cfg" --tasks "$n_empty" --payload 0 \
            --min-workers 2 --no-dashboard || { ok=0; break; }
        tps+=("$(field tasks/s "$WORK/$tag.out")")
        p50+=("$(field p50 "$WORK/$tag.out")")
        p99+=("$(field p99 "$WORK/$tag.out")")
    done
    if [ "$ok" = 1 ]; then
        row "dispatch" "bench-dispatch, 2 workers, $n_empty empty tasks" \
            "$(printf '%s\n' "${tps[@]}" | median) tasks/s, p50 $(printf '%s\n' "${p50[@]}" | median) ms, p99 $(printf '%s\n' "${p99[@]}" | median) ms" \
            "—" "—" "median of $REPEAT (tasks/s: ${tps[*]}); goal ≥ 20,000 tasks/s"
    else
        row "dispatch" "bench-dispatch, 2 workers, empty tasks" "failed" "—" "—" "see $WORK/$tag.err"
    fi
    ok=1
    for ((i = 1; i <= REPEAT; i++)); do
        tag=dispatch_8mb_$i
        timed "$tag" "$BIN/master" bench-dispatch --config "$cfg" --tasks "$n_big" --payload 8000000 \
            --min-workers 2 --no-dashboard || { ok=0; break; }
        mbs+=("$(field MB/s "$WORK/$tag.out")")
        bp50+=("$(field p50 "$WORK/$tag.out")")
        bp99+=("$(field p99 "$WORK/$tag.out")")
    done
    if [ "$ok" = 1 ]; then
        row "dispatch" "bench-dispatch, 2 workers, $n_big tasks of 8 MB" \
            "$(printf '%s\n' "${mbs[@]}" | median) MB/s, p50 $(printf '%s\n' "${bp50[@]}" | median) ms, p99 $(printf '%s\n' "${bp99[@]}" | median) ms" \
            "—" "—" "median of $REPEAT (MB/s: ${mbs[*]}); goal ≥ 1,000 MB/s"
    else
        row "dispatch" "bench-dispatch, 2 workers, 8 MB tasks" "failed" "—" "—" "see $WORK/$tag.err"
    fi
    cl_workers_stop
}

# bin/data_bench on the training CSV (one core, file in memory): the master's
# split into shards and the workers' parse into liblinear rows.
cluster_ingest() {
    local i tag split=() summ=() user=() first=() fsys=() again=() touch=() nodes=""
    [ -x "$BIN/data_bench" ] || {
        row "ingest" "CSV parse and split" "not measured: $BIN/data_bench missing (make)" "—" "—" ""
        return 1
    }
    for ((i = 1; i <= REPEAT; i++)); do
        tag=ingest_$i
        timed "$tag" "$BIN/data_bench" "$TRAIN_CSV" label || {
            row "ingest" "data_bench $TRAIN_CSV" "failed" "—" "—" "see $WORK/$tag.err"
            return 1
        }
        split+=("$(sed -n 's/^split_file: .*, \([0-9.]*\) MB\/s.*/\1/p' "$WORK/$tag.out")")
        summ+=("$(sed -n 's/^summary_from_shard: .*, \([0-9.]*\) MB\/s.*/\1/p' "$WORK/$tag.out")")
        user+=("$(sed -n 's/^dataset_from_shard (user CPU, best of 3): .*, \([0-9.]*\) MB\/s.*/\1/p' "$WORK/$tag.out")")
        first+=("$(sed -n 's/^dataset_from_shard (first run): .*, \([0-9.]*\) MB\/s.*/\1/p' "$WORK/$tag.out")")
        fsys+=("$(sed -n 's/^dataset_from_shard (first run): .*(\([0-9.]*\) s of it system time).*/\1/p' "$WORK/$tag.out")")
        again+=("$(sed -n 's/^dataset_from_shard (runs 2-3, best): .*, \([0-9.]*\) MB\/s.*/\1/p' "$WORK/$tag.out")")
        touch+=("$(sed -n 's/^fresh memory: .*, \([0-9.]*\) us a page.*/\1/p' "$WORK/$tag.out")")
        nodes=$(sed -n 's/^rows .*, \([0-9.]*\) MB of feature nodes.*/\1/p' "$WORK/$tag.out")
    done
    local mb med
    mb=$(sed -n 's/^file \([0-9.]*\) MB.*/\1/p' "$WORK/$tag.out")
    med() { printf '%s\n' "$@" | median; }
    row "ingest" "CSV parse into liblinear rows, one core, $TRAIN_CSV ($mb MB, standard scaling: $nodes MB of nodes)" \
        "$(med "${user[@]}") MB/s of parsing (user CPU); wall $(med "${again[@]}") MB/s on later runs, $(med "${first[@]}") MB/s on the first run in a process" \
        "—" "—" "bin/data_bench dataset_from_shard, median of $REPEAT runs of it; the first run spent $(med "${fsys[@]}") s in the kernel filling pages the process never had, and touching that much fresh memory alone cost $(med "${touch[@]}") us per 4 KB page here; schema pass (summary_from_shard) $(med "${summ[@]}") MB/s"
    row "ingest" "master split into shards, $TRAIN_CSV (file in page cache)" \
        "$(med "${split[@]}" | awk '{ printf "%.1f GB/s", $1 / 1000 }')" \
        "—" "—" "bin/data_bench split_file, best of 3 per run, median of $REPEAT"
}

# The vocabulary pass of a free-text column against the schema pass on
# numbers: bin/data_bench on a generated CSV of short texts (words drawn
# log-uniformly from 50,000, 3 to 40 a row; BENCH_TEXT_MB, default 500, 50
# with QUICK=1; kept in build/bench/), one core, the column named as text.
cluster_text_ingest() {
    local mb=${BENCH_TEXT_MB:-$([ "$QUICK" = 1 ] && echo 50 || echo 500)} i summ=() user=()
    local file=$WORK/text-$mb.csv
    [ -x "$BIN/data_bench" ] || return 1
    if [ ! -s "$file" ]; then
        awk -v mb="$mb" 'BEGIN { srand(16); print "id,review,label"; lim = mb * 1e6
            for (i = 0; size < lim; i++) { n = 3 + int(rand() * 38); line = i ","
                for (k = 0; k < n; k++) line = line (k ? " " : "") "w" int(exp(rand() * log(50000)))
                line = line "," (i % 5); print line; size += length(line) + 1 } }' >"$file.tmp" &&
            mv "$file.tmp" "$file" || { row "ingest" "free-text vocabulary pass" "not measured: generating $file failed" "—" "—" ""; return 1; }
    fi
    for ((i = 1; i <= REPEAT; i++)); do
        timed "text_$i" "$BIN/data_bench" "$file" label review || {
            row "ingest" "free-text vocabulary pass" "failed" "—" "—" "see $WORK/text_$i.err"
            return 1
        }
        summ+=("$(sed -n 's/^summary_from_shard: .*, \([0-9.]*\) MB\/s.*/\1/p' "$WORK/text_$i.out")")
        user+=("$(sed -n 's/^dataset_from_shard (user CPU, best of 3): .*, \([0-9.]*\) MB\/s.*/\1/p' "$WORK/text_$i.out")")
    done
    local numeric
    numeric=$(for f in "$WORK"/ingest_*.out; do sed -n 's/^summary_from_shard: .*, \([0-9.]*\) MB\/s.*/\1/p' "$f"; done | median)
    row "ingest" "free-text column: vocabulary pass (term document frequencies), one core, $(sed -n 's/^file \([0-9.]*\) MB.*/\1/p' "$WORK/text_1.out") MB of short texts" \
        "$(printf '%s\n' "${summ[@]}" | median) MB/s" "—" "—" \
        "bin/data_bench summary_from_shard with the column in data.text, median of $REPEAT, against the schema pass on numbers ($TRAIN_CSV) $numeric MB/s; rows with tf-idf features $(printf '%s\n' "${user[@]}" | median) MB/s of parsing (user CPU)"
}

# cluster_train_run TAG WORKERS SOLVER [NETNS...]: trains with WORKERS fresh
# workers (in the NETNS given, master on 10.200.0.1 then), tests the model with
# the same workers, and sets:
#   CT_TOTAL CT_MODEL CT_SCHEMA CT_LOAD CT_TRON CT_PRED CT_WAIT  (master's time: line)
#   CT_WALL (master process), CT_MCPU (its CPU seconds), CT_CPU (workers' CPU seconds, summed, during
#   training), CT_ACC (test), CT_TRAIN_ACC, CT_AGREE (vs liblinear's test
#   predictions), CT_WDIFF (relative L2 distance of the weights to liblinear's
#   model), CT_OBJ (objective line), CT_TRAFFIC (traffic line), CT_M_RSS, CT_W_RSS
# Returns non-zero (with CT_WHY) when a step failed. What it runs is the
# default configuration (dashboard and history on), changed by these
# variables, set for the one call like CL_LOG_TAG:
#   CT_DATA    training file (default $TRAIN_CSV, read with --scale none, the
#              numbers of its .svm twin; a .svm file is read as is)
#   CT_TEST    test file (default $TEST_CSV); "none": no test run
#   CT_SVM     libsvm form of CT_DATA for the objective (default $TRAIN_SVM)
#   CT_LL      liblinear baseline prefix (default $WORK/ll_sSOLVER): its
#              .model and .test.pred are the reference
#   CT_NODASH=1  --no-dashboard on the train and test runs
#   CT_TIMEONLY=1  no objective and no weight comparison (repeat runs)
#   CL_CURVE=1   CURVE on (cl_keys must have run first)
#   CT_ARGS    more master train options, split on spaces
cluster_train_run() {
    local tag=$1 w=$2 solver=$3 ip=127.0.0.1 cfg
    shift 3
    [ $# -gt 0 ] && ip=10.200.0.1
    cfg=$WORK/$tag.json
    CT_WHY=""
    CT_LLP=${CT_LL:-$WORK/ll_s$solver}
    cl_config "$cfg" "$ip" || { CT_WHY="no free port"; return 1; }
    CT_LOADAVG=$(cut -d' ' -f1 /proc/loadavg)
    CL_LOG_TAG=$tag cl_workers_start "$cfg" "$w" "$@"
    ct_train "$tag" "$cfg" "$w" "$solver" || { cl_workers_stop; return 1; }
    CT_ACC="—"
    CT_LOST_TEST="—"
    CT_AGREE="—"
    if [ "${CT_TEST:-$TEST_CSV}" != none ]; then
        ct_test "$tag" "$cfg" "$w" "$solver" || { cl_workers_stop; return 1; }
    fi
    cl_workers_stop
    CT_WDIFF="—"
    CT_OBJ="objective not computed"
    CT_TRAFFIC=$(traffic_note "$WORK/$tag.err")
    [ "${CT_TIMEONLY:-0}" = 1 ] && return 0
    # the awk comparison holds both models in memory: dense rows only
    [ "${CT_TEST:-$TEST_CSV}" != none ] && [ -f "$CT_LLP.model" ] &&
        CT_WDIFF=$(awk -f scripts/bench/model_diff.awk "$WORK/$tag.model" "$CT_LLP.model")
    CT_OBJ=$(objective_note "$WORK/$tag.model" "${CT_SVM:-$TRAIN_SVM}" "$solver" "$CT_LLP")
    return 0
}

# master_view: the words that choose the dashboard for one master run: a free
# port of its own, or --no-dashboard with CT_NODASH=1.
master_view() {
    if [ "${CT_NODASH:-0}" = 1 ]; then
        echo "--no-dashboard"
    else
        cl_dash_port
    fi
}

# ct_train TAG CFG W SOLVER: the training run of cluster_train_run, with its
# workers already started; sets the CT_* timings, CT_M_RSS and CT_W_RSS.
ct_train() {
    local tag=$1 cfg=$2 w=$3 solver=$4 data=${CT_DATA:-$TRAIN_CSV} view scale=() more=()
    [[ $data == *.csv ]] && scale=(--scale none)
    read -ra view <<<"$(master_view)"
    read -ra more <<<"${CT_ARGS:-}"
    cl_cpu_sampler_start "$WORK/$tag.cpu"
    timed "$tag" "$BIN/master" train --config "$cfg" --data "$data" "${scale[@]}" \
        --solver "$solver" --bias 1 --strategy exact --min-workers "$w" "${view[@]}" \
        --model "$WORK/$tag.model" --out "$WORK/$tag.sub.csv" "${more[@]}"
    local rc=$?
    cl_cpu_sampler_stop
    CT_M_RSS=$T_RSS_MB
    CT_WALL=$T_SEC
    CT_MCPU=$T_CPU
    local pid
    CT_W_RSS=""
    for pid in "${CL_PIDS[@]}"; do CT_W_RSS+="$(cl_hwm_mb "$pid") "; done
    CT_W_RSS=${CT_W_RSS% }
    if [ "$rc" -ne 0 ]; then
        CT_WHY="master train failed (status $rc): $(tail -1 "$WORK/$tag.err")"
        return 1
    fi
    local tl
    tl=$(grep '^time: ' "$WORK/$tag.out")
    CT_TOTAL=$(sed -n 's/^time: \([0-9.]*\) s from file.*/\1/p' <<<"$tl")
    CT_SCHEMA=$(sed -n 's/.*(schema \([0-9.]*\) s.*/\1/p' <<<"$tl")
    CT_LOAD=$(sed -n 's/.*loading \([0-9.]*\) s.*/\1/p' <<<"$tl")
    CT_TRON=$(sed -n 's/.*training \([0-9.]*\) s.*/\1/p' <<<"$tl")
    CT_PRED=$(sed -n 's/.*predicting \([0-9.]*\) s.*/\1/p' <<<"$tl")
    CT_WAIT=$(sed -n 's/.*, \([0-9.]*\) s waiting for workers.*/\1/p' <<<"$tl")
    # file to the model on disk (the model is written while the workers
    # predict the training rows, so this is not total minus predicting)
    CT_MODEL=$(sed -n 's/.*, \([0-9.]*\) s to the model on disk.*/\1/p' <<<"$tl")
    CT_LOST=$(cl_lost "$WORK/$tag.err")
    CT_TRAIN_ACC=$(sed -n 's/^Training accuracy = \([0-9.]*\)%.*/\1 %/p' "$WORK/$tag.out")
    local t0 t1
    t0=$(cl_log_ms "$WORK/$tag.err" "shards loaded on the workers")
    t1=$(cl_log_ms "$WORK/$tag.err" "TRON finished")
    CT_CPU="?"
    [ -n "$t0" ] && [ -n "$t1" ] && CT_CPU=$(cl_cpu_between "$WORK/$tag.cpu" "$t0" "$t1")
    return 0
}

# ct_test TAG CFG W SOLVER: the test run of cluster_train_run on CT_TEST with
# the model just trained; sets CT_ACC, CT_LOST_TEST, CT_AGREE.
ct_test() {
    local tag=$1 cfg=$2 w=$3 solver=$4 test=${CT_TEST:-$TEST_CSV} view scale=() rc
    [[ $test == *.csv ]] && scale=(--scale none)
    read -ra view <<<"$(master_view)"
    timed "$tag.test" "$BIN/master" test --config "$cfg" --data "$test" \
        --model "$WORK/$tag.model" --out "$WORK/$tag.test.csv" --min-workers "$w" "${view[@]}"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        CT_WHY="master test failed (status $rc): $(tail -1 "$WORK/$tag.test.err")"
        return 1
    fi
    CT_ACC=$(accuracy_of "$WORK/$tag.test.out")
    CT_LOST_TEST=$(cl_lost "$WORK/$tag.test.err")
    predicted_col "$WORK/$tag.test.csv" >"$WORK/$tag.test.pred"
    CT_AGREE="?"
    [ -f "$CT_LLP.test.pred" ] && CT_AGREE=$(agreement "$WORK/$tag.test.pred" "$CT_LLP.test.pred")
    return 0
}

# objective_note MODEL SVM SOLVER LLPREFIX: "objective ours X, liblinear Y,
# diff Z %" (the issue's bar: |Z| <= 0.1), liblinear's from LL_OBJ[LLPREFIX].
objective_note() {
    local ours ll=${LL_OBJ[$4]:-}
    ours=$(objective_of "$1" "$2" "$3")
    [ -n "$ll" ] || { [ -f "$4.model" ] && ll=$(objective_of "$4.model" "$2" "$3"); }
    [ -n "$ll" ] || ll="?"
    awk -v a="$ours" -v b="$ll" 'BEGIN {
        printf "objective ours %s, liblinear %s, diff ", a, b
        d = (b == 0) ? 0 : (a - b) / b
        if (a == "?" || b == "?" || b == 0) print "? %"
        else {
            note = ""
            if (d > 0.001) note = " (over the 0.1 % bar)"
            if (d < -0.001) note = " (beyond 0.1 %, ours lower: liblinear stopped further from the optimum)"
            printf "%+.2g %%%s\n", 100 * d, note
        }
    }'
}

# traffic_note ERR: the master's traffic line (end of exact training) as
# "master traffic X MB a round (sent+received; ...)", or that it is missing.
traffic_note() {
    local t
    t=$(sed -n 's/.*traffic: \([0-9.]*\) MB sent to workers, \([0-9.]*\) MB received in \([0-9]*\) rounds (\([0-9.]*\) MB a round), \([0-9]*\) CG steps.*/\4 \1 \2 \3 \5/p' "$1" | tail -1)
    if [ -z "$t" ]; then
        echo "traffic not reported by this build"
        return 0
    fi
    read -r per sent recv rounds cg <<<"$t"
    echo "master traffic $per MB a round (sent+received; $sent MB sent, $recv MB received in $rounds rounds, $cg CG steps)"
}

# train_row ROW WHAT SOLVER W [NOTE]: adds the table line for the last
# cluster_train_run, NOTE first in its notes
train_row() {
    local rowname=$1 what=$2 s=$3 w=$4 extra=${5:-} ll="—" r="—" llsec llacc par
    llsec=${LL_SEC[$CT_LLP]:-}
    llacc=${LL_ACC[$CT_LLP]:-}
    [ -n "$llsec" ] && ll="$llsec s, test $llacc" && r=$(ratio "$CT_MODEL" "$llsec")
    # workers' CPU during training, spread over the cores they could use
    par=$((w < $(nproc) ? w : $(nproc)))
    local comp other
    comp=$(awk -v c="$CT_CPU" -v p="$par" 'BEGIN { if (c == "?") print "?"; else printf "%.1f", c / p }')
    other=$(awk -v t="$CT_TRON" -v c="$comp" 'BEGIN { if (c == "?") print "?"; else printf "%.1f", t - c }')
    row "$rowname" "$what" "$CT_MODEL s, test $CT_ACC" "$ll" "$r" \
        "${extra:+$extra; }$CT_OBJ; $CT_TRAFFIC; file to model: reading $CT_SCHEMA s (schema pass) + $CT_LOAD s (shards to workers), training $CT_TRON s (workers' CPU $CT_CPU s over $par core(s) ≈ $comp s computing, ≈ $other s communication and waiting); then $CT_PRED s predicting the training rows (submission_train.csv); master process $CT_WALL s incl. $CT_WAIT s waiting for workers; test predictions agree with liblinear's on $CT_AGREE; weights' relative L2 distance to liblinear's model $CT_WDIFF; training accuracy $CT_TRAIN_ACC; load average when it started $CT_LOADAVG; workers declared lost by the master: $CT_LOST in training, $CT_LOST_TEST in the test run"
}

# bin/master train --strategy exact -s 0 -B 1 on $TRAIN_CSV (--scale none: the
# numbers liblinear reads from the .svm twin) with 1, 2 and 4 local workers
# (1 and 2 with QUICK), and -s 2 with 2 workers, all in the default
# configuration (dashboard and history on). Beside the 2-worker -s 0 row: the
# same with --no-dashboard and with CURVE on; then the demo (cluster_demo).
cluster_train() {
    local w counts="1 2 4"
    [ "$QUICK" = 1 ] && counts="1 2"
    for w in $counts; do
        local what="exact L2R_LR (-s 0) -B 1, $w worker$([ "$w" = 1 ] || echo s), $TRAIN_CSV"
        [ "$QUICK" = 1 ] && [ "$w" = 2 ] && what+=" (the demo's command and data)"
        if cluster_train_run "train_w$w" "$w" 0; then
            train_row "train" "$what" 0 "$w"
            if [ "$w" = 2 ]; then
                LOOP_W2_SEC=$CT_MODEL
                NUM_SCHEMA_SEC=$CT_SCHEMA
                MEM_TRAIN="master $CT_M_RSS MB; workers $(sed 's/ / MB, /g' <<<"$CT_W_RSS") MB"
                train_twins "train" "$what" train_w2
            fi
        else
            row "train" "$what" "failed" "—" "—" "$CT_WHY"
        fi
    done
    local what="exact L2R_L2LOSS_SVC (-s 2) -B 1, 2 workers, $TRAIN_CSV"
    if cluster_train_run "train_s2_w2" 2 2; then
        train_row "train" "$what" 2 2
    else
        row "train" "$what" "failed" "—" "—" "$CT_WHY"
    fi
    cluster_demo
}

# train_twins ROW WHAT TAG: after a dashboard-on 2-worker -s 0 run TAG (its
# CT_* still set), the same run with --no-dashboard and (for the Fashion-MNIST
# row, not the demo) with CURVE on, each as a row of its own. The ratios use
# medians: REPEAT-1 more rounds of (default, --no-dashboard, CURVE) training
# runs alternate with each other, so that load from others hits all alike.
train_twins() {
    local rowname=$1 what=$2 tag=$3 curve=0
    TW_ON=("$CT_MODEL") TW_ON_WALL=("$CT_WALL") TW_ON_CPU=("$CT_MCPU")
    TW_OFF=() TW_OFF_WALL=() TW_OFF_CPU=() TW_CV=() TW_CV_WALL=() TW_CV_CPU=()
    local cwhat="$what, CURVE on (security.curve true, keys from master keygen)"
    [ "$rowname" = train ] && curve=1
    if CT_NODASH=1 cluster_train_run "${tag}_nodash" 2 0; then
        TW_OFF+=("$CT_MODEL") TW_OFF_WALL+=("$CT_WALL") TW_OFF_CPU+=("$CT_MCPU")
        twin_rounds "$tag" "$curve"
        train_row "$rowname" "$what, --no-dashboard (twin of the row above)" 0 2 \
            "dashboard on / off: $(twin_ratio TW_ON TW_OFF 5)"
    else
        row "$rowname" "$what, --no-dashboard" "failed" "—" "—" "$CT_WHY"
        twin_rounds "$tag" "$curve"
    fi
    [ "$curve" = 1 ] || return 0
    if [ -z "$CL_KEYDIR" ] && ! cl_keys; then
        row "$rowname" "$cwhat" "not measured: $CL_KEYS_WHY" "—" "—" ""
    elif CL_CURVE=1 cluster_train_run "${tag}_curve" 2 0; then
        TW_CV+=("$CT_MODEL") TW_CV_WALL+=("$CT_WALL") TW_CV_CPU+=("$CT_MCPU")
        if grep -q "CURVE on" "$WORK/${tag}_curve.err"; then
            train_row "$rowname" "$cwhat" 0 2 \
                "CURVE on / off (dashboard on in both): $(twin_ratio TW_CV TW_ON 10)"
        else
            row "$rowname" "$cwhat" "not CURVE: the master did not log 'CURVE on'" "—" "—" "see $WORK/${tag}_curve.err"
        fi
    else
        row "$rowname" "$cwhat" "failed" "—" "—" "$CT_WHY"
    fi
}

# twin_rounds TAG CURVE: REPEAT-1 rounds of training runs (no test run):
# default, --no-dashboard, and CURVE on when CURVE is 1; adds their times to
# TW_ON/TW_OFF/TW_CV (file to model), *_WALL (master process) and *_CPU
# (master's CPU seconds). CT_* and
# CT_WHY are saved and restored, so the caller's row shows its own run.
twin_rounds() {
    local tag=$1 curve=$2 i v
    local -A saved=()
    for v in CT_MODEL CT_WALL CT_MCPU CT_TOTAL CT_SCHEMA CT_LOAD CT_TRON CT_PRED CT_WAIT CT_CPU CT_ACC \
        CT_TRAIN_ACC CT_AGREE CT_WDIFF CT_OBJ CT_TRAFFIC CT_M_RSS CT_W_RSS CT_LOST CT_LOST_TEST \
        CT_LOADAVG CT_LLP CT_WHY; do
        saved[$v]=${!v:-}
    done
    [ "$curve" = 1 ] && [ -z "$CL_KEYDIR" ] && { cl_keys || curve=0; }
    for ((i = 2; i <= REPEAT; i++)); do
        CT_TEST=none CT_TIMEONLY=1 cluster_train_run "${tag}_r$i" 2 0 &&
            TW_ON+=("$CT_MODEL") TW_ON_WALL+=("$CT_WALL") TW_ON_CPU+=("$CT_MCPU")
        CT_TEST=none CT_TIMEONLY=1 CT_NODASH=1 cluster_train_run "${tag}_nodash_r$i" 2 0 &&
            TW_OFF+=("$CT_MODEL") TW_OFF_WALL+=("$CT_WALL") TW_OFF_CPU+=("$CT_MCPU")
        [ "$curve" = 1 ] && CT_TEST=none CT_TIMEONLY=1 CL_CURVE=1 cluster_train_run "${tag}_curve_r$i" 2 0 &&
            TW_CV+=("$CT_MODEL") TW_CV_WALL+=("$CT_WALL") TW_CV_CPU+=("$CT_MCPU")
    done
    for v in "${!saved[@]}"; do printf -v "$v" '%s' "${saved[$v]}"; done
}

# twin_ratio A B PCT: for the arrays A, B (file-to-model seconds), A_WALL,
# B_WALL (master process) and A_CPU, B_CPU (master's CPU seconds): "file to
# model median 5.01 s (runs) / 4.90 s (runs) = 1.022, master process ... =
# 1.015 (...; bar: within PCT %); master CPU 0.31 s / 0.20 s". The master's CPU
# is what the dashboard itself costs, and other load on the machine barely
# moves it.
twin_ratio() {
    local -n a=$1 b=$2 aw=${1}_WALL bw=${2}_WALL ac=${1}_CPU bc=${2}_CPU
    local ma mb mwa mwb mca mcb
    ma=$(printf '%s\n' "${a[@]}" | median)
    mb=$(printf '%s\n' "${b[@]}" | median)
    mwa=$(printf '%s\n' "${aw[@]}" | median)
    mwb=$(printf '%s\n' "${bw[@]}" | median)
    mca=$(printf '%s\n' "${ac[@]}" | median)
    mcb=$(printf '%s\n' "${bc[@]}" | median)
    awk -v a="$ma" -v b="$mb" -v c="$mwa" -v d="$mwb" -v p="$3" -v ra="${a[*]}" -v rb="${b[*]}" \
        -v n="${#a[@]}/${#b[@]}" -v e="$mca" -v f="$mcb" -v rc="${ac[*]}" -v rd="${bc[*]}" 'BEGIN {
        printf "file to model median %s s (%s) / %s s (%s) = %s, master process %s s / %s s = %s (medians of %s alternating runs; bar: within %s %%); master CPU (user+sys) median %s s (%s) / %s s (%s)",
            a, ra, b, rb, (b > 0 ? sprintf("%.3f", a / b) : "?"), c, d, (d > 0 ? sprintf("%.3f", c / d) : "?"), n, p, e, rc, f, rd }'
}

# The demo (scripts/demo.sh: `bin/master train --scale none` on Data/train.csv
# with 2 workers, the default config), dashboard on and --no-dashboard, against
# liblinear-train on Data/train.svm. With QUICK=1 that is the 2-worker train
# row and its twin above (same command, same data), so they are not run twice.
cluster_demo() {
    if [ "$QUICK" = 1 ]; then
        NOTES+=("demo: with QUICK=1 the bench trains on the demo's data (Data/train.csv), so the 2-worker -s 0 train row and its --no-dashboard twin are the demo's command (scripts/demo.sh: master train --scale none --min-workers 2, dashboard on) with and without the dashboard.")
        return 0
    fi
    local prefix=$WORK/ll_demo_s0 what="the demo: master train --scale none, 2 workers, Data/train.csv (scripts/demo.sh)"
    baseline_train 0 "$prefix" Data/train.svm Data/test.svm || return 1
    if CT_DATA=Data/train.csv CT_TEST=Data/test.csv CT_SVM=Data/train.svm CT_LL=$prefix \
        cluster_train_run demo 2 0; then
        train_row "demo" "$what" 0 2
        CT_DATA=Data/train.csv CT_TEST=Data/test.csv CT_SVM=Data/train.svm CT_LL=$prefix \
            train_twins "demo" "$what" demo
    else
        row "demo" "$what" "failed" "—" "—" "$CT_WHY"
    fi
}

# bin/master test with 2 workers on the training rows in libsvm form, with the
# model liblinear-train wrote: wall time against LL_PRED_SEC_train, predictions
# compared line by line with liblinear-predict's ($WORK/ll_train.pred). Run
# with the default shard size (what a user gets) and with shards of 1/8 of the
# rows (so that both workers have work even when the file is one default shard).
cluster_predict() {
    local n shards
    n=$(lines_of "$TRAIN_SVM")
    predict_runs default "default shards (cluster.shard_rows 20000)"
    shards=$(((n + 7) / 8))
    predict_runs small "--shard-rows $shards" --shard-rows "$shards"
}

# predict_runs TAG LABEL [EXTRA MASTER ARGS...]: one predict row, median of
# REPEAT runs; outputs in $WORK/predict_TAG_I.*
predict_runs() {
    local ptag=$1 label=$2 ll="—" cfg=$WORK/predict.json i tag secs=() waits=() n lost=0
    shift 2
    n=$(lines_of "$TRAIN_SVM")
    local what="2 workers, liblinear's -s 0 model, $n rows of $TRAIN_SVM, $label"
    [ -n "${LL_PRED_SEC_train:-}" ] && ll="$LL_PRED_SEC_train s, $LL_PRED_ACC_train"
    [ -f "$WORK/ll_s0.model" ] || {
        row "predict" "$what" "not measured: no liblinear model" "$ll" "—" ""
        return 1
    }
    cl_config "$cfg" || {
        row "predict" "$what" "not measured: no free port" "$ll" "—" ""
        return 1
    }
    CL_LOG_TAG=predict_$ptag cl_workers_start "$cfg" 2
    local m_rss=0 wt view
    for ((i = 1; i <= REPEAT; i++)); do
        tag=predict_${ptag}_$i
        read -ra view <<<"$(master_view)"
        timed "$tag" "$BIN/master" test --config "$cfg" --data "$TRAIN_SVM" "$@" "${view[@]}" \
            --model "$WORK/ll_s0.model" --out "$WORK/$tag.csv" --min-workers 2 || {
            row "predict" "$what" "failed" "$ll" "—" "$(tail -1 "$WORK/$tag.err")"
            cl_workers_stop
            return 1
        }
        wt=$(cl_master_wait_s "$WORK/$tag.err" 2)
        lost=$((lost + $(cl_lost "$WORK/$tag.err")))
        waits+=("$wt")
        secs+=("$(awk -v a="$T_SEC" -v b="$wt" 'BEGIN { printf "%.2f", a - b }')")
        [ "$T_RSS_MB" -gt "$m_rss" ] && m_rss=$T_RSS_MB
    done
    local pid w_rss="" ntasks
    for pid in "${CL_PIDS[@]}"; do w_rss+="$(cl_hwm_mb "$pid") MB, "; done
    cl_workers_stop
    [ -n "${MEM_PREDICT:-}" ] || MEM_PREDICT="master $m_rss MB; workers ${w_rss%, }"
    ntasks=$(grep -o '/[0-9]* tasks' "$WORK/$tag.err" | tail -1 | tr -dc 0-9)
    local med acc same r="—"
    med=$(printf '%s\n' "${secs[@]}" | median)
    acc=$(accuracy_of "$WORK/$tag.out")
    predicted_col "$WORK/$tag.csv" >"$WORK/predict_$ptag.pred"
    if cmp -s "$WORK/predict_$ptag.pred" "$WORK/ll_train.pred"; then
        same="identical to liblinear-predict's ($(lines_of "$WORK/predict_$ptag.pred") lines)"
    else
        same="NOT identical: agreement $(agreement "$WORK/predict_$ptag.pred" "$WORK/ll_train.pred")"
    fi
    [ -n "${LL_PRED_SEC_train:-}" ] && r=$(ratio "$med" "$LL_PRED_SEC_train")
    row "predict" "$what" "$med s, $acc" "$ll" "$r" \
        "median of $REPEAT (${secs[*]} s: master process minus ${waits[*]} s waiting for workers to reconnect);${ntasks:+ $ntasks shard(s);} predictions $same; workers declared lost: $lost"
}

# ------------------------------------------------------------------ sparse --
# Sparse, high-dimensional data (the shape of text) from bin/gensparse,
# liblinear-train -s 0 -B 1 against 2 workers (dashboard on), with the issue's
# memory bound for the master: peak RSS <= 8 x model size + 100 MB, model size
# = features x weight vectors x 8 bytes (1 vector for 2 classes, else one per
# class). Shapes: ROWS FEATURES NNZ CLASSES SKEW SEED (rows / 5 with QUICK).
SPARSE_SHAPES=("100000 1000000 30 2 1 1" "50000 200000 27 20 1 2")

cluster_sparse() {
    local shape
    for shape in "${SPARSE_SHAPES[@]}"; do
        # shellcheck disable=SC2086 # six numbers
        sparse_shape $shape
    done
}

# sparse_file ROWS FEATURES NNZ CLASSES SKEW SEED: prints the path of the
# generated file, cached under $WORK by its arguments (the same arguments give
# the same bytes).
sparse_file() {
    local f
    f=$WORK/sparse_$(tr ' ' _ <<<"$*").svm
    if [ ! -s "$f" ]; then
        if ! "$BIN/gensparse" "$@" >"$f.tmp" 2>"$WORK/gensparse.err" || ! mv "$f.tmp" "$f"; then
            rm -f "$f.tmp"
            return 1
        fi
    fi
    echo "$f"
}

# sparse_shape ROWS FEATURES NNZ CLASSES SKEW SEED: the baseline row and the
# cluster row for one shape.
sparse_shape() {
    local rows=$1 nf=$2 nnz=$3 k=$4 skew=$5 seed=$6 file key what prefix
    [ "$QUICK" = 1 ] && rows=$((rows / 5))
    what="$rows rows x $nf features, $nnz non-zeros a row, $k classes, skew $skew (gensparse $rows $nf $nnz $k $skew $seed)"
    file=$(sparse_file "$rows" "$nf" "$nnz" "$k" "$skew" "$seed") || {
        row "sparse" "$what" "not measured: gensparse failed" "—" "—" "$(tail -1 "$WORK/gensparse.err")"
        return 1
    }
    key=sparse_${rows}x${nf}_k$k
    prefix=$WORK/ll_$key
    timed "ll_${key}_train" liblinear-train -q -s 0 -B 1 "$file" "$prefix.model" || {
        row "sparse" "liblinear-train -s 0 -B 1, $what" "—" "failed" "—" "see $WORK/ll_${key}_train.err"
        return 1
    }
    LL_SEC[$prefix]=$T_SEC
    LL_RSS[$prefix]=$T_RSS_MB
    LL_OBJ[$prefix]=$(objective_of "$prefix.model" "$file" 0)
    row "sparse" "liblinear-train -s 0 -B 1, $what (baseline)" "—" "$T_SEC s, $T_RSS_MB MB" "—" \
        "1 run; primal objective ${LL_OBJ[$prefix]}; $file"
    local cwhat="exact L2R_LR (-s 0) -B 1, 2 workers, $what"
    if ! CT_DATA=$file CT_TEST=none CT_SVM=$file CT_LL=$prefix cluster_train_run "$key" 2 0; then
        row "sparse" "$cwhat" "failed" "${LL_SEC[$prefix]} s" "—" "$CT_WHY"
        return 1
    fi
    local nr_w=$k bound
    [ "$k" = 2 ] && nr_w=1
    bound=$(awk -v f="$nf" -v w="$nr_w" -v m="$CT_M_RSS" 'BEGIN {
        size = f * w * 8 / 1048576; b = 8 * size + 100
        printf "master peak RSS %d MB %s 8 x model (%d features x %d vector%s x 8 B = %.1f MB) + 100 MB = %.0f MB: %s",
            m, (m <= b ? "<=" : ">"), f, w, (w > 1 ? "s" : ""), size, b, (m <= b ? "holds" : "DOES NOT HOLD") }')
    row "sparse" "$cwhat" "$CT_MODEL s; master $CT_M_RSS MB, workers $(sed 's/ / MB, /g' <<<"$CT_W_RSS") MB" \
        "${LL_SEC[$prefix]} s, ${LL_RSS[$prefix]} MB" "$(ratio "$CT_MODEL" "${LL_SEC[$prefix]}")" \
        "bound: $bound; $CT_OBJ; $CT_TRAFFIC; file to model: reading $CT_SCHEMA s + $CT_LOAD s (shards to workers), training $CT_TRON s (workers' CPU $CT_CPU s); then $CT_PRED s predicting the training rows; master process $CT_WALL s incl. $CT_WAIT s waiting for workers; training accuracy $CT_TRAIN_ACC; load average when it started $CT_LOADAVG; workers declared lost: $CT_LOST; peak RSS: master /usr/bin/time -v, workers VmHWM"
}

# cluster_text: the vocabulary pass of text features, fitted across the
# cluster, against the numeric schema pass, per core: a bin/gentext CSV
# (id,label,text; 20 classes, 200,000 words) trained with --text text by 2
# workers. Training stops at once (--eps 10: the first gradient meets the
# tolerance), since the row is about the pass over the file; the numeric
# figure is the schema pass of the 2-worker Fashion-MNIST row (train section).
cluster_text() {
    local mb=500 file what
    [ "$QUICK" = 1 ] && mb=100
    [ -x "$BIN/gentext" ] || {
        row "text" "vocabulary pass" "not measured: $BIN/gentext missing (make)" "—" "—" ""
        return 1
    }
    file=$WORK/text_${mb}mb.csv
    if [ ! -s "$file" ]; then
        if ! "$BIN/gentext" "$mb" 20 200000 1 >"$file.tmp" 2>"$WORK/gentext.err" || ! mv "$file.tmp" "$file"; then
            rm -f "$file.tmp"
            row "text" "vocabulary pass" "not measured: gentext failed" "—" "—" "$(tail -1 "$WORK/gentext.err")"
            return 1
        fi
    fi
    local size rows
    size=$(awk -v b="$(stat -c %s "$file")" 'BEGIN { printf "%.0f", b / 1048576 }')
    rows=$(($(wc -l <"$file") - 1))
    what="vocabulary pass (schema pass with --text text), 2 workers, $file ($size MB, $rows rows; gentext $mb 20 200000 1)"
    if ! CT_DATA=$file CT_TEST=none CT_TIMEONLY=1 CT_ARGS="--text text --eps 10" cluster_train_run text 2 0; then
        row "text" "$what" "failed" "—" "—" "$CT_WHY"
        return 1
    fi
    local per num="—" r="—" numsize
    per=$(awk -v m="$size" -v t="$CT_SCHEMA" 'BEGIN { printf "%.1f", (t > 0 ? m / t / 2 : 0) }')
    if [ -n "${NUM_SCHEMA_SEC:-}" ]; then
        numsize=$(awk -v b="$(stat -c %s "$TRAIN_CSV")" 'BEGIN { printf "%.0f", b / 1048576 }')
        num=$(awk -v m="$numsize" -v t="$NUM_SCHEMA_SEC" 'BEGIN { printf "%.1f", (t > 0 ? m / t / 2 : 0) }')
        r=$(ratio "$num" "$per")
        num="$num MB/s a core (numeric: $TRAIN_CSV, $numsize MB, schema $NUM_SCHEMA_SEC s, 2 workers)"
    fi
    row "text" "$what" "$per MB/s a core (schema $CT_SCHEMA s)" "$num" "$r" \
        "ratio = numeric MB/s / text MB/s (at most 1: the text pass is at least as fast per core); both columns are ours, text against numeric, not liblinear; vocabulary: $(grep -o 'vocabulary[^;]*' "$WORK/text.err" | head -1); master process $CT_WALL s, peak RSS master $CT_M_RSS MB, workers $(sed 's/ / MB, /g' <<<"$CT_W_RSS") MB; load average when it started $CT_LOADAVG"
}

# Peak RSS (VmHWM) of the master and of each worker, from the 2-worker train
# row and the predict row above.
cluster_memory() {
    local ll="—"
    [ -n "${LL_TRAIN_RSS_0:-}" ] && ll="liblinear-train $LL_TRAIN_RSS_0 MB"
    if [ -n "${MEM_TRAIN:-}" ]; then
        row "memory" "peak RSS, train with 2 workers" "$MEM_TRAIN" "$ll" "—" \
            "master: /usr/bin/time -v; workers: VmHWM after training"
    else
        row "memory" "peak RSS, train with 2 workers" "not measured: 2-worker train row not run or failed" "$ll" "—" ""
    fi
    if [ -n "${MEM_PREDICT:-}" ]; then
        row "memory" "peak RSS, predict with 2 workers" "$MEM_PREDICT" "—" "—" \
            "default shards; master: /usr/bin/time -v (largest of $REPEAT runs); workers: VmHWM after the $REPEAT runs"
    else
        row "memory" "peak RSS, predict with 2 workers" "not measured: predict row not run or failed" "—" "—" ""
    fi
}

# The 2-worker train row again with each worker in its own network namespace,
# joined to the master (10.200.0.1 on a bridge) by a veth pair shaped to
# 1 Gbit/s (+ 0.2 ms with netem when the kernel has it). Needs root.
cluster_lan() {
    local what="exact L2R_LR (-s 0) -B 1, 2 workers in network namespaces"
    if ! cl_lan_up 2; then
        row "LAN" "$what" "skipped: $CL_LAN_WHY" "—" "—" ""
        cl_lan_down
        return 0
    fi
    # what the links carry: 8 MB payloads through the shaped veths
    local cfg=$WORK/lan_dispatch.json mbs="?"
    cl_config "$cfg" 10.200.0.1 && {
        CL_LOG_TAG=lan_dispatch cl_workers_start "$cfg" 2 "${CL_NS[@]}"
        timed lan_dispatch "$BIN/master" bench-dispatch --config "$cfg" --tasks 40 \
            --payload 8000000 --min-workers 2 --no-dashboard && mbs=$(field MB/s "$WORK/lan_dispatch.out")
        cl_workers_stop
    }
    if cluster_train_run "lan_w2" 2 0 "${CL_NS[@]}"; then
        train_row "LAN" "$what ($CL_LAN_SHAPE)" 0 2
        [ -n "${LOOP_W2_SEC:-}" ] &&
            NOTES+=("LAN: $CT_MODEL s from file to model with the workers behind shaped links, against $LOOP_W2_SEC s on loopback in the train row above.")
        NOTES+=("LAN: the shaped links carried $mbs MB/s of 8 MB bench-dispatch payloads to the 2 namespaced workers (2 x 1 Gbit/s = 250 MB/s at most).")
    else
        row "LAN" "$what" "failed" "—" "—" "$CT_WHY"
    fi
    cl_lan_down
}

# ------------------------------------------------------------------- main --

# ---------------------------------------------------------------- search --
# cluster_search: liblinear -C (warm-started C path, 5 random folds, one
# core) against master search --cv 5 (folds r % 5, every fold of a C in
# lockstep, warm starts) over the very C values liblinear visited. Both
# searches stop after the CV scores; no final model (--no-final), as
# liblinear -C trains none.
cluster_search() {
    local n=${SEARCH_ROWS:-20000} svm=$WORK/search_rows.svm cfg=$WORK/search.json view rows
    head -n "$n" "$TRAIN_SVM" >"$svm"
    rows=$(lines_of "$svm")
    local what="master search --cv 5 -s 0 -B 1, 2 workers, over the C values of liblinear-train -C -v 5 -s 0 -B 1, $rows rows of $TRAIN_SVM"
    if ! timed search_ll nice liblinear-train -C -v 5 -s 0 -B 1 "$svm"; then
        row "search" "$what" "—" "failed" "—" "see $WORK/search_ll.err"
        return
    fi
    local ll_sec=$T_SEC cs nc lo hi ll_c ll_acc
    cs=$(sed -n 's/^log2c= *\([-0-9.]*\).*/\1/p' "$WORK/search_ll.out" |
         awk '{ printf "%s%.17g", (NR > 1 ? "," : ""), 2 ^ $1 }')
    nc=$(grep -c '^log2c=' "$WORK/search_ll.out")
    lo=$(sed -n 's/^log2c= *\([-0-9]*\).*/\1/p' "$WORK/search_ll.out" | head -1)
    hi=$(sed -n 's/^log2c= *\([-0-9]*\).*/\1/p' "$WORK/search_ll.out" | tail -1)
    ll_c=$(sed -n 's/^Best C = \([^ ]*\) .*/\1/p' "$WORK/search_ll.out")
    ll_acc=$(sed -n 's/.*CV accuracy = \([0-9.]*\)%.*/\1/p' "$WORK/search_ll.out")
    cl_config "$cfg" 127.0.0.1 || { row "search" "$what" "no free port" "—" "—" ""; return; }
    read -ra view <<<"$(master_view)"
    CL_LOG_TAG=search cl_workers_start "$cfg" 2
    timed search_nc "$BIN/master" search --config "$cfg" --data "$svm" --cv 5 --solver 0 --bias 1 \
        --C-list "$cs" --no-final --min-workers 2 "${view[@]}" --model "$WORK/search.model" \
        --out "$WORK/search.sub.csv"
    local rc=$?
    cl_workers_stop
    if [ "$rc" -ne 0 ]; then
        row "search" "$what" "failed (status $rc)" "$ll_sec s" "—" "$(tail -1 "$WORK/search_nc.err")"
        return
    fi
    local our_sec=$T_SEC our_c our_acc wait_s met
    our_c=$(sed -n 's/^Best C = \([^ ]*\) .*/\1/p' "$WORK/search_nc.out")
    our_acc=$(sed -n 's/.*Cross Validation Accuracy = \([0-9.]*\)%.*/\1/p' "$WORK/search_nc.out")
    wait_s=$(sed -n 's/.*, \([0-9.]*\) s waiting for workers.*/\1/p' "$WORK/search_nc.out")
    met=$(awk -v a="$our_sec" -v b="$ll_sec" -v x="$our_acc" -v y="$ll_acc" 'BEGIN {
        t = (b > 0 && a / b <= 0.4); q = (x - y <= 0.2 && y - x <= 0.2)
        printf "bar (<= 0.40x, CV accuracy within 0.2 points of liblinear best): %s", (t && q) ? "met" : "NOT met"
        if (!t) printf "; time ratio above 0.40"; if (!q) printf "; accuracy off by more than 0.2" }')
    row "search" "$what ($nc C values, 2^$lo .. 2^$hi)" \
        "$our_sec s; best C $our_c, CV $our_acc %" "$ll_sec s; best C $ll_c, CV $ll_acc %" \
        "$(ratio "$our_sec" "$ll_sec")" \
        "$met; folds differ (ours r % 5, liblinear random), so the CV figures differ by a few rows; ours includes ${wait_s:-?} s waiting for workers; per-C table in $WORK/search_nc.out"
}

main() {
    command -v liblinear-train >/dev/null && command -v liblinear-predict >/dev/null ||
        die "liblinear-train/liblinear-predict not found; install liblinear-tools (scripts/deps.sh bench)"
    [ -x /usr/bin/time ] || die "/usr/bin/time not found; install the Debian package 'time'"
    # the demo rows train on the demo's data (Data/train.*) in both modes
    scripts/prepare-data.sh || die "scripts/prepare-data.sh failed"
    if [ "$QUICK" != 1 ]; then
        FULL=1 scripts/prepare-data.sh || die "FULL=1 scripts/prepare-data.sh failed"
    fi
    # The binaries under test, copied so that a rebuild during the run (others
    # work in this tree) cannot mix two versions in one table.
    mkdir -p "$WORK/bin"
    local b
    for b in master worker data_bench primal gensparse gentext; do
        [ -x "$BIN/$b" ] && cp "$BIN/$b" "$WORK/bin/$b.tmp" && mv "$WORK/bin/$b.tmp" "$WORK/bin/$b"
    done
    for b in master worker primal gensparse; do
        [ -x "$WORK/bin/$b" ] || die "$BIN/$b missing; run make"
    done
    BIN=$WORK/bin
    local rev
    rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
    # WAIT_QUIET=S: wait up to S seconds for a 1-minute load average below 1,
    # since the workers' compute threads yield to any other load (SCHED_IDLE).
    local waited=0
    while [ "$waited" -lt "${WAIT_QUIET:-0}" ] &&
        awk '{ exit !($1 >= 1) }' /proc/loadavg; do
        [ "$waited" = 0 ] && echo "bench: load average $(cut -d' ' -f1 /proc/loadavg); waiting up to ${WAIT_QUIET} s for it to fall below 1" >&2
        sleep 10
        waited=$((waited + 10))
    done
    local t0=$SECONDS
    local load_before
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)

    want dispatch && cluster_dispatch
    want ingest && cluster_ingest && cluster_text_ingest
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
    want sparse && cluster_sparse
    want text && cluster_text
    want memory && cluster_memory
    want lan && cluster_lan
    want search && cluster_search
    if want tree; then
        # shellcheck source=scripts/bench/tree.sh
        . scripts/bench/tree.sh
        tree_bench
    fi

    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    {
        echo
        echo "NetCompute bench $([ "$QUICK" = 1 ] && echo "(QUICK: 12,000/2,000 subset)" || echo "(full Fashion-MNIST 60,000/10,000)")," \
             "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($cpu)," \
             "load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg); $((SECONDS - t0)) s; commit $rev"
        echo "data: $TRAIN_SVM / $TEST_SVM (liblinear), $TRAIN_CSV / $TEST_CSV (cluster); ratio = ours / liblinear (below 1: we are faster);" \
             "workers run with --slots 1 on this one machine; their compute threads run at nice 19 + SCHED_IDLE, so other load on the machine slows them more than liblinear"
        echo
        echo "| row | what | ours | liblinear | ratio | notes |"
        echo "|---|---|---|---|---|---|"
        printf '%s\n' "${TABLE[@]}"
        if [ ${#NOTES[@]} -gt 0 ]; then
            echo
            printf -- '- %s\n' "${NOTES[@]}"
        fi
    } | tee "$BENCH_OUT"
}

main "$@"
