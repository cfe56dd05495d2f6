#!/usr/bin/env bash
# Reproduction found by the chaos soak (scripts/soak.sh, disk_full): a training
# job that runs out of disk space while writing its submission ends failed
# (exit 1) but leaves the new model.txt and model.txt.schema.json in place,
# beside whatever submission an earlier run left: the output folder then mixes
# two runs. Expected: a failed job leaves no final output of its own.
# Exit 0 when the behaviour is right, 1 when the bug shows, 77 without tmpfs.
# Needs root (mount -t tmpfs). NC_BIN picks the binaries (default bin/).
. "$(dirname "$0")/../../tests/e2e/lib.sh"
NC_BIN=${NC_BIN:-$NC_ROOT/bin}
nc_setup
trap 'umount "$T/m" 2>/dev/null; nc_cleanup' EXIT
awk 'BEGIN { srand(1); print "id,a,b,label"
    for (i = 1; i <= 3000; i++) { c = int(rand() * 2)
        printf "r%d,%.6f,%.6f,%s\n", i, c + rand() * 2, rand(), c ? "x" : "y" } }' >d.csv
mkdir m && mount -t tmpfs -o size=1m tmpfs m 2>/dev/null || { echo "no tmpfs mount"; exit 77; }
dd if=/dev/zero of=m/fill bs=64k 2>/dev/null
truncate -s -16384 m/fill # 16 KB free: room for the model, not the submission
nc_worker a --slots 1
"$NC_BIN/master" train --config config.json --no-dashboard -q --data d.csv \
    --model m/model.txt --out m/sub.csv 2>master.err
rc=$?
echo "exit $rc: $(tail -1 master.err)"
ls -l m/model.txt* m/sub.csv* 2>/dev/null
[ $rc -eq 1 ] || fail "expected exit 1 on a full disk, got $rc"
[ -e m/model.txt ] || [ -e m/model.txt.schema.json ] && fail "the failed job left its model and schema"
exit 0
