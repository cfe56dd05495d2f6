/* reduce: a worker's side of the reduction tree (cluster.reduce "tree",
 * common/treemsg.h).
 *
 * The module owns one PULL socket, the tree port, bound on the address this
 * host reaches the master from (worker.tree_port, 0 = any free port; the
 * port goes out in READY, the master takes the address it sees), and the
 * PUSH sockets to the parents it sends to (a few, kept between rounds). It
 * is driven by the worker's main thread, which owns it like its other
 * sockets:
 *   - reduce_own() takes a finished tree task (its tronmsg result in
 *     t->result and its node) and keeps it until its children's partial sums
 *     are in, or until wait_ms x its height has passed since it finished;
 *   - reduce_recv() reads PART messages from children; a PART that arrives
 *     before the node it is for (a child faster than its parent) waits, a
 *     bounded number of them for a bounded time;
 *   - reduce_next() hands back what is due: a node's own part plus its
 *     children's, added in node order (treemsg_add), goes to the parent from
 *     here; the root's sum is returned as a task whose result is the PART
 *     for the master, for the caller to send as RESULT.
 * A PART that breaks the tree rules, names another round or a child already
 * heard, or whose sum does not add, is dropped and counted; it is never
 * fatal.
 *
 * Security: with security.curve the tree port is a CURVE server with this
 * worker's key and admits the keys listed in security.authorized_keys
 * (the workers' public keys: the master's authorized_keys file); a worker
 * with CURVE and no such file opens no tree port (reduce_new fails), and the
 * master then runs star rounds. A child connects as a CURVE client to the
 * parent key the master put in the NODE frame (the key the parent's task
 * connection authenticated with).
 */
#ifndef NC_WORKER_REDUCE_H
#define NC_WORKER_REDUCE_H

#include "common/config.h"
#include "common/treemsg.h"
#include "worker/exec.h"

#include <stdint.h>

typedef struct reduce reduce_t;

/* Binds the tree port. NULL with err when it cannot (CURVE without
 * security.authorized_keys, port taken, no memory). cfg is borrowed. */
reduce_t *reduce_new(void *zctx, const config_t *cfg, char *err, size_t errlen);
/* Closes every socket and frees held tasks; NULL-safe, sets *r to NULL. */
void reduce_destroy(reduce_t **r);

int reduce_port(const reduce_t *r);
void *reduce_socket(reduce_t *r);

/* Takes t (ownership passes; freed when sent or dropped). node is copied. */
void reduce_own(reduce_t *r, exec_task_t *t, const treemsg_node_t *node);
/* Reads what has arrived on the tree port. */
void reduce_recv(reduce_t *r);
/* The next root task due for the master (caller sends and frees it), or NULL;
 * non-root nodes due are sent to their parents on the way. */
exec_task_t *reduce_next(reduce_t *r, int64_t now_ms);
/* When reduce_next() next has something to do (INT64_MAX: never). */
int64_t reduce_deadline(const reduce_t *r);
/* Drops every held task and early part (the master forgot our leases). */
void reduce_clear(reduce_t *r);

/* PARTs dropped so far. */
uint64_t reduce_dropped(const reduce_t *r);

#endif
