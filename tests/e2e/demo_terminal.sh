#!/usr/bin/env bash
# Issue 18: `make demo` on a terminal (scripts/demo.sh under script(1), a
# pseudo-terminal) prints at most 15 lines, the dashboard's URL first, no
# warning; its progress bar shows, only moves forward within a phase, and is
# cleared at the end (no line is left showing a bar). The workers are slowed
# (NC_TEST_TRON_DELAY_MS) so that training lasts long enough to draw the bar.
. "$(dirname "$0")/lib.sh"
[ -d /usr/share/datasets/fashion-mnist ] || { echo "dataset-fashion-mnist not installed"; exit 77; }
command -v script >/dev/null || { echo "script (bsdutils) not installed"; exit 77; }
nc_setup
mkdir -p "$T/Data"
# make demo's own paths: model and outputs under Data/ (of $T)
python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); del c["model"], c["output"]
json.dump(c, open(sys.argv[1], "w"))' "$T/config.json" || fail "config"
export KEEP=0 TRAIN_ROWS=1500 TEST_ROWS=400 DEMO_DIR=$T CONFIG=$T/config.json NC_REL_BIN=$NC_BIN
export NC_TEST_TRON_DELAY_MS=40
COLUMNS=200 timeout 600 script -qfec "$NC_ROOT/scripts/demo.sh" /dev/null >"$T/tty.out" 2>&1 </dev/null ||
    { tail -c 2000 "$T/tty.out"; fail "demo.sh failed on a terminal"; }
lines=$(tr -cd '\n' <"$T/tty.out" | wc -c)
note "demo on a terminal: $lines lines"
tr -d '\r' <"$T/tty.out" | sed 's/\x1b\[K//g' | grep -v '^$' | head -20 >&2
[ "$lines" -le 15 ] || fail "$lines lines on a terminal, want at most 15"
head -1 "$T/tty.out" | grep -q '^demo: dashboard at http://' || fail "the URL is not the first line"
grep -q ' warn: ' "$T/tty.out" && fail "a warning on the demo's terminal"
grep -q 'Accuracy = ' "$T/tty.out" || fail "no accuracy"
grep -q 'submissions: Data/submission_train.csv (1500 rows), Data/submission_test.csv (400 rows)' \
    "$T/tty.out" || fail "the summary's submissions"
# The bar was drawn, and what each line finally shows (after its last \r) is no bar.
grep -q 'training   \[' "$T/tty.out" || fail "no progress bar drawn"
awk -F'\r' '{ v = $NF; sub(/^\x1b\[K/, "", v); if (v ~ /\[[#.]+\] +[0-9]+%/) { print "left: " v; bad = 1 } }
     END { exit bad }' "$T/tty.out" || fail "a progress bar was left on the screen"
# Forward only: within a phase, the percentages drawn never decrease.
tr '\r' '\n' <"$T/tty.out" | sed -n 's/^\(\x1b\[K\)\{0,1\}\([a-z-]*\) *\[[#.]*\] *\([0-9]*\)%.*/\2 \3/p' |
    awk '$1 != phase { phase = $1; last = -1 } $2 < last { print "back: " phase " " last " -> " $2; bad = 1 }
         { last = $2 } END { exit bad }' || fail "the progress bar ran backwards"
echo "ok: $lines lines on a terminal, bar forward only and cleared"
