#!/usr/bin/env bash
# Bounded master memory: /usr/bin/time -v of the (release) master predicting
# a generated ~1 GB CSV with 2 workers; peak RSS must stay under 200 MB.
# Takes about 40 s on a 2-core machine (measured: 24 MB peak RSS, 29 s for
# 1 GB / 4.68 M rows) and ~1.3 GB of /tmp while it runs; NC_SKIP_BIG=1 skips
# it, NC_BIG_MB sets the size (default 1024).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/predict_lib.inc"
[ -z "${NC_SKIP_BIG:-}" ] || { echo "NC_SKIP_BIG set: 1 GB memory test skipped"; exit 77; }
avail_mb=$(df -Pm /tmp | awk 'NR == 2 { print $4 }')
[ "${avail_mb:-0}" -gt 3000 ] || { echo "less than 3 GB free in /tmp"; exit 77; }
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not installed"; exit 77; }
NC_BIN=${NC_REL_BIN:-$NC_ROOT/bin}
NC_SHARD_ROWS=20000 nc_setup
make_csv_model "$T" || fail "liblinear-train"

# A 10 MB block of rows with a wide column the model does not use (extra
# columns are allowed), repeated up to the target size.
mb=${NC_BIG_MB:-1024}
gen_csv 40000 3 | awk -F, 'BEGIN { pad = sprintf("%200s", ""); gsub(/ /, "x", pad) }
    NR == 1 { print $0 ",note"; next } { print $0 "," pad }' >block.csv
head -1 block.csv >big.csv
blk=$(stat -c %s block.csv)
reps=$(( mb * 1048576 / blk + 1 ))
for _ in $(seq 1 "$reps"); do tail -n +2 block.csv; done >>big.csv
rm -f block.csv
size=$(stat -c %s big.csv); rows=$(( $(wc -l <big.csv) - 1 ))
note "big.csv: $((size / 1048576)) MB, $rows rows"

nc_worker w1; nc_worker w2
start=$(date +%s)
/usr/bin/time -v "$NC_BIN/master" test --config config.json --data big.csv --model model.txt \
    --out big-pred.csv --min-workers 2 --no-dashboard -q >master.out 2>master.log ||
    { tail -30 master.log; fail "master test"; }
secs=$(( $(date +%s) - start ))
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' master.log)
[ "$(wc -l <big-pred.csv)" -eq $((rows + 1)) ] || fail "output rows $(wc -l <big-pred.csv), want $((rows + 1))"
note "peak master RSS $((rss_kb / 1024)) MB predicting $((size / 1048576)) MB ($rows rows) in ${secs}s"
[ "$rss_kb" -lt $((200 * 1024)) ] || fail "peak RSS ${rss_kb} kB is over 200 MB"
