/* treemsg: the reduction tree of TRON rounds (cluster.reduce "tree").
 *
 * In a tree round the master numbers the round's tasks 0..nodes-1 and lays
 * them out as a heap of fan-in f: node i's parent is (i - 1) / f, its
 * children f*i + 1 .. f*i + f (those below nodes). Every task carries a NODE
 * frame saying where it sits. A worker that finishes a node's part waits for
 * its children's partial sums on its tree socket, adds them to its own in a
 * fixed order (its own part, then the children by node number), and sends
 * the sum up as a PART message: to its parent's tree socket, or, at the root,
 * to the master as the task's RESULT body. A PART names exactly the nodes
 * whose parts it holds (its cover), so a node that gives up waiting sends
 * what it has and the master re-collects the nodes missing from the root's
 * cover directly (as in star mode): no sum is ever counted twice or lost.
 *
 * NODE (master -> worker: the TASK frame after the others, header flag
 * PROTO_F_TREE), little-endian:
 *   u32 magic TREEMSG_NODE_MAGIC, u64 round, u32 node, u32 nodes, u32 fanin,
 *   u32 wait_ms, u8 eplen, eplen bytes: the parent's tree endpoint
 *   "tcp://ADDR:PORT" (0 bytes at the root), u8 keylen (0 or 40), keylen
 *   bytes: the parent's CurveZMQ public key in Z85 (CURVE clusters), u8
 *   nkeys (0, or the node's number of children), nkeys * 40 bytes: the
 *   children's public keys in node order (CURVE clusters: a parent adds a
 *   child's part only when the CURVE connection it came on proved that key).
 * PART (worker -> parent, one frame on the tree socket; the root's RESULT
 * body to the master):
 *   u32 magic TREEMSG_PART_MAGIC, u64 round, u32 to (the parent's node,
 *   TREEMSG_MASTER from the root), u32 from, u32 nodes, u32 ncover, ncover *
 *   u32 node (strictly ascending, every one in from's subtree, from itself
 *   among them), then the rest of the frame: the sum of the covered nodes'
 *   answers, a COLS payload (below) or a plain tronmsg result over all n
 *   columns (common/tronmsg.h).
 *
 * Decoders take untrusted bytes: every length is checked against what
 * arrived, counts are bounded by it, and the tree rules above are enforced;
 * they never allocate more than the input can justify.
 */
#ifndef NC_TREEMSG_H
#define NC_TREEMSG_H

#include "common/blob.h"
#include "common/tronmsg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TREEMSG_NODE_MAGIC 0x314e434eu /* "NCN1" */
#define TREEMSG_PART_MAGIC 0x3150434eu /* "NCP1" */
#define TREEMSG_MASTER 0xffffffffu     /* PART.to from the root */
#define TREEMSG_MAX_NODES 100000u      /* cluster.max_workers' bound */
#define TREEMSG_MAX_FANIN 16u
#define TREEMSG_MAX_EP 255u
#define TREEMSG_KEY_LEN 40u

/* ---- the heap ---- */

/* Parent of node i (i > 0). */
uint32_t treemsg_parent(uint32_t i, uint32_t fanin);
/* Number of children of node i among nodes; *first is the first one. */
uint32_t treemsg_children(uint32_t i, uint32_t nodes, uint32_t fanin, uint32_t *first);
/* True when j is i or below it. */
bool treemsg_in_subtree(uint32_t j, uint32_t i, uint32_t fanin);
/* Levels below node i (0 for a leaf). */
uint32_t treemsg_height(uint32_t i, uint32_t nodes, uint32_t fanin);

/* ---- NODE ---- */

typedef struct treemsg_node {
    uint64_t round;
    uint32_t node, nodes, fanin, wait_ms;
    char parent_ep[TREEMSG_MAX_EP + 1];   /* "" at the root */
    char parent_key[TREEMSG_KEY_LEN + 1]; /* "" without CURVE */
    uint32_t nchild_keys;                 /* 0 without CURVE, else the node's children */
    char child_key[TREEMSG_MAX_FANIN][TREEMSG_KEY_LEN + 1]; /* the children's keys, in order */
} treemsg_node_t;

/* A new blob (caller unrefs); NULL with err when a field breaks the rules
 * (node >= nodes, fanin out of 2..TREEMSG_MAX_FANIN, an endpoint at the root
 * or none below it, a key that is not 40 characters, child keys that are
 * neither none nor one per child) or on ENOMEM. */
blob_t *treemsg_encode_node(const treemsg_node_t *n, char *err, size_t errlen);
/* 0, or -1 with err; out is filled only on 0. */
int treemsg_decode_node(const void *buf, size_t len, treemsg_node_t *out, char *err, size_t errlen);

/* ---- PART ---- */

typedef struct treemsg_part {
    uint64_t round;
    uint32_t to, from, nodes;
    uint32_t *cover; /* ncover, ascending; owned (treemsg_part_free) */
    size_t ncover;
    const void *res; /* the sum (COLS or tronmsg): borrowed from the decoded bytes */
    size_t res_len;
} treemsg_part_t;

/* Encodes a PART around res (res_len bytes: a COLS payload or a tronmsg
 * result; not checked here, the receiver decodes it). */
blob_t *treemsg_encode_part(uint64_t round, uint32_t to, uint32_t from, uint32_t nodes,
                            const uint32_t *cover, size_t ncover, const void *res, size_t res_len,
                            uint32_t fanin, char *err, size_t errlen);
/* Decodes and checks the tree rules for fan-in fanin (cover within from's
 * subtree and including from, to from's parent or TREEMSG_MASTER from node
 * 0). out->res points into buf. 0, or -1 with err and *out zeroed. */
int treemsg_decode_part(const void *buf, size_t len, uint32_t fanin, treemsg_part_t *out, char *err,
                        size_t errlen);
void treemsg_part_free(treemsg_part_t *p);

/* ---- COLS: an answer and the columns it holds ---- */

/* In a tree round a worker answers in its group's columns (as in star mode)
 * and names them, so that a parent adds answers of different groups over
 * the union of their columns, and the root's sum holds the columns its
 * subtree touches, not all n:
 *   u32 magic TREEMSG_COLS_MAGIC, u32 n, u32 k (TREEMSG_ALL_COLS: all n,
 *   no list), k * u32 column (strictly ascending, < n), then a tronmsg
 *   result with n and m = k (m = n for all columns).
 * A plain tronmsg result whose m is n is taken as all columns. */
#define TREEMSG_COLS_MAGIC 0x3143434eu /* "NCC1" */
#define TREEMSG_ALL_COLS 0xffffffffu

typedef struct treemsg_cols {
    uint32_t n, k;     /* k: columns held (n when all) */
    bool all;          /* every column, in order: no list */
    uint32_t *cols;    /* k columns, ascending (NULL when all); owned */
    tronmsg_res_t res; /* decoded, m = k; owned */
} treemsg_cols_t;

/* Wraps res (an encoded tronmsg result whose m is k) with its columns;
 * cols NULL: all n (k must be n). */
blob_t *treemsg_encode_cols(uint32_t n, const uint32_t *cols, uint32_t k, const void *res,
                            size_t res_len, char *err, size_t errlen);
/* Decodes a COLS payload, or a plain tronmsg result with m = n (as all
 * columns). 0, or -1 with err and *out zeroed. */
int treemsg_decode_cols(const void *buf, size_t len, treemsg_cols_t *out, char *err, size_t errlen);
void treemsg_cols_free(treemsg_cols_t *c);

/* ---- adding answers ---- */

/* The sum of k decoded answers over the union of their columns, each added
 * in the order given (the same inputs in the same order give the same
 * bits), encoded as a COLS payload. Only FUN, GRAD, FUNGRAD and HV answers
 * add; the answers must agree on n, count and each answer's cls, fold and
 * op. NULL with err otherwise or on ENOMEM. */
blob_t *treemsg_add(const treemsg_cols_t *in, size_t k, char *err, size_t errlen);

#endif
