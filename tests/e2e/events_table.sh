#!/usr/bin/env bash
# Issue 14: the web app speaks the event vocabulary of common/events.c: every
# event dashboard/web/app.js listens to is in the table, and every field it
# reads of an event is one the table gives it (one name for a job's id:
# job_id). Also runs the check against an app.js that reads a field no event
# has, to show that the check can fail.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { echo "skip: node not installed"; exit 77; }
node "$NC_ROOT/tests/js/events_table.mjs" "$NC_ROOT" || fail "app.js and common/events.c disagree"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/common" "$T/dashboard/web"
cp "$NC_ROOT/common/events.c" "$T/common/"
sed "s/state.job.id === it.job_id/state.job.id === it.job_no/" "$NC_ROOT/dashboard/web/app.js" \
    >"$T/dashboard/web/app.js"
cmp -s "$T/dashboard/web/app.js" "$NC_ROOT/dashboard/web/app.js" && fail "the broken copy is not broken"
node "$NC_ROOT/tests/js/events_table.mjs" "$T" >/dev/null && fail "the check accepts it.job_no"
echo ok
