#!/usr/bin/env bash
# Runs every test and prints one summary line "N passed, N failed".
#   unit:  build/san/tests/test_*   (cmocka; each test case counts)
#   fuzz:  build/fuzz/fuzz_* over tests/fuzz/corpus/<name>/ (one count each)
#   e2e:   tests/e2e/*.sh           (exit 0 pass, 77 skip, else fail)
#   lint:  make lint (format check, cppcheck) and no function over 80 lines
#          without a comment saying why (scripts/funclen.awk): one count each
# Logs go to tests/artifacts/. ONLY=pattern runs the matching tests alone.
set -u
cd "$(dirname "$0")/.."
export NC_ROOT=$PWD
export NC_BIN=${NC_BIN:-$PWD/build/san/bin}
export NC_REL_BIN=$PWD/bin
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
art=tests/artifacts
mkdir -p "$art"
passed=0 failed=0 skipped=0
failures=()
only=${ONLY:-}

for t in build/san/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    [ -n "$only" ] && [[ $name != *$only* ]] && continue
    log=$art/$name.log
    timeout 600 "$t" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    p=${p:-0} f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed or leaked
    passed=$((passed + p)); failed=$((failed + f))
    printf '%-40s %3d passed, %d failed\n' "$name" "$p" "$f"
    [ "$f" -gt 0 ] && failures+=("$log")
done

for fz in build/fuzz/fuzz_*; do
    [ -x "$fz" ] || continue
    name=$(basename "$fz")
    [ -n "$only" ] && [[ $name != *$only* ]] && continue
    corpus=tests/fuzz/corpus/$name
    [ -d "$corpus" ] || continue
    log=$art/$name.log
    if "$fz" -runs=0 "$corpus" >"$log" 2>&1 && "$fz" $(find "$corpus" -type f) >>"$log" 2>&1; then
        passed=$((passed + 1)); printf '%-40s corpus ok\n' "$name"
    else
        failed=$((failed + 1)); failures+=("$log"); printf '%-40s CORPUS FAILED\n' "$name"
    fi
done

# check NAME CMD...: one pass or fail, output in tests/artifacts/NAME.log
check() {
    local name=$1; shift
    [ -n "$only" ] && [[ $name != *$only* ]] && return 0
    if "$@" >"$art/$name.log" 2>&1; then
        passed=$((passed + 1)); printf '%-40s ok\n' "$name"
    else
        failed=$((failed + 1)); failures+=("$art/$name.log"); printf '%-40s FAILED\n' "$name"
    fi
}
check lint make -s --no-print-directory lint
check function_length awk -f scripts/funclen.awk common/*.c master/*.c worker/*.c dashboard/*.c

for e in tests/e2e/*.sh; do
    [ -f "$e" ] || continue
    name=$(basename "$e" .sh)
    [ "$name" = lib ] && continue # shared helpers, not a test
    [ -n "$only" ] && [[ $name != *$only* ]] && continue
    log=$art/e2e-$name.log
    start=$(date +%s)
    timeout "${E2E_TIMEOUT:-900}" bash "$e" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
    0) passed=$((passed + 1)); printf '%-40s ok (%ds)\n' "e2e/$name" "$secs" ;;
    77) skipped=$((skipped + 1)); printf '%-40s skipped: %s\n' "e2e/$name" "$(tail -1 "$log")" ;;
    *) failed=$((failed + 1)); failures+=("$log"); printf '%-40s FAILED rc=%d (%ds)\n' "e2e/$name" "$rc" "$secs" ;;
    esac
done

for log in "${failures[@]}"; do
    echo "---- $log (last 30 lines)"
    tail -30 "$log"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
