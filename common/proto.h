/* proto: NetCompute's wire protocol over ZeroMQ.
 *
 * Every message is multipart: one fixed 32-byte header frame, then zero or
 * more payload frames whose meaning depends on the header's type and flags.
 * Nothing in a message can execute code: headers are fixed binary fields,
 * payloads are raw bytes, doubles (little-endian IEEE 754) or JSON read with
 * json-c. Every decoder here treats its input as hostile: it checks sizes
 * before reading, rejects unknown types, and never allocates more than the
 * frame it was given.
 *
 * Header layout (all integers little-endian):
 *   0  'N' 'C'   magic
 *   2  u8        version (PROTO_VERSION)
 *   3  u8        type (msg_type_t)
 *   4  u16       op (task operation) or error class (MSG_FAIL)
 *   6  u16       flags (PROTO_F_*)
 *   8  u32       job id
 *   12 u32       task id
 *   16 u32       attempt (1 for the first lease of a task)
 *   20 u32       shard index (PROTO_NO_SHARD when none)
 *   24 u64       lease nonce: random per lease, so a result cannot be forged
 *                for a lease held by someone else, or replayed after requeue
 *
 * Channels and frames (after the ROUTER identity frame where there is one):
 *   tasks (DEALER -> ROUTER)
 *     READY     [hdr][json {name, host, cores, slots, pid, version}]
 *     HANDBACK  [hdr]                 lease returned unfinished (pause, exit)
 *     BYE       [hdr]                 leaving cleanly
 *   tasks (ROUTER -> DEALER)
 *     TASK      [hdr][body][context if F_CONTEXT][shard bytes if F_SHARD]
 *               [tree node if F_TREE: common/treemsg.h]
 *     CANCEL    [hdr]                 drop this lease (another attempt won)
 *     PING      [hdr]                 master alive; sent every heartbeat
 *     RESET     [hdr]                 "I do not know you": send READY again
 *   results (PUSH -> PULL)
 *     RESULT    [hdr][worker id][body]
 *     FAIL      [hdr][worker id][error text]; op = PROTO_ERR_*
 *   heartbeats (PUB -> SUB)
 *     HEARTBEAT [hdr][worker id][json stats]
 */
#ifndef NC_PROTO_H
#define NC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 2: tree frames (F_TREE), varint summaries (NCS3), tronmsg's STAT flag and
 * wide vectors: a worker of version 1 is dropped at its READY ("protocol
 * version") instead of failing jobs with messages it cannot read. */
#define PROTO_VERSION 2
#define PROTO_HEADER_SIZE 32
#define PROTO_NO_SHARD 0xffffffffu
/* A worker's own cache key for a job's whole rows (worker/op_classes.c):
 * never a shard a task may name. */
#define PROTO_ROWS_SHARD 0xfffffffeu
#define PROTO_MAX_FRAMES 8
#define PROTO_MAX_ID 64      /* bytes of a worker id (ROUTER routing id) */
#define PROTO_MAX_JSON 8192  /* READY and HEARTBEAT JSON frames */
#define PROTO_MAX_ERROR 1024 /* FAIL error text */

typedef enum {
    MSG_READY = 1,
    MSG_HANDBACK = 2,
    MSG_BYE = 3,
    MSG_TASK = 10,
    MSG_CANCEL = 11,
    MSG_PING = 12,
    MSG_RESET = 13,
    MSG_RESULT = 20,
    MSG_FAIL = 21,
    MSG_HEARTBEAT = 30,
} msg_type_t;

/* Task operations (header op of TASK and RESULT). */
typedef enum {
    OP_NOOP = 1,    /* body ignored; empty result (dispatch benchmark) */
    OP_SLEEP = 2,   /* body: u32 milliseconds; result empty (tests) */
    OP_SUMMARY = 3, /* shard -> column summary (schema pass) */
    OP_TRON = 4,    /* shard -> partial fun/grad/Hv sums (exact training) */
    OP_PREDICT = 5, /* shard -> predictions (testing mode, training output) */
    OP_TRAIN = 6,   /* shard -> liblinear train() weights (average strategy) */
    OP_EXPORT = 7,  /* shard -> fitted features as libsvm text (master export) */
    OP_CLASSES = 8, /* every row (in the context) -> whole classes' weights (class-parallel) */
    OP_MAX = 9
} task_op_t;

/* Header flags. */
#define PROTO_F_CONTEXT 0x1 /* TASK carries the job context frame */
#define PROTO_F_SHARD 0x2   /* TASK carries the shard's bytes */
#define PROTO_F_TREE 0x4    /* TASK carries its place in a reduction tree */

/* FAIL error classes. */
#define PROTO_ERR_DATA 1      /* the input is bad: retrying elsewhere cannot help */
#define PROTO_ERR_INTERNAL 2  /* this worker failed: retry elsewhere */
#define PROTO_ERR_NOSHARD 3   /* worker lacks the shard or context it was assumed to hold */
#define PROTO_ERR_NEEDPOINT 4 /* OP_TRON: worker lacks a cached point; send its w (tronmsg.h) */

typedef struct proto_header {
    uint8_t type;
    uint16_t op;
    uint16_t flags;
    uint32_t job_id;
    uint32_t task_id;
    uint32_t attempt;
    uint32_t shard;
    uint64_t lease;
} proto_header_t;

/* Writes h into out (PROTO_HEADER_SIZE bytes). */
void proto_header_encode(const proto_header_t *h, uint8_t out[PROTO_HEADER_SIZE]);

/* Reads a header frame. Returns 0, or -1 when the frame has the wrong size,
 * magic or version, or an unknown type (why names which). */
int proto_header_decode(const void *buf, size_t len, proto_header_t *h, const char **why);

/* True when type may arrive on the given channel from a peer. */
bool proto_type_from_worker_tasks(uint8_t type);
bool proto_type_from_master(uint8_t type);

/* Frames that one message must have, by type (without the identity frame):
 * returns the allowed [min, max] frame count. */
void proto_frames_allowed(uint8_t type, uint16_t flags, int *min, int *max);

/* Little-endian helpers for payload encoders. */
void proto_put_u32(uint8_t *p, uint32_t v);
void proto_put_u64(uint8_t *p, uint64_t v);
void proto_put_f64(uint8_t *p, double v);
uint32_t proto_get_u32(const uint8_t *p);
uint64_t proto_get_u64(const uint8_t *p);
double proto_get_f64(const uint8_t *p);

/* True when s (len bytes) is a worker id we accept: 1..PROTO_MAX_ID bytes of
 * [A-Za-z0-9._-]. */
bool proto_valid_id(const void *s, size_t len);

/* Copies untrusted text into out (outlen bytes), keeping printable ASCII and
 * replacing anything else by '?', truncated to outlen-1. */
void proto_clean_text(const char *in, size_t inlen, char *out, size_t outlen);

#endif
