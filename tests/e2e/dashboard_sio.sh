#!/usr/bin/env bash
# Issue 6: the stock socket.io-client (npm, websocket transport) connects to
# the dashboard of a real master while 2 real workers run a training job, and
# receives snapshot, update_stats and worker_stats within 3 s; a client that
# connects after the job (--keep-running) still gets both. Workers are slowed
# (NC_TEST_TRON_DELAY_MS) so that the job is still running when the client connects.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dashboard_lib.inc"
need_node socket.io-client
nc_setup
dash_train_csv 4000 "$T/train.csv"
nc_master_bg train --data "$T/train.csv" --min-workers 2 --scale none --keep-running -v
dash_wait_up
NC_TEST_TRON_DELAY_MS=100 nc_worker w1
NC_TEST_TRON_DELAY_MS=100 nc_worker w2
WAIT_S=60 wait_for dash_job_running || { cat "$T/master.log"; fail "the job did not start training"; }
export DASH_PORT
node "$NC_ROOT/tests/js/sio_client.mjs" running || fail "socket.io client during the job"
WAIT_S=90 wait_for log_has "$T/master.out" "Training accuracy" || { cat "$T/master.log"; fail "the job did not finish"; }
node "$NC_ROOT/tests/js/sio_client.mjs" done || fail "socket.io client after the job"
dash_stop_master
echo ok
