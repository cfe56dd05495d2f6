#!/usr/bin/env bash
# Bounded master memory for the training submission: /usr/bin/time -v of the
# (release) master training on a generated CSV whose submission is ~100 MB
# (long ids); the submission's lines pass through the ordered writer, so the
# master's peak RSS must stay far below the submission's size (under 70 MB).
# Before the writer, the master held every shard's lines until the last one
# arrived (measured: 113 MB then, 46 MB now). Shards of 10000 rows (~2 MB)
# keep the shard bytes in flight to the workers small beside that. Needs
# ~300 MB of /tmp; NC_SKIP_BIG=1 skips it.
. "$(dirname "$0")/lib.sh"
[ -z "${NC_SKIP_BIG:-}" ] || { echo "NC_SKIP_BIG set: memory test skipped"; exit 77; }
avail_mb=$(df -Pm /tmp | awk 'NR == 2 { print $4 }')
[ "${avail_mb:-0}" -gt 1000 ] || { echo "less than 1 GB free in /tmp"; exit 77; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not installed"; exit 77; }
NC_BIN=${NC_REL_BIN:-$NC_ROOT/bin}
NC_SHARD_ROWS=10000 nc_setup

rows=600000
awk -v n=$rows 'BEGIN {
    srand(7); pad = sprintf("%150s", ""); gsub(/ /, "x", pad);
    print "id,a,b,label";
    for (i = 1; i <= n; i++) {
        a = rand(); b = rand();
        print "row" i pad "," a "," b "," (a + b + rand() * 0.5 > 1.2 ? "yes" : "no");
    }
}' >big.csv

nc_worker w1; nc_worker w2
/usr/bin/time -v "$NC_BIN/master" train --config config.json --data big.csv --model big.txt \
    --out big-sub.csv --label label --id id --solver 2 --eps 0.1 --min-workers 2 \
    --no-dashboard -q >master.out 2>master.log || { tail -30 master.log; fail "master train"; }
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' master.log)
sub_mb=$(( $(stat -c %s big-sub.csv) / 1048576 ))
[ "$(wc -l <big-sub.csv)" -eq $((rows + 1)) ] || fail "submission rows $(wc -l <big-sub.csv), want $((rows + 1))"
[ "$(head -1 big-sub.csv)" = "id,label,predicted" ] || fail "submission header: $(head -1 big-sub.csv)"
cmp <(tail -n +2 big.csv | cut -d, -f1) <(tail -n +2 big-sub.csv | cut -d, -f1) ||
    fail "submission ids are not the training ids in input order"
note "peak master RSS $((rss_kb / 1024)) MB for a ${sub_mb} MB training submission"
[ "$rss_kb" -lt $((70 * 1024)) ] || fail "peak RSS ${rss_kb} kB is over 70 MB"
