#!/usr/bin/env bash
# `master export` writes every row exactly once, in input order, whatever
# happens to the processes:
#  1. 40,000 CSV rows, 2 workers, undisturbed: the reference export (the
#     column n holds the row number, so its scaled value rises line by line).
#  2. A third worker dies (_exit, --die-after) after 3 results, holding
#     leases: its shards are exported again elsewhere; the output is byte for
#     byte the reference.
#  3. The master SIGKILLed mid-export, then `export --resume`: only the
#     shards not yet journalled are redone; byte for byte the reference, and
#     no partial file under the final name meanwhile.
. "$(dirname "$0")/lib.sh"
NC_SHARD_ROWS=500 nc_setup

# gen ROWS SEED: id, n (the row number), two numeric and one categorical
# column, a text label.
gen() {
    awk -v n="$1" -v seed="$2" 'BEGIN {
        srand(seed); print "id,n,x1,x2,color,label"; split("red green blue", c, " ");
        for (i = 1; i <= n; i++) {
            x1 = rand() * 4 - 2; x2 = rand() * 10; col = c[1 + int(rand() * 3)];
            s = x1 - 0.2 * x2 + (col == "red") + rand() - 0.5;
            printf "r%d,%d,%.3f,%.2f,%s,%s\n", i, i, x1, x2, col, (s > 0 ? "yes" : "no");
        }
    }'
}
gen 2000 1 >train.csv
gen 40000 2 >data.csv
m() { "$NC_BIN/master" "$@" --config config.json --no-dashboard; }
for w in b c; do nc_worker "$w" --slots 1; done
m train --data train.csv --min-workers 2 >/dev/null 2>train.log || { tail -3 train.log; fail "train"; }

# Every row once, in order: 40,000 lines whose feature 1 (n, scaled) rises.
check_rows() {
    [ "$(wc -l <"$1")" -eq 40000 ] || fail "$1: $(wc -l <"$1") lines"
    awk '{ split($2, f, ":"); if (f[1] != 1 || (NR > 1 && f[2] + 0 <= p)) { print NR; exit 1 }
           p = f[2] + 0 }' "$1" >/dev/null || fail "$1: rows out of order, missing or repeated"
}

# 1. Undisturbed.
m export --data data.csv --out ref.svm --min-workers 2 >/dev/null 2>ref.log ||
    { tail -3 ref.log; fail "undisturbed export"; }
check_rows ref.svm
note "reference: $(wc -l <ref.svm) rows"

# 2. A worker dies mid-export holding leases.
nc_worker a --slots 1 --die-after 3
m export --data data.csv --out died.svm --min-workers 3 >/dev/null 2>died.log ||
    { tail -3 died.log; fail "export with a dying worker"; }
wait "${WORKER_PID[a]}" 2>/dev/null
kill -0 "${WORKER_PID[a]}" 2>/dev/null && fail "worker a did not die"
# Its leases ran again elsewhere: as straggler copies, or once it was lost.
grep -q "worker a .*lost\|slow on a;" died.log || fail "worker a's leases never ran again"
cmp died.svm ref.svm || fail "the export with a dying worker differs from the reference"
check_rows died.svm
note "worker a died after 3 results; output identical to the reference"

# 3. The master killed mid-export, then resumed. The workers are throttled
# (frozen 80 % of the time, within liveness) so the kill lands mid-job.
( while :; do
      kill -STOP "${WORKER_PID[b]}" "${WORKER_PID[c]}" 2>/dev/null; sleep 0.12
      kill -CONT "${WORKER_PID[b]}" "${WORKER_PID[c]}" 2>/dev/null; sleep 0.03
  done ) &
THROTTLE=$!
NC_PIDS+=("$THROTTLE")
journalled() { [ -f .resumed.svm.journal ] && [ "$(grep -c '^[OS]' .resumed.svm.journal)" -ge 5 ]; }
nc_master_bg export --data data.csv --out resumed.svm --no-dashboard --min-workers 2
WAIT_S=120 wait_for journalled || fail "no shard journalled"
kill -9 "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
kill "$THROTTLE" 2>/dev/null
wait "$THROTTLE" 2>/dev/null
kill -CONT "${WORKER_PID[b]}" "${WORKER_PID[c]}" 2>/dev/null
[ -e resumed.svm ] && fail "the master finished before the kill (or left a partial file)"
m export --data data.csv --out resumed.svm --min-workers 2 --resume >/dev/null 2>resumed.log ||
    { tail -3 resumed.log; fail "resumed export"; }
grep -q "resuming: [1-9][0-9]* of [0-9]* shards already done" resumed.log ||
    fail "the resumed export redid everything: $(grep -v warn resumed.log | head -3)"
cmp resumed.svm ref.svm || fail "the resumed export differs from the reference"
ls -a | grep -q '^\.resumed\.svm\.' && fail "temporary files left: $(ls -a)"
note "master killed mid-export; $(grep -o 'resuming: .*' resumed.log); output identical"
echo "export_faults: ok"
