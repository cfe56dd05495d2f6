/* loop: the worker's main loop — one thread that owns the three sockets.
 *
 * worker_run() connects DEALER (tasks), PUSH (results) and PUB (heartbeats)
 * to the master, starts the executor threads and serves until *stop is set:
 *
 *   - READY on start and after every reconnect, each time under a fresh
 *     random routing id ("w" + 16 hex digits): a new identity means the
 *     master owes us nothing and we owe it nothing, so queued and running
 *     tasks and the shard cache are dropped on reconnect and on RESET.
 *   - TASK frames are checked (header, channel, frame count, flags); context
 *     and shard frames go to the cache; the task waits in a FIFO until one of
 *     the `slots` executors is free. The master's credit bounds the queue.
 *   - RESULT or FAIL goes out on PUSH as soon as an executor finishes; a task
 *     that names a shard we lack is answered FAIL NOSHARD at once.
 *   - CANCEL drops a queued task or flags a running one (its result is
 *     discarded).
 *   - HEARTBEAT every cluster.heartbeat_ms on PUB with sysstat figures.
 *   - Paranoid Pirate: any valid message from the master (it PINGs every
 *     heartbeat) refreshes liveness; after liveness * heartbeat_ms of silence
 *     on a connected DEALER, it is closed and reopened under a new id after a
 *     backoff of 1 s doubling to 32 s, reset by the next message heard.
 *     While there is no TCP connection at all (master not started yet, or
 *     gone), ZeroMQ's own reconnect (100 ms doubling to 32 s) does the
 *     waiting and a socket monitor reports the connection: when it drops, our
 *     leases are void (dropped at once); when it comes back (a completed
 *     ZeroMQ handshake), READY goes out again.
 *   - Telling apart why there is no master, one log line per backoff step:
 *     no answer (said at 3, 6, 12, 24, 48 and 80 s, then every 5 minutes,
 *     with the address and whether the host refuses the connection --
 *     nothing listening -- or does not answer at all -- unreachable or
 *     firewalled); something that accepts TCP but fails, closes or never
 *     completes the ZeroMQ handshake (not a master: worker/probe.h
 *     says what it is, e.g. the dashboard's HTTP server; the DEALER is closed
 *     and reopened after our 1 s .. 32 s backoff instead of ZeroMQ's 100 ms);
 *     a master that completed the handshake but went silent (slow, stuck or
 *     stopped: the Paranoid Pirate reconnect above).
 *   - worker.when "idle": idle_check() runs every 250 ms. On PAUSE every
 *     queued and running task is handed back (HANDBACK; running ones are
 *     cancelled) and new tasks are handed back as they come; heartbeats say
 *     "paused" with the reason. On RUN again the worker sends READY, which
 *     is what re-opens credit on the master (HANDBACK closed it). A reconnect
 *     while paused still says READY (a master PINGs only workers it knows);
 *     whatever it leases then goes straight back.
 *   - Heartbeats start once the master has answered our READY, so it never
 *     has to drop a heartbeat from an id it has not registered yet.
 *   - *stop: every queued and running task is handed back, BYE is sent and
 *     the PUSH socket gets a short linger to deliver what is in flight.
 *
 * Malformed messages are dropped, counted and logged at most once a second.
 */
#ifndef NC_WORKER_LOOP_H
#define NC_WORKER_LOOP_H

#include "common/config.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define WORKER_VERSION "0.1.0"

typedef struct worker_opts {
    int die_after;        /* > 0: _exit(137) right after sending this many results */
    const char *sys_root; /* sysstat/idle test seam; NULL = the real system */
    int backoff_min_ms;   /* reconnect backoff; 0 = 1000 */
    int backoff_max_ms;   /* 0 = 32000 */
} worker_opts_t;

/* Counters a caller (a test) may read after worker_run returns. */
typedef struct worker_stats {
    uint64_t results, fails, dropped, reconnects, handbacks, heartbeats;
} worker_stats_t;

/* Runs the worker until *stop becomes non-zero. cfg is borrowed; name, slots
 * and when come from cfg->worker (empty name = host name, slots 0 = cores).
 * Returns 0 after a clean stop, -1 when it could not start (err says why).
 * stats may be NULL. */
int worker_run(const config_t *cfg, const worker_opts_t *opts, volatile sig_atomic_t *stop,
               worker_stats_t *stats, char *err, size_t errlen);

#endif
