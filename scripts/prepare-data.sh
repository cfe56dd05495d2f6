#!/usr/bin/env bash
# Builds NetCompute's default data set from Debian's dataset-fashion-mnist.
#
#   scripts/prepare-data.sh          demo subset: Data/train.csv (12,000 rows),
#                                    Data/test.csv (2,000 rows), + .svm twins
#   FULL=1 scripts/prepare-data.sh   all 60,000 / 10,000 rows into Data/full/
#
# Every .csv is `id,label,p0..p783` with pixels scaled to [0,1]; every .svm
# holds the same rows with the same numbers as text in libsvm form, so that
# liblinear-train on the .svm sees what the cluster sees in the .csv with
# data.scale "none". The rows are the first N of each IDX file, in order.
#
# Environment (all optional):
#   FULL=1            full set into Data/full/ (the demo subset stays)
#   OUT_DIR=DIR       where to write (default Data, or Data/full with FULL=1)
#   TRAIN_ROWS=N      training rows (default 12000, or all with FULL=1)
#   TEST_ROWS=N       test rows (default 2000, or all with FULL=1)
#   DATASET_DIR=DIR   IDX .gz files (default /usr/share/datasets/fashion-mnist)
#   NC_REL_BIN=DIR    where bin/idx2csv is (default bin)
#
# Idempotent: when all four outputs exist, are newer than the IDX files and
# were made with the same row counts, it only says so. Outputs are written to
# temporary names and renamed, so an interrupted run leaves no half file.
# Exit status: 0 ok, 1 conversion failed, 2 missing tool or data set.
set -euo pipefail
cd "$(dirname "$0")/.."

src=${DATASET_DIR:-/usr/share/datasets/fashion-mnist}
idx2csv=${NC_REL_BIN:-bin}/idx2csv
if [ "${FULL:-0}" = 1 ]; then
    out=${OUT_DIR:-Data/full}
    train_rows=${TRAIN_ROWS:-all}
    test_rows=${TEST_ROWS:-all}
else
    out=${OUT_DIR:-Data}
    train_rows=${TRAIN_ROWS:-12000}
    test_rows=${TEST_ROWS:-2000}
fi
for n in "$train_rows" "$test_rows"; do
    if ! [[ $n =~ ^([0-9]+|all)$ ]]; then
        echo "prepare-data: row count '$n' is not a number or 'all'" >&2
        exit 2
    fi
done

inputs=("$src/train-images-idx3-ubyte.gz" "$src/train-labels-idx1-ubyte.gz"
        "$src/t10k-images-idx3-ubyte.gz" "$src/t10k-labels-idx1-ubyte.gz")
for f in "${inputs[@]}"; do
    if [ ! -r "$f" ]; then
        echo "prepare-data: $f is missing; install it with: sudo apt-get install dataset-fashion-mnist" >&2
        exit 2
    fi
done
if [ ! -x "$idx2csv" ]; then
    echo "prepare-data: $idx2csv is missing; run make first" >&2
    exit 2
fi

outputs=("$out/train.csv" "$out/train.svm" "$out/test.csv" "$out/test.svm")
stamp=$out/.prepare-data
want="train=$train_rows test=$test_rows source=$src"

up_to_date() {
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || return 1
    local o i
    for o in "${outputs[@]}"; do
        [ -f "$o" ] || return 1
        for i in "${inputs[@]}"; do
            [ "$o" -nt "$i" ] || return 1
        done
    done
}

# Human-readable size of a file, e.g. "51 MB".
size_of() {
    local b
    b=$(stat -c %s "$1")
    awk -v b="$b" 'BEGIN { if (b >= 1e6) printf "%.0f MB", b / 1e6; else printf "%.0f kB", b / 1e3 }'
}

# Counts data rows of a CSV (lines minus the header).
rows_of() {
    echo $(($(wc -l <"$1") - 1))
}

if up_to_date; then
    echo "prepare-data: up to date: $out/train.csv ($(rows_of "$out/train.csv") rows)," \
         "$out/test.csv ($(rows_of "$out/test.csv") rows) and their .svm twins"
    exit 0
fi

mkdir -p "$out"
rm -f "$stamp"
tmp_files=()
cleanup() { [ ${#tmp_files[@]} -eq 0 ] || rm -f "${tmp_files[@]}"; }
trap cleanup EXIT

# convert SPLIT IDXPREFIX ROWS: writes $out/SPLIT.csv and .svm from IDXPREFIX-*.gz.
convert() {
    local split=$1 prefix=$2 rows=$3
    local csv=$out/$split.csv svm=$out/$split.svm
    local tcsv=$csv.tmp.$$ tsvm=$svm.tmp.$$
    local limit=()
    [ "$rows" = all ] || limit=(--limit "$rows")
    tmp_files+=("$tcsv" "$tsvm")
    local t0 t1
    t0=$(date +%s.%N)
    # gzip's own complaints are silenced: with --limit idx2csv stops reading
    # early (gzip then sees a broken pipe), and a damaged archive shows up as
    # a truncated or malformed IDX stream that idx2csv reports.
    if ! "$idx2csv" --images <(gzip -dc "$src/$prefix-images-idx3-ubyte.gz" 2>/dev/null) \
                    --labels <(gzip -dc "$src/$prefix-labels-idx1-ubyte.gz" 2>/dev/null) \
                    --out "$tcsv" --libsvm "$tsvm" "${limit[@]}"; then
        echo "prepare-data: converting $src/$prefix-*.gz failed" >&2
        exit 1
    fi
    t1=$(date +%s.%N)
    mv -f "$tcsv" "$csv"
    mv -f "$tsvm" "$svm"
    printf 'prepare-data: made %s (%s rows, %s) and %s (%s) in %.1f s\n' \
        "$csv" "$(rows_of "$csv")" "$(size_of "$csv")" "$svm" "$(size_of "$svm")" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}

convert train train "$train_rows"
convert test t10k "$test_rows"
echo "$want" >"$stamp"
