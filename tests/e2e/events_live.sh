#!/usr/bin/env bash
# Issue 14: what a real master publishes matches the event table of
# common/events.c (tests/js/events_live.mjs reads it back over REST): a
# training job's and a test job's events, iterations, timeline, summary and
# workers have the table's fields with its types, and nothing else. A test
# job names its predictions file outputs.submission, like training, so the
# path is still there after a restart (read back from the history file).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
need_node
nc_setup
dash_train_csv 2000 "$T/train.csv"
live() { node "$NC_ROOT/tests/js/events_live.mjs" "$NC_ROOT" "$@"; }
export DASH_PORT

nc_master_bg train --data "$T/train.csv" --min-workers 1 --scale none --keep-running
dash_wait_up
nc_worker w1
WAIT_S=120 wait_for log_has "$T/master.out" "Training accuracy" || { cat "$T/master.log"; fail "training did not finish"; }
live train || fail "a training job's events differ from the table"
dash_stop_master

nc_master_bg test --data "$T/train.csv" --scale none --keep-running
dash_wait_up
WAIT_S=120 wait_for log_has "$T/master.out" "predictions to" || { cat "$T/master.log"; fail "the test job did not finish"; }
live test "$T/submission_test.csv" || fail "a test job's events differ from the table"
dash_stop_master

# a restart: the summaries come from the history file
nc_master_bg serve
dash_wait_up
live history "$T/submission_test.csv" || fail "the test job's predictions file is lost after a restart"
dash_stop_master
echo ok
