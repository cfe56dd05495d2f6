#!/usr/bin/env bash
# A worker whose --master/task port reaches no master tells the user what is
# wrong, once per backoff step, instead of reconnecting ten times a second
# (103 log lines in 7 s against the dashboard port) or waiting without a word:
#   - an HTTP server (here Python's, and the master's own dashboard);
#   - a TCP service that accepts and says nothing;
#   - a port nobody listens on, and a host that does not answer at all.
# Then a real master on the same port is found and used.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
nc_setup

# run_worker SECONDS NAME TASK_PORT: a worker for SECONDS, stopped with SIGINT.
run_worker() {
    timeout --preserve-status -s INT "$1" "$NC_BIN/worker" --config config.json --name "$2" \
        --set master.task_port="$3" >"worker-$2.log" 2>&1
    local rc=$?
    [ $rc -eq 0 ] || { cat "worker-$2.log"; fail "$2: worker exit $rc"; }
    grep -E "runtime error|AddressSanitizer" "worker-$2.log" && fail "$2: sanitizer report"
    note "$2: $(wc -l <"worker-$2.log") lines in $1 s"
}

# at_most FILE N: the log has no more than N lines
at_most() {
    local n
    n=$(wc -l <"$1")
    [ "$n" -le "$2" ] || { cat "$1"; fail "$1: $n lines, expected at most $2"; }
}

# 1. Python's HTTP server: named, and at most one line per backoff step
#    (1, 2, 4 s: three steps in 8 s, plus the start and stop lines).
HTTP_PORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$HTTP_PORT" >/dev/null 2>&1 &
NC_PIDS+=($!)
wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$HTTP_PORT" 2>/dev/null || fail "http.server did not start"
run_worker 8 http "$HTTP_PORT"
grep -q "127.0.0.1:$HTTP_PORT does not answer as a NetCompute master: .*it looks like an HTTP server (\"HTTP/1.0 " \
    worker-http.log || { cat worker-http.log; fail "the HTTP server was not named"; }
at_most worker-http.log 7

# 2. A service that accepts and never speaks (a stopped process looks the same).
SILENT_PORT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$SILENT_PORT" &
NC_PIDS+=($!)
wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$SILENT_PORT" 2>/dev/null || fail "silent server did not start"
run_worker 8 silent "$SILENT_PORT"
grep -q "did not complete the ZeroMQ handshake; it looks like a service that accepts connections and says nothing" \
    worker-silent.log || { cat worker-silent.log; fail "the silent service was not described"; }
at_most worker-silent.log 5

# 3. Nobody listening: said after a few seconds, with the address.
NONE_PORT=$(free_port)
run_worker 8 none "$NONE_PORT"
grep -q "no answer from 127.0.0.1:$NONE_PORT for [0-9]* s: nothing is listening there" worker-none.log ||
    { cat worker-none.log; fail "an empty port was not reported"; }
at_most worker-none.log 5

# 3b. A host that drops our SYNs (here: a listener whose accept queue is full,
#     which the kernel treats so) leaves the connect pending with no event.
FULL_PORT=$(free_port)
python3 -c '
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket(); s.bind(("127.0.0.1", port)); s.listen(0)
fill = []
for i in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(c)
time.sleep(600)
' "$FULL_PORT" &
NC_PIDS+=($!)
sleep 0.5
run_worker 8 full "$FULL_PORT"
grep -q "no answer from 127.0.0.1:$FULL_PORT for [0-9]* s: the host does not answer" worker-full.log ||
    { cat worker-full.log; fail "a host that does not answer was not reported"; }
at_most worker-full.log 5

# 4. The master's own dashboard port; then the master's task port works.
nc_master_bg serve
wait_for log_has master.log "serving" || { cat master.log; fail "serve did not start"; }
timeout --preserve-status -s INT 6 "$NC_BIN/worker" --config config.json --name dash --set master.task_port="$DASH_PORT" \
    --set dashboard.port="$(free_port)" >worker-dash.log 2>&1
grep -q "127.0.0.1:$DASH_PORT does not answer as a NetCompute master: .*HTTP server" worker-dash.log ||
    { cat worker-dash.log; fail "the dashboard was not named"; }
grep -q "malformed" worker-dash.log && { cat worker-dash.log; fail "HTTP bytes taken for a master's message"; }
at_most worker-dash.log 6
nc_worker good
wait_for log_has master.log "worker good .* joined" || { cat worker-good.log; fail "a worker did not join the real master"; }
grep -q "not a NetCompute master\|no answer" worker-good.log && fail "a good master was taken for a stranger"
echo ok
