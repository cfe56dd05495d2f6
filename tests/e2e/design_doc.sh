#!/usr/bin/env bash
# docs/DESIGN.md is the user contract: the README links to it, and every name
# a user or a script can meet in the code is in it — config keys (the table
# in common/config.c), master and worker options (--help), master commands,
# events published by the master, REST routes, Prometheus metrics and SQLite
# tables. A name added to the code without a line in DESIGN.md fails here.
. "$(dirname "$0")/lib.sh"
cd "$NC_ROOT" || fail "no repo"
doc=docs/DESIGN.md
[ -f "$doc" ] || fail "$doc is missing"
grep -q '(docs/DESIGN.md)' README.md || fail "README.md does not link to docs/DESIGN.md"
! grep -qi 'shared design folder' README.md || fail "README.md still points to the shared design folder"

missing=()
checked=0
need() { checked=$((checked + 1)); grep -qF -- "$1" "$doc" || missing+=("$2 $1"); }

# config keys: FIELD(section, key, type) in common/config.c
keys=$(sed -n 's/^ *FIELD(\([a-z_]*\), \([A-Za-z_]*\), F_[A-Z]*),$/\1.\2/p' common/config.c)
[ "$(wc -l <<<"$keys")" -ge 30 ] || fail "could not read the config table of common/config.c"
for k in $keys; do need "\`$k\`" "config key"; done

# options as --help prints them (master's job options sit several to a line)
for opt in $("$NC_BIN/master" --help | grep -oE '(^| )(--[a-z-]+|-[A-Za-z])\b' | sort -u); do
    need "$opt" "master option"
done
for opt in $("$NC_BIN/worker" --help | grep -oE '(^| )(--[a-z-]+|-[A-Za-z])\b' | sort -u); do
    need "$opt" "worker option"
done

# master commands: the "Commands:" block of --help (printed from cli.c's table)
for c in $("$NC_BIN/master" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
    need "master $c" "master command"
done

# events published by the master and forwarded to browsers: the table of common/events.c
for e in $(grep -o '\[EV_[A-Z_]*\] = {"[a-z_]*", EVS_MASTER' common/events.c | cut -d'"' -f2 | sort -u); do
    need "\`$e\`" "event"
done

# REST routes and metrics of the dashboard, SQLite tables
routes=$(cat dashboard/*.c | grep -o 'strcmp(path, "/[a-z/.]*")' | cut -d'"' -f2 | sort -u)
[ "$(wc -w <<<"$routes")" -ge 5 ] || fail "could not read the routes of dashboard/*.c"
for r in $routes; do
    need "$r" "route"
done
for m in $(grep -ho 'netcompute_[a-z_]*' dashboard/dashstate.c | sort -u); do
    need "$m" "metric"
done
for t in $(grep -ho 'CREATE TABLE IF NOT EXISTS [a-z_]*' dashboard/history.c master/journal.c | awk '{print $6}'); do
    need "\`$t\`" "table"
done

# 41 keys, 30+ options, 5 commands, 10 events, 6 routes, 6 metrics, 6 tables
[ "$checked" -ge 100 ] || fail "only $checked names read from the code: has a pattern above gone stale?"
if [ ${#missing[@]} -gt 0 ]; then
    for m in "${missing[@]}"; do echo "not in $doc: $m" >&2; done
    fail "${#missing[@]} name(s) of the code are not in $doc"
fi
echo "design_doc: $checked names; every config key, option, command, event, route, metric and table is in $doc"
