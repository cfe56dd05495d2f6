#!/usr/bin/env bash
# Issue 8: every command the README shows exists and runs (--help at least),
# and the make targets it names exist.
. "$(dirname "$0")/lib.sh"
cd "$NC_ROOT" || fail "no repo"
readme=README.md
for target in demo test bench fuzz data data-full format lint; do
    grep -q "make $target" "$readme" || continue
    make -n "$target" >/dev/null 2>&1 || fail "README shows 'make $target' but the Makefile has no such target"
done
grep -o 'bin/master [a-z-]*' "$readme" | sort -u | while read -r _ sub; do
    case "$sub" in train|search|test|export|serve|bench-dispatch|runs) ;; keygen) ;; *) continue ;; esac
    "$NC_BIN/master" "$sub" --help >/dev/null 2>&1 || fail "bin/master $sub --help failed"
done || exit 1
"$NC_BIN/master" --help | grep -q "Select mode" || fail "bin/master --help does not describe the interactive mode"
"$NC_BIN/master" --version >/dev/null || fail "bin/master --version"
"$NC_BIN/worker" --help >/dev/null || fail "bin/worker --help"
# Every option the README lists for the master is accepted by the parser.
for opt in --config --set --no-dashboard --keep-running --data --model --out --label --id \
           --format --scale --solver -C --eps --bias --strategy --rounds --cv --shard-rows \
           --min-workers --resume --C-list --solvers --no-final; do
    grep -q -- "$opt" "$readme" || continue
    "$NC_BIN/master" --help | grep -q -- "$opt" || fail "README option $opt is not in master --help"
done
for opt in --master --name --slots --when; do
    "$NC_BIN/worker" --help | grep -q -- "$opt" || fail "worker --help lacks $opt"
done
for s in scripts/demo.sh scripts/bench.sh scripts/prepare-data.sh scripts/install-worker.sh; do
    [ -x "$s" ] || fail "$s is not executable"
done
scripts/install-worker.sh --dry-run >/dev/null 2>&1 || fail "install-worker.sh --dry-run failed"
echo "ok: README commands"
