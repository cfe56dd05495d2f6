#!/usr/bin/env bash
# `master test` outputs that are not regular files are written in place and
# never replaced: a character device (a private twin of /dev/null, then
# /dev/null itself), a FIFO with a reader (the exact bytes a regular file
# gets), a FIFO whose reader comes later (one "waiting for a reader" line),
# a Unix socket (connected to), `--out -` (the same bytes on stdout, the
# report on stderr), and a full device (a twin of /dev/full: exit 1, one
# line, the device stays). An output
# that is an input (--out = --data, a hard link of it, the model or its
# schema) is refused with exit 2 before waiting for workers, the input intact.
# A symbolic link as output keeps the link and replaces the file it names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/predict_lib.inc"
command -v liblinear-train >/dev/null || { echo "liblinear-tools not installed"; exit 77; }
nc_setup
make_csv_model "$T" || fail "liblinear-train"
gen_csv 4000 5 >test.csv
nc_worker w1

run_test() { # run_test OUT [more args]: exit status in $rc, stdout in run.out, stderr in run.err
    local out=$1; shift
    timeout 120 "$NC_BIN/master" test --config config.json --no-dashboard --data test.csv \
        --model model.txt --out "$out" "$@" >run.out 2>run.err
    rc=$?
}

run_test ref.csv
[ "$rc" -eq 0 ] || { cat run.err; fail "reference run: exit $rc"; }
[ "$(wc -l <ref.csv)" -eq 4001 ] || fail "reference run: $(wc -l <ref.csv) lines"

# A character device: a private /dev/null twin first, so that a regression
# cannot replace the machine's /dev/null.
if mknod "$T/null" c 1 3 2>/dev/null; then
    run_test "$T/null"
    [ "$rc" -eq 0 ] || { cat run.err; fail "--out to a null device: exit $rc"; }
    [ -c "$T/null" ] || fail "--out replaced the character device with $(stat -c %F "$T/null")"
    ! ls -A "$T" | grep -q '^\.null\.' || fail "temporary files beside the device: $(ls -A "$T")"
    run_test /dev/null
    [ "$rc" -eq 0 ] || { cat run.err; fail "--out /dev/null: exit $rc"; }
    [ -c /dev/null ] || fail "/dev/null is no longer a character device"
    note "--out /dev/null: done, still a character device"
else
    note "mknod not permitted: the device cases are skipped"
fi

# A FIFO with its reader already there: the bytes of the regular file.
mkfifo fifo
timeout 60 cat fifo >from_fifo.csv &
reader=$!
run_test fifo
[ "$rc" -eq 0 ] || { cat run.err; fail "--out FIFO: exit $rc"; }
wait "$reader" || fail "the FIFO's reader failed"
cmp -s from_fifo.csv ref.csv || fail "the FIFO carried other bytes than the regular file ($(wc -c <from_fifo.csv) vs $(wc -c <ref.csv))"
[ -p fifo ] || fail "the FIFO was replaced by $(stat -c %F fifo)"
! ls -A | grep -q '^\.fifo\.' || fail "temporary files beside the FIFO"

# A FIFO whose reader comes later: the master says it waits, then writes.
mkfifo late
"$NC_BIN/master" test --config config.json --no-dashboard --data test.csv --model model.txt \
    --out late >late.out 2>late.err &
master=$!
NC_PIDS+=("$master")
wait_for log_has late.err "waiting for a reader on FIFO late" || { cat late.err; fail "no waiting line"; }
cat late >from_late.csv
wait "$master" || { cat late.err; fail "--out FIFO with a late reader: master failed"; }
cmp -s from_late.csv ref.csv || fail "the late FIFO carried other bytes than the regular file"
[ "$(grep -c 'waiting for a reader' late.err)" -eq 1 ] || fail "the waiting line is repeated"

# A Unix socket: connected to, written in place.
if command -v python3 >/dev/null; then
    timeout 60 python3 - "$T/sock" "$T/from_sock.csv" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
with open(sys.argv[2], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
PY
    listener=$!
    wait_for test -S "$T/sock" || fail "the test's socket listener did not start"
    run_test "$T/sock"
    [ "$rc" -eq 0 ] || { cat run.err; fail "--out socket: exit $rc"; }
    wait "$listener" || fail "the socket's listener failed"
    cmp -s from_sock.csv ref.csv || fail "the socket carried other bytes than the regular file"
    [ -S "$T/sock" ] || fail "the socket was replaced"
fi

# Standard output: the same bytes; what the master says goes to stderr.
run_test -
[ "$rc" -eq 0 ] || { cat run.err; fail "--out -: exit $rc"; }
cmp -s run.out ref.csv || { head -3 run.out; fail "--out - wrote other bytes than the regular file"; }
grep -q '^Accuracy = ' run.err || fail "--out -: the accuracy line is not on stderr"

# A full device: one line, exit 1, the device stays.
if mknod "$T/full" c 1 7 2>/dev/null; then
    run_test "$T/full"
    [ "$rc" -eq 1 ] || { cat run.err; fail "--out full device: exit $rc, want 1"; }
    [ "$(grep -c '^master: ' run.err)" -eq 1 ] || { cat run.err; fail "full device: not one error line"; }
    grep '^master: ' run.err | grep -q "No space left on device" || { cat run.err; fail "full device: message"; }
    [ -c "$T/full" ] || fail "--out replaced the full device"
    note "full device: $(grep '^master: ' run.err)"
fi

# An output that is an input: exit 2 before waiting for any worker (5 are
# asked for, 1 runs), nothing touched.
expect_clash() { # expect_clash WHAT FILE-KEPT ARGS...
    local what=$1 kept=$2; shift 2
    local before
    before=$(sha256sum <"$kept")
    timeout 20 "$NC_BIN/master" test --config config.json --no-dashboard --min-workers 5 "$@" \
        >clash.out 2>clash.err
    local rc=$?
    [ "$rc" -eq 2 ] || { cat clash.err; fail "$what: exit $rc, want 2"; }
    [ "$(grep -c '^master: ' clash.err)" -eq 1 ] || { cat clash.err; fail "$what: not one error line"; }
    grep '^master: ' clash.err | grep -q 'same file' || { cat clash.err; fail "$what: message"; }
    [ "$(sha256sum <"$kept")" = "$before" ] || fail "$what: $kept changed"
    ! grep -q 'waiting for' clash.err || fail "$what: waited before refusing"
    note "$what: $(grep '^master: ' clash.err)"
}
expect_clash "--out = --data" test.csv --data test.csv --model model.txt --out test.csv
grep '^master: ' clash.err | grep -q -- '--out test.csv.*--data test.csv\|--data test.csv.*--out test.csv' ||
    fail "the message does not name both files: $(cat clash.err)"
ln test.csv hard.csv
expect_clash "--out = a hard link of --data" test.csv --data test.csv --model model.txt --out hard.csv
expect_clash "--out = --model" model.txt --data test.csv --model model.txt --out model.txt
expect_clash "--out = the schema" model.txt.schema.json --data test.csv --model model.txt \
    --out model.txt.schema.json

# A symbolic link: the file it names is replaced, the link stays.
echo old >target.csv
ln -s target.csv link.csv
run_test link.csv
[ "$rc" -eq 0 ] || { cat run.err; fail "--out symlink: exit $rc"; }
[ -L link.csv ] || fail "the symbolic link was replaced"
cmp -s target.csv ref.csv || fail "the link's file does not hold the predictions"
exit 0
