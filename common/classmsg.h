/* classmsg: the body and result of an OP_CLASSES task (class-parallel
 * training, master/train_classes.h).
 *
 * A worker that holds every row of the training file (they came in the job
 * context, common/jobctx.h) trains some one-vs-rest classes to the end by
 * itself, with liblinear's TRON (common/tron.h) over its own rows: the
 * request names the classes and each one's tolerance, the result carries
 * each class's weights and how its run ended.
 *
 * Request: u32 magic CLASSMSG_REQ_MAGIC, u32 n (variables, the bias
 *   included), u32 count, then per class u32 cls, f64 eps.
 * Result: u32 magic CLASSMSG_RES_MAGIC, u32 n, u32 count, then per class
 *   u32 cls, u32 iters (TRON's outer passes), u32 cg (CG steps), u32 stop
 *   (tron_stop_t), f64 f, f64 gnorm, f64 w[n].
 * Little-endian. The decoders take untrusted bytes: sizes are checked
 * against the bytes received before anything is allocated, classes are
 * below CLASSMSG_MAX_CLS and distinct, eps finite and positive, and
 * nothing may follow the last class.
 */
#ifndef NC_CLASSMSG_H
#define NC_CLASSMSG_H

#include "common/blob.h"

#include <stddef.h>
#include <stdint.h>

#define CLASSMSG_REQ_MAGIC 0x3143434eu /* "NCC1" */
#define CLASSMSG_RES_MAGIC 0x3144434eu /* "NCD1" */
#define CLASSMSG_MAX_CLS 65536u
#define CLASSMSG_MAX_N (1u << 26)

typedef struct classmsg_class {
    uint32_t cls;
    double eps;
} classmsg_class_t;

typedef struct classmsg_req {
    uint32_t n;
    size_t count;
    classmsg_class_t *cls; /* count entries */
} classmsg_req_t;

typedef struct classmsg_ans {
    uint32_t cls, iters, cg, stop;
    double f, gnorm;
    const double *w; /* n doubles: borrowed when encoding, owned by the result when decoded */
} classmsg_ans_t;

typedef struct classmsg_res {
    uint32_t n;
    size_t count;
    classmsg_ans_t *ans;
    double *store; /* owns the decoded weights */
} classmsg_res_t;

/* NULL on ENOMEM or a request that breaks the rules (err says which). */
blob_t *classmsg_encode_req(uint32_t n, const classmsg_class_t *cls, size_t count, char *err,
                            size_t errlen);
/* 0, or -1 with err set and *out zeroed. Free with classmsg_req_free. */
int classmsg_decode_req(const void *buf, size_t len, classmsg_req_t *out, char *err, size_t errlen);
void classmsg_req_free(classmsg_req_t *r);

blob_t *classmsg_encode_res(uint32_t n, const classmsg_ans_t *ans, size_t count, char *err,
                            size_t errlen);
int classmsg_decode_res(const void *buf, size_t len, classmsg_res_t *out, char *err, size_t errlen);
void classmsg_res_free(classmsg_res_t *r);

#endif
