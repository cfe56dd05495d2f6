#include "common/treemsg.h"

#include "common/buf.h"
#include "common/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the heap ---- */

uint32_t treemsg_parent(uint32_t i, uint32_t fanin) {
    return i == 0 || fanin == 0 ? 0 : (i - 1) / fanin;
}

uint32_t treemsg_children(uint32_t i, uint32_t nodes, uint32_t fanin, uint32_t *first) {
    uint64_t f = (uint64_t)fanin * i + 1;
    *first = f < UINT32_MAX ? (uint32_t)f : UINT32_MAX;
    if (f >= nodes) return 0;
    uint64_t last = f + fanin; /* one past */
    return (uint32_t)((last < nodes ? last : nodes) - f);
}

bool treemsg_in_subtree(uint32_t j, uint32_t i, uint32_t fanin) {
    if (fanin < 2) return j == i;
    while (j > i)
        j = (j - 1) / fanin;
    return j == i;
}

uint32_t treemsg_height(uint32_t i, uint32_t nodes, uint32_t fanin) {
    uint32_t h = 0;
    uint64_t first = i;
    /* the leftmost descendant is the deepest */
    while (fanin >= 2 && first * fanin + 1 < nodes) {
        first = first * fanin + 1;
        h++;
    }
    return h;
}

/* ---- NODE ---- */

static int check_node(const treemsg_node_t *n, size_t eplen, size_t keylen, char *err,
                      size_t errlen) {
    if (n->nodes == 0 || n->nodes > TREEMSG_MAX_NODES || n->node >= n->nodes) {
        snprintf(err, errlen, "tree node: node %u of %u", n->node, n->nodes);
        return -1;
    }
    if (n->fanin < 2 || n->fanin > TREEMSG_MAX_FANIN) {
        snprintf(err, errlen, "tree node: fan-in %u is not 2..%u", n->fanin, TREEMSG_MAX_FANIN);
        return -1;
    }
    if ((n->node == 0) != (eplen == 0) || eplen > TREEMSG_MAX_EP) {
        snprintf(err, errlen, "tree node: node %u with a parent endpoint of %zu bytes", n->node,
                 eplen);
        return -1;
    }
    if (keylen != 0 && keylen != TREEMSG_KEY_LEN) {
        snprintf(err, errlen, "tree node: a key of %zu characters", keylen);
        return -1;
    }
    uint32_t first;
    if (n->nchild_keys != 0 &&
        n->nchild_keys != treemsg_children(n->node, n->nodes, n->fanin, &first)) {
        snprintf(err, errlen, "tree node: %u child keys for node %u", n->nchild_keys, n->node);
        return -1;
    }
    return 0;
}

blob_t *treemsg_encode_node(const treemsg_node_t *n, char *err, size_t errlen) {
    size_t eplen = strnlen(n->parent_ep, sizeof n->parent_ep);
    size_t keylen = strnlen(n->parent_key, sizeof n->parent_key);
    if (check_node(n, eplen, keylen, err, errlen) < 0) return NULL;
    buf_t b = {0};
    buf_put_u32(&b, TREEMSG_NODE_MAGIC);
    buf_put_u64(&b, n->round);
    buf_put_u32(&b, n->node);
    buf_put_u32(&b, n->nodes);
    buf_put_u32(&b, n->fanin);
    buf_put_u32(&b, n->wait_ms);
    buf_put_u8(&b, (uint8_t)eplen);
    buf_put(&b, n->parent_ep, eplen);
    buf_put_u8(&b, (uint8_t)keylen);
    buf_put(&b, n->parent_key, keylen);
    buf_put_u8(&b, (uint8_t)n->nchild_keys);
    for (uint32_t i = 0; i < n->nchild_keys; i++) {
        if (strnlen(n->child_key[i], sizeof n->child_key[i]) != TREEMSG_KEY_LEN) {
            buf_free(&b);
            snprintf(err, errlen, "tree node: child key %u is not %u characters", i,
                     TREEMSG_KEY_LEN);
            return NULL;
        }
        buf_put(&b, n->child_key[i], TREEMSG_KEY_LEN);
    }
    return blob_from_buf(&b, "tree node", err, errlen);
}

/* Printable ASCII only: an endpoint or key goes into zmq_connect and logs. */
static bool printable(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e) return false;
    return true;
}

int treemsg_decode_node(const void *buf, size_t len, treemsg_node_t *out, char *err,
                        size_t errlen) {
    bufrd_t r = bufrd_init(buf, len);
    treemsg_node_t n = {0};
    uint32_t magic = bufrd_u32(&r);
    n.round = bufrd_u64(&r);
    n.node = bufrd_u32(&r);
    n.nodes = bufrd_u32(&r);
    n.fanin = bufrd_u32(&r);
    n.wait_ms = bufrd_u32(&r);
    uint8_t eplen = bufrd_u8(&r);
    const uint8_t *ep = bufrd_take(&r, eplen);
    uint8_t keylen = bufrd_u8(&r);
    const uint8_t *key = bufrd_take(&r, keylen);
    n.nchild_keys = bufrd_u8(&r);
    const uint8_t *ckeys =
        n.nchild_keys <= TREEMSG_MAX_FANIN ? bufrd_take(&r, n.nchild_keys * TREEMSG_KEY_LEN) : NULL;
    if (n.nchild_keys > TREEMSG_MAX_FANIN) r.bad = true;
    if (r.bad || magic != TREEMSG_NODE_MAGIC || !bufrd_done(&r)) {
        snprintf(err, errlen, "tree node: bad magic or length (%zu bytes)", len);
        return -1;
    }
    if (check_node(&n, eplen, keylen, err, errlen) < 0) return -1;
    if (!printable(ep, eplen) || !printable(key, keylen) ||
        !printable(ckeys, (size_t)n.nchild_keys * TREEMSG_KEY_LEN)) {
        snprintf(err, errlen, "tree node: endpoint or key is not printable ASCII");
        return -1;
    }
    memcpy(n.parent_ep, ep, eplen);
    memcpy(n.parent_key, key, keylen);
    for (uint32_t i = 0; i < n.nchild_keys; i++)
        memcpy(n.child_key[i], ckeys + (size_t)i * TREEMSG_KEY_LEN, TREEMSG_KEY_LEN);
    *out = n;
    return 0;
}

/* ---- PART ---- */

/* The rules of a cover: ascending, within from's subtree, from among them,
 * to the parent of from (or the master from the root). */
static int check_part(uint32_t to, uint32_t from, uint32_t nodes, const uint32_t *cover,
                      size_t ncover, uint32_t fanin, char *err, size_t errlen) {
    if (fanin < 2 || fanin > TREEMSG_MAX_FANIN || nodes == 0 || nodes > TREEMSG_MAX_NODES ||
        from >= nodes) {
        snprintf(err, errlen, "tree part: from %u of %u nodes (fan-in %u)", from, nodes, fanin);
        return -1;
    }
    if (from == 0 ? to != TREEMSG_MASTER : to != treemsg_parent(from, fanin)) {
        snprintf(err, errlen, "tree part: node %u does not send to %u", from, to);
        return -1;
    }
    if (ncover == 0 || ncover > nodes) {
        snprintf(err, errlen, "tree part: %zu nodes covered of %u", ncover, nodes);
        return -1;
    }
    bool self = false;
    for (size_t i = 0; i < ncover; i++) {
        if (cover[i] >= nodes || (i > 0 && cover[i] <= cover[i - 1]) ||
            !treemsg_in_subtree(cover[i], from, fanin)) {
            snprintf(err, errlen, "tree part: node %u cannot be in node %u's sum", cover[i], from);
            return -1;
        }
        self = self || cover[i] == from;
    }
    if (!self) {
        snprintf(err, errlen, "tree part: node %u's sum lacks its own part", from);
        return -1;
    }
    return 0;
}

blob_t *treemsg_encode_part(uint64_t round, uint32_t to, uint32_t from, uint32_t nodes,
                            const uint32_t *cover, size_t ncover, const void *res, size_t res_len,
                            uint32_t fanin, char *err, size_t errlen) {
    if (check_part(to, from, nodes, cover, ncover, fanin, err, errlen) < 0) return NULL;
    buf_t b = {0};
    buf_grow(&b, 28 + 4 * ncover + res_len);
    buf_put_u32(&b, TREEMSG_PART_MAGIC);
    buf_put_u64(&b, round);
    buf_put_u32(&b, to);
    buf_put_u32(&b, from);
    buf_put_u32(&b, nodes);
    buf_put_u32(&b, (uint32_t)ncover);
    for (size_t i = 0; i < ncover; i++)
        buf_put_u32(&b, cover[i]);
    buf_put(&b, res, res_len);
    return blob_from_buf(&b, "tree part", err, errlen);
}

int treemsg_decode_part(const void *buf, size_t len, uint32_t fanin, treemsg_part_t *out, char *err,
                        size_t errlen) {
    memset(out, 0, sizeof *out);
    bufrd_t r = bufrd_init(buf, len);
    uint32_t magic = bufrd_u32(&r);
    treemsg_part_t p = {.round = bufrd_u64(&r)};
    p.to = bufrd_u32(&r);
    p.from = bufrd_u32(&r);
    p.nodes = bufrd_u32(&r);
    uint32_t ncover = bufrd_u32(&r);
    if (r.bad || magic != TREEMSG_PART_MAGIC) {
        snprintf(err, errlen, "tree part: bad magic or %zu bytes is too short", len);
        return -1;
    }
    if ((size_t)ncover > bufrd_left(&r) / 4) {
        snprintf(err, errlen, "tree part: %u covered nodes cannot fit in %zu bytes", ncover, len);
        return -1;
    }
    p.ncover = ncover;
    p.cover = malloc((ncover ? ncover : 1) * sizeof *p.cover);
    if (!p.cover) {
        snprintf(err, errlen, "out of memory for a tree part");
        return -1;
    }
    for (uint32_t i = 0; i < ncover; i++)
        p.cover[i] = bufrd_u32(&r);
    if (check_part(p.to, p.from, p.nodes, p.cover, p.ncover, fanin, err, errlen) < 0) {
        free(p.cover);
        return -1;
    }
    p.res_len = bufrd_left(&r);
    p.res = bufrd_take(&r, p.res_len);
    *out = p;
    return 0;
}

void treemsg_part_free(treemsg_part_t *p) {
    if (!p) return;
    free(p->cover);
    memset(p, 0, sizeof *p);
}

/* ---- COLS ---- */

blob_t *treemsg_encode_cols(uint32_t n, const uint32_t *cols, uint32_t k, const void *res,
                            size_t res_len, char *err, size_t errlen) {
    if (n == 0 || n > TRONMSG_MAX_N || k > n || (!cols && k != n)) {
        snprintf(err, errlen, "tree columns: %u of %u", k, n);
        return NULL;
    }
    for (uint32_t j = 0; cols && j < k; j++)
        if (cols[j] >= n || (j > 0 && cols[j] <= cols[j - 1])) {
            snprintf(err, errlen, "tree columns: column %u out of order", cols[j]);
            return NULL;
        }
    buf_t b = {0};
    buf_grow(&b, 12 + (cols ? 4 * (size_t)k : 0) + res_len);
    buf_put_u32(&b, TREEMSG_COLS_MAGIC);
    buf_put_u32(&b, n);
    buf_put_u32(&b, cols ? k : TREEMSG_ALL_COLS);
    uint8_t *p = cols ? buf_extend(&b, 4 * (size_t)k) : NULL;
    for (uint32_t j = 0; p && j < k; j++)
        proto_put_u32(p + 4 * (size_t)j, cols[j]);
    buf_put(&b, res, res_len);
    return blob_from_buf(&b, "tree answer", err, errlen);
}

int treemsg_decode_cols(const void *buf, size_t len, treemsg_cols_t *out, char *err,
                        size_t errlen) {
    memset(out, 0, sizeof *out);
    bufrd_t r = bufrd_init(buf, len);
    uint32_t magic = bufrd_u32(&r);
    if (r.bad) {
        snprintf(err, errlen, "tree answer: %zu bytes is too short", len);
        return -1;
    }
    if (magic == TRONMSG_RES_MAGIC) { /* a plain answer: all columns */
        if (tronmsg_decode_res(buf, len, &out->res, err, errlen) < 0) return -1;
        if (out->res.m != out->res.n) {
            snprintf(err, errlen, "tree answer: %u of %u columns without their list", out->res.m,
                     out->res.n);
            tronmsg_res_free(&out->res);
            return -1;
        }
        out->n = out->k = out->res.n;
        out->all = true;
        return 0;
    }
    uint32_t n = bufrd_u32(&r), k = bufrd_u32(&r);
    bool all = k == TREEMSG_ALL_COLS;
    if (r.bad || magic != TREEMSG_COLS_MAGIC || n == 0 || n > TRONMSG_MAX_N ||
        (!all && (k > n || (size_t)k > bufrd_left(&r) / 4))) {
        snprintf(err, errlen, "tree answer: bad magic or sizes (%zu bytes)", len);
        return -1;
    }
    uint32_t *cols = NULL;
    if (!all) {
        cols = malloc(((size_t)k + 1) * sizeof *cols);
        if (!cols) {
            snprintf(err, errlen, "out of memory for a tree answer");
            return -1;
        }
        for (uint32_t j = 0; j < k; j++) {
            cols[j] = bufrd_u32(&r);
            if (cols[j] >= n || (j > 0 && cols[j] <= cols[j - 1])) {
                snprintf(err, errlen, "tree answer: column %u out of order", cols[j]);
                free(cols);
                return -1;
            }
        }
    }
    size_t left = bufrd_left(&r);
    if (tronmsg_decode_res(bufrd_take(&r, left), left, &out->res, err, errlen) < 0) {
        free(cols);
        return -1;
    }
    uint32_t m = all ? n : k;
    if (out->res.n != n || out->res.m != m) {
        snprintf(err, errlen, "tree answer: %u of %u columns, its vectors %u of %u", m, n,
                 out->res.m, out->res.n);
        tronmsg_res_free(&out->res);
        free(cols);
        return -1;
    }
    out->n = n;
    out->k = m;
    out->all = all;
    out->cols = cols;
    return 0;
}

void treemsg_cols_free(treemsg_cols_t *c) {
    if (!c) return;
    free(c->cols);
    tronmsg_res_free(&c->res);
    memset(c, 0, sizeof *c);
}

/* ---- adding answers ---- */

static bool additive(uint32_t op) {
    return op == TRONMSG_FUN || op == TRONMSG_GRAD || op == TRONMSG_FUNGRAD || op == TRONMSG_HV;
}

/* The union of the inputs' columns, merged from their sorted lists (NULL
 * with *nu = n when one holds all; nothing is allocated past what the
 * inputs hold). */
static int union_cols(const treemsg_cols_t *in, size_t k, uint32_t **out, uint32_t *nu) {
    size_t total = 0, at[1 + TREEMSG_MAX_FANIN] = {0};
    *out = NULL;
    *nu = in[0].n;
    for (size_t i = 0; i < k; i++) {
        if (in[i].all) return 0;
        total += in[i].k;
    }
    uint32_t *u = malloc((total + 1) * sizeof *u), c = 0;
    if (!u) return -1;
    for (;;) {
        uint32_t best = UINT32_MAX;
        for (size_t i = 0; i < k; i++)
            if (at[i] < in[i].k && in[i].cols[at[i]] < best) best = in[i].cols[at[i]];
        if (best == UINT32_MAX) break;
        u[c++] = best;
        for (size_t i = 0; i < k; i++)
            if (at[i] < in[i].k && in[i].cols[at[i]] == best) at[i]++;
    }
    *out = u;
    *nu = c;
    return 0;
}

/* pos[j]: where input column j lands among the union's (u NULL: all n). */
static void positions(const treemsg_cols_t *in, const uint32_t *u, uint32_t nu, uint32_t *pos) {
    uint32_t g = 0;
    for (uint32_t j = 0; j < in->k; j++) {
        uint32_t c = in->all ? j : in->cols[j];
        if (!u) {
            pos[j] = c;
            continue;
        }
        while (g < nu && u[g] < c)
            g++;
        pos[j] = g;
    }
}

/* The inputs agree on n, count and every item's cls, fold and op, and
 * every item adds. */
static int addable(const treemsg_cols_t *in, size_t k, char *err, size_t errlen) {
    if (k == 0 || k > 1 + TREEMSG_MAX_FANIN) {
        snprintf(err, errlen, "tree sum: %zu answers to add", k);
        return -1;
    }
    const tronmsg_res_t *a0 = &in[0].res;
    for (size_t i = 0; i < k; i++) {
        const tronmsg_res_t *r = &in[i].res;
        if (in[i].n != in[0].n || r->n != in[0].n || r->m != in[i].k || r->count != a0->count) {
            snprintf(err, errlen, "tree sum: answer %zu has %zu items of %u, want %zu of %u", i,
                     r->count, r->n, a0->count, a0->n);
            return -1;
        }
        for (size_t q = 0; q < a0->count; q++) {
            const tronmsg_ans_t *x = &r->ans[q], *y = &a0->ans[q];
            if (!additive(x->op) || x->op != y->op || x->cls != y->cls || x->fold != y->fold) {
                snprintf(err, errlen, "tree sum: item %zu of answer %zu does not add", q, i);
                return -1;
            }
        }
    }
    return 0;
}

blob_t *treemsg_add(const treemsg_cols_t *in, size_t k, char *err, size_t errlen) {
    if (addable(in, k, err, errlen) < 0) return NULL;
    const tronmsg_res_t *a0 = &in[0].res;
    uint32_t *u = NULL, nu = 0, *pos = NULL;
    size_t nv = 0, maxk = 0;
    for (size_t q = 0; q < a0->count; q++)
        nv += a0->ans[q].op == TRONMSG_HV ? 1 : a0->ans[q].op == TRONMSG_FUN ? 0 : 2;
    for (size_t i = 0; i < k; i++)
        maxk = in[i].k > maxk ? in[i].k : maxk;
    tronmsg_ans_t *ans = calloc(a0->count ? a0->count : 1, sizeof *ans);
    double *store = NULL, *p;
    blob_t *sum = NULL, *out = NULL;
    /* without vectors (FUN items only) the sum holds no column */
    static const uint32_t none[1] = {0};
    int urc = nv ? union_cols(in, k, &u, &nu) : 0;
    if (!nv) maxk = 0;
    if (!ans || urc < 0 || !(pos = malloc((maxk + 1) * sizeof *pos)) ||
        !(store = calloc(nv * (size_t)nu + 1, sizeof *store))) {
        snprintf(err, errlen, "out of memory adding tree answers");
        goto out;
    }
    p = store;
    for (size_t q = 0; q < a0->count; q++) {
        tronmsg_ans_t *s = &ans[q];
        *s = (tronmsg_ans_t){.cls = a0->ans[q].cls,
                             .fold = a0->ans[q].fold,
                             .op = a0->ans[q].op,
                             .flags = a0->ans[q].flags};
        if (s->op == TRONMSG_HV) {
            s->hv = p, p += nu;
        } else if (s->op != TRONMSG_FUN) {
            s->g = p, p += nu;
            s->diag = p, p += nu;
        }
    }
    /* input by input, in order: each coordinate's sum is 0 + a + b + ...
     * over the inputs that hold it, the same as over dense vectors */
    for (size_t i = 0; i < k; i++) {
        if (nv) positions(&in[i], u, nu, pos);
        for (size_t q = 0; q < a0->count; q++) {
            const tronmsg_ans_t *a = &in[i].res.ans[q];
            tronmsg_ans_t *s = &ans[q];
            s->f += a->f;
            if (s->hv)
                for (uint32_t j = 0; j < in[i].k; j++)
                    ((double *)s->hv)[pos[j]] += a->hv[j];
            if (s->g)
                for (uint32_t j = 0; j < in[i].k; j++) {
                    ((double *)s->g)[pos[j]] += a->g[j];
                    ((double *)s->diag)[pos[j]] += a->diag[j];
                }
        }
    }
    sum = tronmsg_encode_res(a0->n, nv ? nu : 0, ans, a0->count, err, errlen);
    if (sum)
        out = treemsg_encode_cols(a0->n, nv ? u : none, nv ? nu : 0, sum->data, sum->len, err,
                                  errlen);
out:
    free(ans);
    free(store);
    free(u);
    free(pos);
    blob_unref(&sum);
    return out;
}
