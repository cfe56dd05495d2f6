#include "worker/reduce.h"

#include "common/sortint.h"
#include "common/blob.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/security.h"
#include "common/wire.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_NODES 64                /* nodes held at once (a worker has a few per round) */
#define MAX_EARLY 16                /* parts waiting for their node (each up to a vector set) */
#define EARLY_TTL_MS 60000          /* ... at most this long */
#define EARLY_MAX_BYTES (64u << 20) /* ... and at most this many bytes in all */
#define MAX_PEERS 8                 /* PUSH sockets kept to parents */
#define PEER_HWM 8                  /* messages queued for a parent that does not take them */
#define PEER_SEND_MS 500            /* a send waits this long for a connection still being made */
#define PEER_LINGER_MS 1000
#define LOG_SLOT 12

typedef struct part_in {
    blob_t *bytes; /* owns what part.res points at */
    treemsg_part_t part;
    int64_t at_ms;
    char key[TREEMSG_KEY_LEN + 1]; /* the CURVE key its connection proved ("" plaintext) */
} part_in_t;

typedef struct rnode {
    bool used;
    exec_task_t *task;
    treemsg_node_t node;
    int64_t deadline;
    uint32_t first, nchild;
    part_in_t child[TREEMSG_MAX_FANIN];
    bool got[TREEMSG_MAX_FANIN];
} rnode_t;

typedef struct peer {
    char ep[TREEMSG_MAX_EP + 1], key[TREEMSG_KEY_LEN + 1];
    void *sock;
    int64_t used_ms;
} peer_t;

struct reduce {
    const config_t *cfg;
    void *zctx, *pull;
    zap_t *zap;
    int port;
    rnode_t nodes[MAX_NODES];
    part_in_t early[MAX_EARLY];
    int nearly;
    size_t early_bytes; /* the bytes of early[] */
    peer_t peers[MAX_PEERS];
    uint64_t dropped;
};

static void drop(reduce_t *r, const char *why) {
    r->dropped++;
    log_every(LOG_SLOT, LOG_WARN, "reduction tree: dropped a partial sum (%s); %llu so far", why,
              (unsigned long long)r->dropped);
}

static void part_in_free(part_in_t *p) {
    treemsg_part_free(&p->part);
    blob_unref(&p->bytes);
    memset(p, 0, sizeof *p);
}

/* The address this host reaches ip from (no packet is sent: a UDP connect
 * only picks the route); "*" when it cannot tell. */
static void local_addr(const char *ip, int port, char *out, size_t outlen) {
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
    char serv[16];
    snprintf(out, outlen, "*");
    snprintf(serv, sizeof serv, "%d", port);
    if (getaddrinfo(ip, serv, &hints, &ai) != 0 || !ai) return;
    int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        char host[INET6_ADDRSTRLEN];
        const void *a = ss.ss_family == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                            : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
        if (inet_ntop(ss.ss_family, a, host, sizeof host))
            snprintf(out, outlen, ss.ss_family == AF_INET6 ? "[%s]" : "%s", host);
    }
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
}

reduce_t *reduce_new(void *zctx, const config_t *cfg, char *err, size_t errlen) {
    reduce_t *r = calloc(1, sizeof *r);
    char addr[INET6_ADDRSTRLEN + 2], ep[INET6_ADDRSTRLEN + 32], last[256];
    size_t lastlen = sizeof last;
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->zctx = zctx;
    if (cfg->security.curve) {
        if (!cfg->security.authorized_keys[0]) {
            snprintf(err, errlen,
                     "security.curve is on and security.authorized_keys (the "
                     "workers' keys) is not set");
            goto fail;
        }
        if (!(r->zap = security_zap_start(zctx, cfg, err, errlen))) goto fail;
    }
    r->pull = zmq_socket(zctx, ZMQ_PULL);
    if (!r->pull || security_server_setup(r->pull, cfg, err, errlen) != 0) {
        if (!r->pull) snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (wire_socket_defaults(r->pull, (long long)cfg->cluster.max_msg_mb << 20) != 0) {
        snprintf(err, errlen, "socket options: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    local_addr(cfg->master.ip, cfg->master.task_port, addr, sizeof addr);
    if (cfg->worker.tree_port < 0) {
        snprintf(err, errlen, "worker.tree_port is -1 (none)");
        goto fail;
    }
    if (cfg->worker.tree_port)
        snprintf(ep, sizeof ep, "tcp://%s:%d", addr, cfg->worker.tree_port);
    else
        snprintf(ep, sizeof ep, "tcp://%s:*", addr);
    if (zmq_bind(r->pull, ep) != 0 ||
        zmq_getsockopt(r->pull, ZMQ_LAST_ENDPOINT, last, &lastlen) != 0) {
        snprintf(err, errlen, "cannot bind the tree port %s: %s", ep, zmq_strerror(zmq_errno()));
        goto fail;
    }
    const char *colon = strrchr(last, ':');
    r->port = colon ? atoi(colon + 1) : 0;
    if (r->port <= 0) {
        snprintf(err, errlen, "cannot tell the tree port from %s", last);
        goto fail;
    }
    return r;
fail:
    reduce_destroy(&r);
    return NULL;
}

void reduce_clear(reduce_t *r) {
    for (int i = 0; i < MAX_NODES; i++) {
        rnode_t *n = &r->nodes[i];
        if (!n->used) continue;
        exec_task_free(&n->task);
        for (uint32_t c = 0; c < TREEMSG_MAX_FANIN; c++)
            part_in_free(&n->child[c]);
        memset(n, 0, sizeof *n);
    }
    for (int i = 0; i < r->nearly; i++)
        part_in_free(&r->early[i]);
    r->nearly = 0;
    r->early_bytes = 0;
}

void reduce_destroy(reduce_t **rp) {
    reduce_t *r = *rp;
    *rp = NULL;
    if (!r) return;
    reduce_clear(r);
    for (int i = 0; i < MAX_PEERS; i++)
        if (r->peers[i].sock) zmq_close(r->peers[i].sock);
    if (r->pull) zmq_close(r->pull);
    security_zap_stop(&r->zap);
    free(r);
}

int reduce_port(const reduce_t *r) {
    return r->port;
}

void *reduce_socket(reduce_t *r) {
    return r->pull;
}

uint64_t reduce_dropped(const reduce_t *r) {
    return r->dropped;
}

/* ---- incoming parts ---- */

/* Files p under node n when it is one of n's children not heard yet;
 * takes p either way. */
static void give_child(reduce_t *r, rnode_t *n, part_in_t *p) {
    uint32_t c = p->part.from - n->first;
    if (p->part.from < n->first || c >= n->nchild || p->part.nodes != n->node.nodes) {
        drop(r, "not a child of its node");
        part_in_free(p);
        return;
    }
    if (n->got[c]) {
        drop(r, "a second part from the same child");
        part_in_free(p);
        return;
    }
    if (n->node.nchild_keys && strcmp(p->key, n->node.child_key[c]) != 0) {
        drop(r, "a part for a child from another worker's key");
        part_in_free(p);
        return;
    }
    n->child[c] = *p;
    n->got[c] = true;
    memset(p, 0, sizeof *p);
}

static rnode_t *node_for(reduce_t *r, uint64_t round, uint32_t node) {
    for (int i = 0; i < MAX_NODES; i++)
        if (r->nodes[i].used && r->nodes[i].node.round == round && r->nodes[i].node.node == node)
            return &r->nodes[i];
    return NULL;
}

/* Takes early[i] out of the list into *out (freed when out is NULL). */
static void take_early(reduce_t *r, int i, part_in_t *out) {
    r->early_bytes -= r->early[i].bytes ? r->early[i].bytes->len : 0;
    if (out)
        *out = r->early[i];
    else
        part_in_free(&r->early[i]);
    memmove(&r->early[i], &r->early[i + 1], (size_t)(r->nearly - i - 1) * sizeof *r->early);
    r->nearly--;
}

/* Keeps a part whose node has not come yet. When the room (MAX_EARLY parts,
 * EARLY_MAX_BYTES) is taken the new part is dropped, not an older one: a
 * peer that floods the port cannot push out the parts already waiting, and
 * what it holds is bounded (a round whose part is dropped asks the master
 * for it directly). */
static void keep_early(reduce_t *r, part_in_t *p) {
    size_t len = p->bytes ? p->bytes->len : 0;
    if (r->nearly == MAX_EARLY || len > EARLY_MAX_BYTES - r->early_bytes) {
        drop(r, "no room for parts waiting for their node");
        part_in_free(p);
        return;
    }
    r->early_bytes += len;
    r->early[r->nearly++] = *p;
    memset(p, 0, sizeof *p);
}

void reduce_recv(reduce_t *r) {
    for (int k = 0; k < 64; k++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, r->pull, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        bool more = zmq_msg_more(&msg);
        part_in_t p = {.at_ms = clock_now_ms()};
        char err[256];
        p.bytes = more ? NULL : blob_copy(zmq_msg_data(&msg), zmq_msg_size(&msg));
        const char *uid = zmq_msg_gets(&msg, "User-Id"); /* set by our ZAP handler */
        if (uid && strlen(uid) == TREEMSG_KEY_LEN) snprintf(p.key, sizeof p.key, "%s", uid);
        zmq_msg_close(&msg);
        if (more) { /* a PART is one frame: swallow the rest */
            drop(r, "more than one frame");
            while (more && zmq_msg_init(&msg) == 0 && zmq_msg_recv(&msg, r->pull, 0) >= 0) {
                more = zmq_msg_more(&msg);
                zmq_msg_close(&msg);
            }
            continue;
        }
        if (!p.bytes) {
            drop(r, "out of memory");
            continue;
        }
        /* the fan-in is checked against the node's below; the decoder needs
         * one to check the cover: try the node's, else the default 2 */
        if (treemsg_decode_part(p.bytes->data, p.bytes->len, 2, &p.part, err, sizeof err) < 0 ||
            p.part.to == TREEMSG_MASTER) {
            drop(r, err);
            part_in_free(&p);
            continue;
        }
        rnode_t *n = node_for(r, p.part.round, p.part.to);
        if (n)
            give_child(r, n, &p);
        else
            keep_early(r, &p);
    }
}

/* ---- own parts ---- */

void reduce_own(reduce_t *r, exec_task_t *t, const treemsg_node_t *node) {
    rnode_t *n = NULL;
    for (int i = 0; i < MAX_NODES && !n; i++)
        if (!r->nodes[i].used) n = &r->nodes[i];
    if (!n || node->fanin != 2) {
        /* (the decoder of incoming parts checks covers for fan-in 2) */
        log_every(LOG_SLOT, LOG_WARN,
                  "reduction tree: cannot hold node %u; its part is lost "
                  "and the master will ask again",
                  node->node);
        exec_task_free(&t);
        return;
    }
    memset(n, 0, sizeof *n);
    n->used = true;
    n->task = t;
    n->node = *node;
    n->nchild = treemsg_children(node->node, node->nodes, node->fanin, &n->first);
    n->deadline = clock_now_ms() +
                  (int64_t)node->wait_ms * treemsg_height(node->node, node->nodes, node->fanin);
    for (int i = 0; i < r->nearly;) {
        if (r->early[i].part.round == node->round && r->early[i].part.to == node->node) {
            part_in_t p;
            take_early(r, i, &p);
            give_child(r, n, &p);
        } else {
            i++;
        }
    }
}

static bool complete(const rnode_t *n) {
    for (uint32_t c = 0; c < n->nchild; c++)
        if (!n->got[c]) return false;
    return true;
}

int64_t reduce_deadline(const reduce_t *r) {
    int64_t d = INT64_MAX;
    for (int i = 0; i < MAX_NODES; i++) {
        const rnode_t *n = &r->nodes[i];
        if (!n->used) continue;
        int64_t at = complete(n) ? 0 : n->deadline;
        if (at < d) d = at;
    }
    return d;
}

/* The PART for node n: its own answer plus its children's, in node order. */
static blob_t *node_sum(rnode_t *n, char *err, size_t errlen) {
    treemsg_cols_t in[1 + TREEMSG_MAX_FANIN];
    size_t k = 0, ncover = 1;
    blob_t *sum = NULL, *out = NULL;
    uint32_t *cover = NULL;
    memset(in, 0, sizeof in);
    blob_t *own = n->task->result;
    if (!own || treemsg_decode_cols(own->data, own->len, &in[k++], err, errlen) < 0) {
        if (!own) snprintf(err, errlen, "no answer of its own");
        goto out;
    }
    for (uint32_t c = 0; c < n->nchild; c++) {
        if (!n->got[c]) continue;
        if (treemsg_decode_cols(n->child[c].part.res, n->child[c].part.res_len, &in[k], err,
                                errlen) < 0) {
            /* a child's bad sum is left out: the master asks its nodes again */
            log_every(LOG_SLOT, LOG_WARN, "reduction tree: node %u's sum is bad: %s",
                      n->child[c].part.from, err);
            n->got[c] = false;
            continue;
        }
        k++;
        ncover += n->child[c].part.ncover;
    }
    if (!(sum = treemsg_add(in, k, err, errlen))) {
        /* a child whose answer does not add to ours: send ours alone */
        log_every(LOG_SLOT, LOG_WARN, "reduction tree: %s; node %u sends its own part only", err,
                  n->node.node);
        ncover = 1;
        memset(n->got, 0, sizeof n->got);
        sum = blob_ref(own);
    }
    cover = malloc(ncover * sizeof *cover);
    if (!cover) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    size_t at = 0;
    cover[at++] = n->node.node;
    for (uint32_t c = 0; c < n->nchild; c++)
        if (n->got[c]) {
            memcpy(cover + at, n->child[c].part.cover, n->child[c].part.ncover * sizeof *cover);
            at += n->child[c].part.ncover;
        }
    sort_u32(cover, ncover);
    uint32_t to = n->node.node == 0 ? TREEMSG_MASTER : treemsg_parent(n->node.node, n->node.fanin);
    out = treemsg_encode_part(n->node.round, to, n->node.node, n->node.nodes, cover, ncover,
                              sum->data, sum->len, n->node.fanin, err, errlen);
out:
    for (size_t i = 0; i < k; i++)
        treemsg_cols_free(&in[i]);
    free(cover);
    blob_unref(&sum);
    return out;
}

/* The PUSH socket to a parent, opened on first use; NULL when it cannot be. */
static void *peer_socket(reduce_t *r, const treemsg_node_t *node) {
    peer_t *p = NULL, *oldest = &r->peers[0];
    for (int i = 0; i < MAX_PEERS; i++) {
        peer_t *q = &r->peers[i];
        if (q->sock && strcmp(q->ep, node->parent_ep) == 0 && strcmp(q->key, node->parent_key) == 0)
            p = q;
        if (!q->sock || (oldest->sock && q->used_ms < oldest->used_ms)) oldest = q;
    }
    if (!p) {
        p = oldest;
        if (p->sock) zmq_close(p->sock);
        memset(p, 0, sizeof *p);
        char err[256];
        int hwm = PEER_HWM, linger = PEER_LINGER_MS, sndtimeo = PEER_SEND_MS;
        void *s = zmq_socket(r->zctx, ZMQ_PUSH);
        if (!s) return NULL;
        if (r->cfg->security.curve &&
            security_client_setup_key(s, r->cfg, node->parent_key, err, sizeof err) != 0) {
            log_every(LOG_SLOT, LOG_WARN, "reduction tree: %s", err);
            zmq_close(s);
            return NULL;
        }
        if (zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
            zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
            zmq_setsockopt(s, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo) != 0 ||
            zmq_connect(s, node->parent_ep) != 0) {
            log_every(LOG_SLOT, LOG_WARN, "reduction tree: cannot connect to %s: %s",
                      node->parent_ep, zmq_strerror(zmq_errno()));
            zmq_close(s);
            return NULL;
        }
        p->sock = s;
        snprintf(p->ep, sizeof p->ep, "%s", node->parent_ep);
        snprintf(p->key, sizeof p->key, "%s", node->parent_key);
    }
    p->used_ms = clock_now_ms();
    return p->sock;
}

static void node_free(rnode_t *n) {
    exec_task_free(&n->task);
    for (uint32_t c = 0; c < TREEMSG_MAX_FANIN; c++)
        part_in_free(&n->child[c]);
    memset(n, 0, sizeof *n);
}

exec_task_t *reduce_next(reduce_t *r, int64_t now) {
    for (int i = 0; i < r->nearly;) { /* parts whose node never came */
        if (now - r->early[i].at_ms > EARLY_TTL_MS) {
            take_early(r, i, NULL);
        } else {
            i++;
        }
    }
    for (int i = 0; i < MAX_NODES; i++) {
        rnode_t *n = &r->nodes[i];
        if (!n->used || (!complete(n) && now < n->deadline)) continue;
        char err[256];
        if (!complete(n)) {
            uint32_t missing = 0;
            for (uint32_t c = 0; c < n->nchild; c++)
                missing += !n->got[c];
            log_info("reduction tree: node %u of round %016llx stops waiting for %u of its %u "
                     "children; the master asks for their parts directly",
                     n->node.node, (unsigned long long)n->node.round, missing, n->nchild);
        }
        blob_t *part = node_sum(n, err, sizeof err);
        if (!part) {
            log_every(LOG_SLOT, LOG_WARN, "reduction tree: node %u: %s", n->node.node, err);
            node_free(n);
            continue;
        }
        if (n->node.node == 0) {
            exec_task_t *t = n->task;
            n->task = NULL;
            blob_unref(&t->result);
            t->result = part;
            node_free(n);
            return t;
        }
        void *s = peer_socket(r, &n->node);
        /* (a fresh PUSH may refuse a DONTWAIT send until its connection is
         * made; SNDTIMEO bounds the wait for a parent that is gone) */
        if (!s || blob_send(part, s, 0) < 0)
            log_every(LOG_SLOT, LOG_WARN, "reduction tree: node %u's sum not sent to %s: %s",
                      n->node.node, n->node.parent_ep, s ? zmq_strerror(zmq_errno()) : "no socket");
        blob_unref(&part);
        node_free(n);
    }
    return NULL;
}
